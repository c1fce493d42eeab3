"""HTTP benchmark (issue 15, "Over HTTP"): the app under gunicorn on PostgreSQL, driven
from outside by locust.

What it does, in one run:

1. Creates a PostgreSQL database of its own (a unique name, dropped at the end) and an
   instance folder (secret key, keyring) in a temporary directory; migrates; seeds
   `--size` fictitious candidates with `vault seed-demo` (in `--seed-jobs` processes
   with different seeds, the first one alone so that it creates the vacancies); creates
   a recruiter with `vault create-user` and enrols an authenticator app for it through
   the TOTP service, as tests/conftest.py does.
2. Starts gunicorn with gunicorn.conf.py (`--workers`, default 4; `--max-requests 0`,
   see below), logs the recruiter in through the login form and its second step (the
   code computed with pyotp from the sealed secret), and finds candidates it may open.
3. For each page, one locust run of `--seconds` at `--users` concurrent clients: req/s
   and p50/p95/p99. Pages: /healthz, GET /apply, POST /apply with a 200 KB PDF, the
   search page with 1, 2 and 3 words, a candidate page, a CV download.
4. Search against the login page (GET /login: the same templates, no data), with 1 and
   with 8 concurrent clients: `--pairs` short rounds interleaved (login, search, search,
   login, ...: each pair's order alternates), the ratio search req/s / login req/s of
   each pair; median and spread. Target: at least 0.5.
5. In this process (the app built from the same settings, on the same database): POSTs
   of the application form with the 200 KB PDF through the WSGI app, with timing
   wrappers, installed here only, around sealing (envelope.seal_text, seal_bytes), key
   wrapping (new_data_key, the KEK backend's wrap) and indexing (record_index,
   seal_card, BlindIndex.exact); their share of the request's server time. Target: at
   most 10%.
   With `--statements`, each statement of a search page and of the login page, timed
   in this process.
6. Memory: a fresh gunicorn, mixed traffic; VmRSS of each worker (/proc/<pid>/status)
   after 1,000 and after 10,000 requests. Target: at most 1.2x. gunicorn.conf.py
   replaces each worker after about 2,000 requests (max_requests); that would hide any
   growth, so the whole benchmark runs with `--max-requests 0` (the one setting changed
   from the production file, besides workers and bind).

Settings differing from production, and why: VAULT_HTTPS=false (no nginx and no TLS in
front: Secure cookies would not come back over http://); VAULT_RATELIMIT_ENABLED=0 (the
application form allows 20 an hour per address; documented in vault/config.py as the
switch for load tests). Encryption has no switch and is not touched.

Prints figures; asserts nothing.
Run: .venv/bin/python benchmarks/http_bench.py --size 2000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).resolve().parent / "http_locustfile.py"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench horse battery staple 42"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) http-bench"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CANDIDATE_LINK = re.compile(r'href="/candidates/([A-Za-z0-9_-]{6,})(?:\?[^"]*)?"')

PAGES = [  # (locust task, label)
    ("healthz", "healthz"),
    ("apply_form", "apply form"),
    ("apply_post", "apply POST (200 KB PDF)"),
    ("search1", "search 1 word"),
    ("search2", "search 2 words"),
    ("search3", "search 3 words"),
    ("candidate", "candidate page"),
    ("cv", "CV download"),
]
MIXED = ("healthz:1,login:1,apply_form:2,apply_post:1,search1:2,search2:2,search3:2,"
         "candidate:2,cv:1")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------- the database and server


@contextmanager
def own_database(keep: bool) -> Iterator[str]:
    import psycopg

    name = f"vault_httpbench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vault_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(BIN / "vault"), *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"vault {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def seed(env: dict[str, str], size: int, jobs: int) -> float:
    """Seconds to seed `size` candidates with `vault seed-demo`."""
    started = time.perf_counter()
    first = max(1, min(size, 200)) if jobs > 1 else size
    vault_cli(env, "seed-demo", str(first), "--seed", "1")
    rest = size - first
    if rest:
        shares = [rest // jobs + (1 if i < rest % jobs else 0) for i in range(jobs)]
        procs = [subprocess.Popen([str(BIN / "vault"), "seed-demo", str(n), "--seed",
                                   str(i + 2)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
                 for i, n in enumerate(shares) if n]
        for proc in procs:
            _out, err = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"seed-demo failed:\n{err[-2000:]}")
    return time.perf_counter() - started


class Server:
    """gunicorn with the production settings file."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path) -> None:
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--workers",
                 str(self.workers), "--max-requests", "0", "--bind",
                 f"127.0.0.1:{self.port}"], env=self.env, cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT)
        import requests

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200 \
                        and len(self.worker_pids()) == self.workers:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"gunicorn did not answer; see {self.log}")

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def rss_kib(self) -> dict[int, int]:
        out = {}
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[pid] = int(line.split()[1])
        return out


# ---------------------------------------------------------------- the recruiter


def in_process_app(env: dict[str, str]):
    """The app in this process, from the same settings as the server's."""
    os.environ.update(env)
    from vault import create_app

    return create_app()


def enrol_recruiter(app, email: str) -> int:
    """An authenticator app for the account, as its owner would enrol it (tests/conftest.py
    enrol_totp does the same)."""
    from vault.appctx import now, vault_keys
    from vault.extensions import db
    from vault.services import totp
    from vault.services.users import find_by_email

    with app.app_context():
        user = find_by_email(db.session, email)
        assert user is not None
        secret = totp.new_secret()
        totp.store_secret(vault_keys(), user, secret)
        user.totp_enabled_at = now()
        db.session.commit()
        return user.id


_USED_CODES: set[tuple[int, str]] = set()


def current_code(app, user_id: int) -> str:
    """The authenticator's code now. The vault accepts a code once (a replayed code is
    refused), so a second log-in within the same 30 s waits for the next code, as a
    person would."""
    from vault.appctx import now, vault_keys
    from vault.extensions import db
    from vault.models import User
    from vault.services import totp

    while True:
        with app.app_context():
            user = db.session.get(User, user_id)
            code = totp.code_at(totp.open_secret(vault_keys(), user), now())
        if (user_id, code) not in _USED_CODES:
            _USED_CODES.add((user_id, code))
            return code
        time.sleep(1)


def browser_post_headers(base: str, page: str) -> dict[str, str]:
    # What a browser sends with a form of this site (the origin check, vault/csrf.py).
    return {"Origin": base, "Referer": base + page, "Sec-Fetch-Site": "same-origin",
            "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
            "User-Agent": USER_AGENT}


def log_in(base: str, app, user_id: int, email: str):
    """A requests session logged in through /login and /login/second-factor."""
    import requests

    browser = requests.Session()
    browser.headers["User-Agent"] = USER_AGENT
    page = browser.get(f"{base}/login")
    token = CSRF.search(page.text)
    assert token, "no CSRF token on /login"
    step = browser.post(f"{base}/login", data={"csrf_token": token.group(1), "email": email,
                                              "password": PASSWORD},
                        headers=browser_post_headers(base, "/login"), allow_redirects=False)
    assert step.status_code == 302 and "second-factor" in step.headers["Location"], \
        f"login: {step.status_code}"
    page = browser.get(f"{base}/login/second-factor")
    token = CSRF.search(page.text)
    assert token, "no CSRF token on the second step"
    done = browser.post(f"{base}/login/second-factor",
                        data={"csrf_token": token.group(1), "code": current_code(app, user_id)},
                        headers=browser_post_headers(base, "/login/second-factor"),
                        allow_redirects=False)
    assert done.status_code == 302 and "second-factor" not in done.headers["Location"], \
        f"second step: {done.status_code} {done.headers.get('Location')}"
    return browser


def visible_candidates(browser, base: str) -> list[str]:
    ids: list[str] = []
    for q in ("python", "engineer", "data", "java", "kafka"):
        ids += CANDIDATE_LINK.findall(browser.get(f"{base}/candidates", params={"q": q}).text)
    ids = list(dict.fromkeys(ids))
    # Only those with a CV (every demo candidate has one; checked on a few).
    assert ids, "the recruiter sees no candidates"
    for public_id in ids[:3]:
        response = browser.get(f"{base}/candidates/{public_id}/cv")
        assert response.status_code == 200 and response.content.startswith(b"%PDF"), \
            f"CV download of {public_id}: {response.status_code}"
    return ids


# ---------------------------------------------------------------- the PDF


def cv_pdf(target: int = 200 * 1024) -> bytes:
    """A CV as people send it: three pages of text in an embedded TrueType font, and a
    photo; the photo's size brings the file to about `target` bytes. reportlab, as
    tests/files.py."""
    import reportlab
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from vault.services.demo import people

    font = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    pdfmetrics.registerFont(TTFont("BenchVera", str(font)))
    person = next(iter(people(1, seed=99)))
    words = (person.data.cv.text if person.data.cv else "").split()
    body = " ".join((words * 4)[:900])  # about three pages

    def build(photo_side: int) -> bytes:
        out = io.BytesIO()
        page = canvas.Canvas(out, pagesize=(595, 842))
        rng = random.Random(7)
        from PIL import Image

        photo = Image.frombytes("RGB", (photo_side, photo_side),
                                bytes(rng.getrandbits(8) for _ in range(photo_side ** 2 * 3)))
        buffer = io.BytesIO()
        photo.save(buffer, format="JPEG", quality=90)
        buffer.seek(0)
        page.drawImage(ImageReader(buffer), 440, 690, 110, 110)
        line, y = "", 660
        page.setFont("BenchVera", 11)
        page.drawString(72, 760, "Curriculum vitae")
        for word in body.split():
            if len(line) + len(word) > 85:
                page.drawString(72, y, line)
                line, y = "", y - 15
                if y < 72:
                    page.showPage()
                    page.setFont("BenchVera", 11)
                    y = 770
            line = f"{line} {word}".strip()
        page.drawString(72, y, line)
        page.showPage()
        page.save()
        return out.getvalue()

    side = 200
    for _ in range(8):  # JPEG of noise: bytes grow with the square of the side
        content = build(side)
        if abs(len(content) - target) < target * 0.03:
            break
        side = max(16, int(side * (target / len(content)) ** 0.5 * 1.0))
    return content


# ---------------------------------------------------------------- locust


@dataclass
class Run:
    label: str
    count: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    failure_sample: str = ""


def locust(base: str, tasks: str, users: int, seconds: float, env_extra: dict[str, str],
           work: Path, max_requests: int = 0) -> dict[str, Run]:
    out = work / f"locust-{secrets.token_hex(4)}.json"
    env = {**os.environ, **env_extra, "HB_TASKS": tasks, "HB_BASE": base, "HB_OUT": str(out),
           "HB_MAX_REQUESTS": str(max_requests), "HB_USER_AGENT": USER_AGENT}
    run_time = f"{int(seconds)}s" if not max_requests else "3600s"
    done = subprocess.run(
        [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
         "--spawn-rate", str(users), "--run-time", run_time, "--host", base,
         "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "30"],
        env=env, capture_output=True, text=True, check=False)
    if not out.exists():
        raise SystemExit(f"locust wrote nothing:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    data = json.loads(out.read_text())
    out.unlink()
    window = max(1e-9, data["window"][1] - data["window"][0])
    runs = {}
    for name in set(data["times"]) | set(data["failures"]):
        times = data["times"].get(name, [])
        failed = data["failures"].get(name, [])
        runs[name] = Run(name, len(times), len(failed), len(times) / window,
                         percentile(times, 0.50) if times else float("nan"),
                         percentile(times, 0.95) if times else float("nan"),
                         percentile(times, 0.99) if times else float("nan"),
                         failed[0] if failed else "")
    return runs


def one_page(base: str, task: str, label: str, users: int, seconds: float,
             env_extra: dict[str, str], work: Path) -> Run:
    runs = locust(base, f"{task}:1", users, seconds, env_extra, work)
    run = runs.get(label)
    if run is None:
        raise SystemExit(f"no requests recorded for {label}: {runs}")
    if run.failures:
        print(f"  ! {label}: {run.failures} failed, e.g. {run.failure_sample}")
    return run


# ---------------------------------------------------------------- in process: crypto share


class Stopwatch:
    """Time spent inside wrapped functions, by category; a call inside another wrapped
    call counts for the outer one only (seal_card seals: that is indexing)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.local = threading.local()

    def wrap(self, category: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            if getattr(self.local, "depth", 0):
                return fn(*args, **kwargs)
            self.local.depth = 1
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[category] = self.spent.get(category, 0.0) + \
                    time.perf_counter() - started
                self.local.depth = 0

        timed.__wrapped__ = fn  # type: ignore[attr-defined]
        return timed


def install_stopwatch(watch: Stopwatch) -> None:
    """Replace the functions, wherever a vault module imported them by name, by timed
    ones. In this process only: the product has no such switch."""
    from vault.crypto import blind_index, envelope, kek_backend
    from vault.services import indexing

    targets = {
        "sealing": [(envelope, "seal_text"), (envelope, "seal_bytes")],
        "key wrapping": [(envelope, "new_data_key"), (envelope, "wrap_data_key"),
                         (kek_backend.FileKekBackend, "wrap")],
        "indexing": [(indexing, "record_index"), (indexing, "seal_card"),
                     (blind_index.BlindIndex, "exact")],
    }
    for category, places in targets.items():
        for owner, name in places:
            original = getattr(owner, name)
            timed = watch.wrap(category, original)
            if isinstance(owner, type):
                setattr(owner, name, timed)
                continue
            for module in list(sys.modules.values()):
                if getattr(module, "__name__", "").startswith("vault") and \
                        getattr(module, name, None) is original:
                    setattr(module, name, timed)


def crypto_share(app, pdf: bytes, posts: int) -> dict[str, object]:
    """POST /apply with the PDF through the WSGI app; the wrapped functions' share of
    each request's server time (the WSGI call, response included)."""
    from werkzeug.test import EnvironBuilder

    watch = Stopwatch()
    install_stopwatch(watch)
    server_time = [0.0]
    inner = app.wsgi_app

    def measured(environ, start_response):
        started = time.perf_counter()
        try:
            body = inner(environ, start_response)
            return [b"".join(body)]
        finally:
            server_time[0] += time.perf_counter() - started

    app.wsgi_app = measured
    client = app.test_client()
    base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    shares, servers, parts = [], [], []
    for number in range(posts + 2):  # the first two warm up (imports, caches)
        client.delete_cookie("session", domain=urlsplit(base).hostname or "localhost")
        page = client.get("/apply", base_url=base, headers={"User-Agent": USER_AGENT})
        token = CSRF.search(page.get_data(as_text=True))
        assert token, "no CSRF token on the application form"
        watch.spent.clear()
        server_time[0] = 0.0
        data = {"csrf_token": token.group(1), "full_name": "Bench Applicant",
                "email": f"bench.{secrets.token_hex(6)}@applicant.example",
                "phone": "+32 470 11 22 33", "position": "Data engineer",
                "education-0-degree": "Master of Science",
                "education-0-field": "Computer Science",
                "education-0-institution": "Ghent University", "education-0-year": "2019",
                "interests": "cycling, open source", "age": "29", "gender": "female",
                "consent_application": "y", "companies": "Ingenium",
                "cv": (io.BytesIO(pdf), "cv.pdf", "application/pdf")}
        builder = EnvironBuilder(path="/apply", method="POST", data=data,
                                 base_url=base, headers=browser_post_headers(base, "/apply"))
        response = client.open(builder)
        builder.close()
        assert response.status_code == 302, f"application refused: {response.status_code}"
        if number < 2:
            continue
        crypto = sum(watch.spent.values())
        servers.append(server_time[0])
        shares.append(crypto / server_time[0])
        parts.append(dict(watch.spent))
    categories = sorted({c for p in parts for c in p})
    return {
        "server_ms_p50": statistics.median(servers) * 1000,
        "share_median": statistics.median(shares),
        "share_min": min(shares), "share_max": max(shares),
        "by_category_ms": {c: statistics.median(p.get(c, 0.0) for p in parts) * 1000
                           for c in categories},
    }


def profile_apply(app, pdf: bytes, top: int = 25) -> str:
    """cProfile of one application POST through the app (where the server time goes)."""
    import cProfile
    import pstats

    from werkzeug.test import EnvironBuilder

    client = app.test_client()
    base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    page = client.get("/apply", base_url=base, headers={"User-Agent": USER_AGENT})
    token = CSRF.search(page.get_data(as_text=True))
    assert token
    data = {"csrf_token": token.group(1), "full_name": "Bench Applicant",
            "email": f"bench.{secrets.token_hex(6)}@applicant.example",
            "position": "Data engineer", "education-0-degree": "Master of Science",
            "education-0-field": "Computer Science",
            "education-0-institution": "Ghent University", "consent_application": "y",
            "companies": "Ingenium", "cv": (io.BytesIO(pdf), "cv.pdf", "application/pdf")}
    builder = EnvironBuilder(path="/apply", method="POST", data=data, base_url=base,
                             headers=browser_post_headers(base, "/apply"))
    profile = cProfile.Profile()
    profile.enable()
    client.open(builder)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def in_process_client(app, user_id: int, email: str):
    """A test client of the app in this process, logged in through the same two steps
    as a browser; (client, base URL, headers for a GET)."""
    base = app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    client = app.test_client()
    headers = {"User-Agent": USER_AGENT}

    def token(path: str) -> str:
        found = CSRF.search(client.get(path, base_url=base, headers=headers)
                            .get_data(as_text=True))
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    post = browser_post_headers(base, "/login")
    client.post("/login", base_url=base, headers=post, data={
        "csrf_token": token("/login"), "email": email, "password": PASSWORD})
    done = client.post("/login/second-factor", base_url=base, headers=post, data={
        "csrf_token": token("/login/second-factor"), "code": current_code(app, user_id)})
    assert done.status_code == 302, f"second step: {done.status_code}"
    return client, base, headers


def statement_times(app, user_id: int, email: str, paths: list[str], runs: int = 10) -> str:
    """Each page's statements, timed from SQLAlchemy's cursor events around them (so
    the database's time and the round trip), and the whole page, in this process: the
    median of `runs` pages after 3 warm-up pages, statement by statement."""
    from sqlalchemy import event

    from vault.extensions import db

    client, base, headers = in_process_client(app, user_id, email)
    timed: list[tuple[str, float]] = []
    started: list[float] = []

    def before(*_args: object) -> None:
        started.append(time.perf_counter())

    def after(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        timed.append((" ".join(statement.split())[:90], time.perf_counter() - started.pop()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    report = io.StringIO()
    try:
        for path in paths:
            for _ in range(3):
                client.get(path, base_url=base, headers=headers)
            pages: list[float] = []
            by_place: dict[int, list[float]] = {}
            names: dict[int, str] = {}
            for _ in range(runs):
                timed.clear()
                begun = time.perf_counter()
                response = client.get(path, base_url=base, headers=headers)
                pages.append(time.perf_counter() - begun)
                for place, (name, seconds) in enumerate(timed):
                    by_place.setdefault(place, []).append(seconds)
                    names[place] = name
            report.write(f"\n{path}: {response.status_code}, page p50 "
                         f"{statistics.median(pages) * 1000:.1f} ms, {len(timed)} statements\n")
            for place, seconds in sorted(by_place.items()):
                report.write(f"  {statistics.median(seconds) * 1000:7.2f} ms  {names[place]}\n")
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return report.getvalue()


def profile_pages(app, user_id: int, email: str, paths: list[str], top: int = 30) -> str:
    """cProfile of staff pages (and the login page) through the app in this process,
    logged in through the same two steps; cumulative and own time."""
    import cProfile
    import pstats

    client, base, headers = in_process_client(app, user_id, email)
    report = io.StringIO()
    for path in paths:
        client.get(path, base_url=base, headers=headers)  # warm
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for _ in range(5):
            response = client.get(path, base_url=base, headers=headers)
        profile.disable()
        report.write(f"\n{path}: {response.status_code}, "
                     f"{(time.perf_counter() - started) / 5 * 1000:.0f} ms a request\n")
        for key in ("cumulative", "tottime"):
            pstats.Stats(profile, stream=report).sort_stats(key).print_stats(top)
    return report.getvalue()


# ---------------------------------------------------------------- main


def fmt_run(run: Run) -> str:
    return (f"{run.label:<26} {run.rps:8.1f} req/s  p50 {run.p50:7.1f}  p95 {run.p95:7.1f}  "
            f"p99 {run.p99:7.1f} ms  ({run.count} requests, {run.failures} failed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="candidates seeded")
    parser.add_argument("--seed-jobs", type=int, default=2,
                        help="seed-demo processes seeding at once")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--users", type=int, default=4,
                        help="concurrent clients for the per-page table")
    parser.add_argument("--seconds", type=float, default=10, help="one page's locust run")
    parser.add_argument("--pairs", type=int, default=5,
                        help="interleaved login/search pairs per concurrency")
    parser.add_argument("--pair-seconds", type=float, default=6)
    parser.add_argument("--posts", type=int, default=10,
                        help="in-process applications timed for the crypto share")
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--skip", default="",
                        help="comma-separated phases to skip: pages,ratio,crypto,memory")
    parser.add_argument("--profile", action="store_true",
                        help="also print cProfiles of an application POST, a search page "
                             "and the login page (in this process)")
    parser.add_argument("--statements", action="store_true",
                        help="also print each statement's time on the search pages and the "
                             "login page (in this process)")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    def stop(signum: int, _frame: object) -> None:
        # Stopped from outside: leave through the finally blocks (gunicorn stopped, the
        # database dropped, the folder removed).
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)

    work = Path(tempfile.mkdtemp(prefix="httpbench-"))
    instance = work / "instance"
    instance.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results: dict[str, object] = {"size": args.size, "workers": args.workers,
                                  "load_average_start": os.getloadavg()}
    try:
        with own_database(args.keep_db) as url:
            env = {**os.environ, "VAULT_DATABASE_URL": url, "VAULT_INSTANCE_PATH": str(instance),
                   "VAULT_HTTPS": "false", "VAULT_RATELIMIT_ENABLED": "0",
                   "VAULT_PUBLIC_BASE_URL": base, "VAULT_LOG_LEVEL": "WARNING",
                   "PYTHONPATH": str(ROOT)}
            vault_cli(env, "init")
            vault_cli(env, "db", "upgrade")
            print(f"seeding {args.size:,} candidates (vault seed-demo, {args.seed_jobs} jobs)...",
                  flush=True)
            seconds = seed(env, args.size, args.seed_jobs)
            results["seed_seconds"] = seconds
            print(f"  {seconds:.0f} s, {args.size / seconds:.0f} candidates/s", flush=True)
            email = "bench.recruiter@group.example"
            vault_cli(env, "create-user", email, "--role", "recruiter", "--company", "Ingenium",
                      "--password-stdin", stdin=PASSWORD + "\n")
            app = in_process_app(env)
            user_id = enrol_recruiter(app, email)
            pdf = cv_pdf()
            pdf_path = work / "cv.pdf"
            pdf_path.write_bytes(pdf)
            print(f"CV: {len(pdf) / 1024:.0f} KB PDF", flush=True)

            with Server(env, port, args.workers, work / "gunicorn.log") as server:
                browser = log_in(base, app, user_id, email)
                cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
                ids = visible_candidates(browser, base)
                print(f"recruiter logged in; {len(ids)} candidates to open", flush=True)
                extra = {"HB_COOKIE": cookie, "HB_IDS": ",".join(ids[:200]),
                         "HB_PDF": str(pdf_path)}
                if "pages" not in skip:
                    print(f"\npages, {args.users} concurrent clients, {args.seconds:.0f} s each")
                    table = []
                    for task, label in PAGES:
                        run = one_page(base, task, label, args.users, args.seconds, extra, work)
                        table.append(run.__dict__)
                        print(fmt_run(run), flush=True)
                    results["pages"] = table
                if "ratio" not in skip:
                    results["ratio"] = {}
                    for users in (1, 8):
                        ratios, login_rps, search_rps = [], [], []
                        for pair in range(args.pairs):
                            order = ("login", "search") if pair % 2 == 0 else ("search", "login")
                            got = {}
                            for task in order:
                                runs = locust(base, f"{task}:1", users, args.pair_seconds,
                                              extra, work)
                                (run,) = runs.values()
                                if run.failures:
                                    print(f"  ! {run.label}: {run.failures} failed, e.g. "
                                          f"{run.failure_sample}")
                                got[task] = run
                            login_rps.append(got["login"].rps)
                            search_rps.append(got["search"].rps)
                            ratios.append(got["search"].rps / got["login"].rps)
                            print(f"  {users} client(s), pair {pair + 1}: login "
                                  f"{got['login'].rps:.1f} req/s, search "
                                  f"{got['search'].rps:.1f} req/s (p50 "
                                  f"{got['search'].p50:.0f} ms), ratio {ratios[-1]:.2f}",
                                  flush=True)
                        results["ratio"][users] = {
                            "median": statistics.median(ratios), "min": min(ratios),
                            "max": max(ratios), "login_rps": statistics.median(login_rps),
                            "search_rps": statistics.median(search_rps)}
                        r = results["ratio"][users]
                        print(f"search / login req/s, {users} client(s): median {r['median']:.2f}"
                              f" (pairs {r['min']:.2f} to {r['max']:.2f}); target >= 0.50",
                              flush=True)
            if "crypto" not in skip:
                share = crypto_share(app, pdf, args.posts)
                results["crypto"] = share
                parts = ", ".join(f"{c} {ms:.1f} ms" for c, ms in
                                  share["by_category_ms"].items())
                print(f"\napplication with a {len(pdf) / 1024:.0f} KB PDF, in process: server "
                      f"time p50 {share['server_ms_p50']:.0f} ms; sealing + wrapping + indexing"
                      f" {share['share_median']:.1%} (min {share['share_min']:.1%}, max "
                      f"{share['share_max']:.1%}); {parts}; target <= 10%", flush=True)
            if args.statements:
                print(statement_times(app, user_id, email, [
                    "/candidates?q=python", "/candidates?q=python+docker",
                    "/candidates?q=python+docker+linux", "/login"]))
            if args.profile:
                print(profile_apply(app, pdf))
                print(profile_pages(app, user_id, email,
                                    ["/candidates?q=python+docker", "/login"], top=20))
            if "memory" not in skip:
                with Server(env, port, args.workers, work / "gunicorn.log") as server:
                    first = min(1000, args.memory_requests)
                    runs = locust(base, MIXED, 8, 0, extra, work, max_requests=first)
                    served_first = sum(r.count + r.failures for r in runs.values())
                    after_first = server.rss_kib()
                    served = served_first
                    if args.memory_requests > first:
                        runs = locust(base, MIXED, 8, 0, extra, work,
                                      max_requests=args.memory_requests - first)
                        served += sum(r.count + r.failures for r in runs.values())
                    after_all = server.rss_kib()
                    growth = {pid: after_all[pid] / after_first[pid]
                              for pid in after_first if pid in after_all}
                    results["memory"] = {"after_first_kib": after_first,
                                         "after_all_kib": after_all, "growth": growth}
                    # Counted, not assumed: a run stopped early says how far it got.
                    results["memory"]["served"] = [served_first, served]
                    print(f"\nworker RSS after {served_first:,} / {served:,} mixed "
                          f"requests (8 clients):")
                    for pid in after_first:
                        print(f"  worker {pid}: {after_first[pid] / 1024:.1f} MiB -> "
                              f"{after_all.get(pid, 0) / 1024:.1f} MiB, "
                              f"{growth.get(pid, float('nan')):.2f}x; target <= 1.2x")
                    if set(after_first) != set(after_all):
                        print("  ! the workers changed between the readings")
            results["load_average_end"] = os.getloadavg()
            print(f"\nload average at start {results['load_average_start']}, "
                  f"at end {results['load_average_end']}")
            with app.app_context():
                from vault.extensions import db

                db.session.remove()
                db.engine.dispose()
            print(json.dumps(results, default=str))
    finally:
        if args.keep_db:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
