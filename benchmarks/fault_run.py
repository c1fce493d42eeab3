"""Fault run: applications keep arriving while the servers around the app fail.

    .venv/bin/python benchmarks/fault_run.py --applications 60

Everything runs on 127.0.0.1 and belongs to this run: a PostgreSQL database created on
the server at 127.0.0.1:5432 (user postgres, trust authentication) and dropped at the
end, a redis-server on a free port (the rate limits' store), an SMTP server (aiosmtpd)
on a free port, and gunicorn with the repository's gunicorn.conf.py and its workers.
The app is set up as in production: `vault init`, SMTP delivery, delivery after each
response and by `vault send-mail`, rate limits in Redis.

One thread sends the applications one after another, as a browser does: the form, its
CSRF token, a multipart post with a PDF CV. A person who gets an error tries again (up
to three times), as a person would. Meanwhile the main thread injects, at fixed points
of the run:

1. SIGKILL of every gunicorn worker while an application is being posted (the master
   starts new ones);
2. redis-server stopped, and started again on its port a little later;
3. SMTP hung: the mail server is replaced by one that accepts connections and never
   answers, then the real one comes back;
4. a PostgreSQL restart, simulated: the server on 127.0.0.1:5432 is shared with other
   people, so it is NOT restarted. Every connection to this run's own database is
   terminated instead (pg_terminate_backend), which is what the app sees of a restart:
   each pooled connection dies under it at once.

Then `vault send-mail` runs until the queue is empty, and the run prints what was
acknowledged (302 to /applied), stored (records in the database), mailed (delivered to
the SMTP server), acknowledged but lost, stored but answered only with errors, and
records stored twice (a retry after an answer that never arrived). It exits 1 when an
invariant fails: nothing acknowledged is lost, nothing stored was answered only with an
error, every stored application's mail was delivered. Bounded: at most 500 applications,
a deadline for the run and for the mail, every process stopped at the end.
"""

from __future__ import annotations

import argparse
import email
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests import files
from tests.smtp import Inbox, plain_server, silent_server
from tests.stack.servers import (
    Browser,
    clean_env,
    csrf_token,
    free_port,
    make_vacancy_and_staff,
    start,
    stop,
    wait_for_port,
)
from vault import REPO_ROOT

BIN = Path(sys.executable).parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_APPLICATIONS = 500
ATTEMPTS = 3  # a person who sees an error tries again, twice at most


def address(number: int) -> str:
    return f"fault.run.{number}@example.org"


@dataclass
class Outcome:
    acknowledged: set[int] = field(default_factory=set)
    errored: dict[int, list[str]] = field(default_factory=dict)  # every failed attempt
    done: int = 0
    posting: threading.Event = field(default_factory=threading.Event)  # a post in flight


class SmtpSwitch:
    """The SMTP port, answered by a real server or by one that never says a word."""

    def __init__(self, port: int) -> None:
        self.port, self.inbox = port, Inbox()
        self._stack = ExitStack()
        self._stack.enter_context(plain_server(port, self.inbox))

    def hang(self) -> None:
        self._stack.close()
        self._stack = ExitStack()
        self._stack.enter_context(silent_server(self.port))

    def restore(self) -> None:
        self._stack.close()
        self._stack = ExitStack()
        self._stack.enter_context(plain_server(self.port, self.inbox))

    def close(self) -> None:
        self._stack.close()


def send_applications(base: str, slug: str, count: int, outcome: Outcome,
                      deadline: float) -> None:
    for number in range(count):
        for _attempt in range(ATTEMPTS):
            if time.monotonic() > deadline:
                return
            browser = Browser(base)
            try:
                form = browser.get(f"/apply/{slug}")
                if form.status_code != 200:
                    raise RuntimeError(f"form {form.status_code}")
                fields = {
                    "csrf_token": csrf_token(form.text), "full_name": f"Fault Run {number}",
                    "email": address(number), "phone": "+32 470 00 00 00",
                    "position": "Data engineer", "education-0-degree": "Master of Science",
                    "education-0-field": "Computer Science",
                    "education-0-institution": "Ghent University", "education-0-year": "2019",
                    "consent_application": "y"}
                cv = files.pdf_with_text(f"Fault run applicant {number}. Python, Kafka.")
                outcome.posting.set()
                try:
                    answer = browser.post(f"/apply/{slug}", data=fields,
                                          allow_redirects=False,
                                          files={"cv": (f"cv-{number}.pdf", cv,
                                                        "application/pdf")})
                finally:
                    outcome.posting.clear()
                location = urlsplit(answer.headers.get("Location", "")).path
                if answer.status_code == 302 and location == "/applied":
                    outcome.acknowledged.add(number)
                    break
                raise RuntimeError(f"post {answer.status_code}")
            except (requests.RequestException, RuntimeError, AssertionError) as exc:
                outcome.errored.setdefault(number, []).append(
                    f"{exc.__class__.__name__}: {str(exc)[:80]}")
                time.sleep(0.5)
        outcome.done = number + 1


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children (by parent pid, read from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The fields after the command name (in brackets, which may hold spaces).
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            children.append(int(entry.name))
    return children


def wait_until(outcome: Outcome, done: int, deadline: float) -> None:
    while outcome.done < done and time.monotonic() < deadline:
        time.sleep(0.05)


def mailed_numbers(inbox: Inbox) -> Counter[int]:
    by_address = {address(n): n for n in range(MAX_APPLICATIONS)}
    counts: Counter[int] = Counter()
    for raw in list(inbox.messages):
        message = email.message_from_bytes(raw)
        for _name, to in getaddresses(message.get_all("To", [])):
            if to.lower() in by_address:
                counts[by_address[to.lower()]] += 1
    return counts


def stored_numbers(config: dict[str, object], instance: Path, count: int) -> Counter[int]:
    """Records per application, found by the e-mail's blind index (the only way in)."""
    from vault import create_app
    from vault.appctx import vault_keys
    from vault.extensions import db
    from vault.models import Candidate
    from vault.services.candidates import email_index

    app = create_app(config, instance_path=str(instance))
    with app.app_context():
        keys = vault_keys()
        wanted = {email_index(keys, address(n)): n for n in range(count)}
        rows = db.session.execute(select(Candidate.email_index, func.count(Candidate.id))
                                  .group_by(Candidate.email_index)).all()
        db.session.remove()
        db.engine.dispose()
    return Counter({wanted[index]: n for index, n in rows if index in wanted})


def queued_mail(config: dict[str, object], instance: Path) -> int:
    from vault import create_app
    from vault.extensions import db
    from vault.models import utcnow
    from vault.services import mail_queue

    app = create_app(config, instance_path=str(instance))
    with app.app_context():
        stats = mail_queue.stats(db.session, utcnow())
        db.session.remove()
        db.engine.dispose()
    return stats.queued + stats.failed


def run(count: int, workers: int, server_url: str, seconds: float) -> int:
    url = make_url(server_url)
    if url.host not in LOOPBACK:
        raise SystemExit(f"loopback only: {url.host} is not this machine")
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"vault_fault_{os.getpid()}_{os.urandom(3).hex()}"
    root = Path(tempfile.mkdtemp(prefix="vault-fault-"))
    instance, logs = root / "instance", root / "logs"
    instance.mkdir()
    logs.mkdir()
    started: list[subprocess.Popen] = []
    smtp: SmtpSwitch | None = None
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        redis_port, smtp_port, app_port = free_port(), free_port(), free_port()
        base = f"http://127.0.0.1:{app_port}"
        redis_args = [str(_which("redis-server")), "--port", str(redis_port), "--bind",
                      "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(root)]
        redis = start(redis_args, logs / "redis.log")
        started.append(redis)
        wait_for_port(redis_port, redis, logs / "redis.log")
        smtp = SmtpSwitch(smtp_port)

        config = {
            "DATABASE_URL": url.set(database=name).render_as_string(hide_password=False),
            "SECRET_KEY_FILE": str(instance / "secret_key"),
            "KEYRING_FILE": str(instance / "keyring"),
            "ERASURE_LEDGER": str(root / "erasure-ledger.jsonl"),
        }
        env = clean_env(**{f"VAULT_{k}": v for k, v in config.items()})
        # This process reads the database as the app does (blind index, queue depth).
        local: dict[str, object] = {**config, "HTTPS": False, "PUBLIC_BASE_URL": base}
        env.update({
            "VAULT_INSTANCE_PATH": str(instance),
            "VAULT_PUBLIC_BASE_URL": base,
            "VAULT_HTTPS": "false",  # gunicorn straight, no TLS proxy in front
            "VAULT_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{redis_port}/0",
            "VAULT_RATELIMIT_APPLY": "10000 per hour",  # one client sends them all
            "VAULT_MAIL_BACKEND": "smtp",
            "VAULT_MAIL_SMTP_HOST": "127.0.0.1",
            "VAULT_MAIL_SMTP_PORT": str(smtp_port),
            "VAULT_MAIL_SMTP_STARTTLS": "false",
            # Short waits so the run stays short; the same code paths as the defaults.
            "VAULT_MAIL_SMTP_TIMEOUT": "2",
            "VAULT_MAIL_RETRY_BASE_SECONDS": "1",
            "VAULT_MAIL_RETRY_MAX_SECONDS": "2",
            "VAULT_MAIL_CLAIM_SECONDS": "5",
            "PORT": str(app_port),
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_TIMEOUT": "20",
            "GUNICORN_PIDFILE": str(root / "gunicorn.pid"),
            "PROMETHEUS_MULTIPROC_DIR": str(root / "metrics"),
        })
        _vault(env, "init")
        slug = make_vacancy_and_staff(local, instance)
        gunicorn_log = logs / "gunicorn.log"
        gunicorn = start([str(BIN / "gunicorn"), "-c", str(REPO_ROOT / "gunicorn.conf.py")],
                         gunicorn_log, env)
        started.append(gunicorn)
        wait_for_port(app_port, gunicorn, gunicorn_log)

        deadline = time.monotonic() + seconds
        outcome = Outcome()
        sender = threading.Thread(target=send_applications,
                                  args=(base, slug, count, outcome, deadline), daemon=True)
        sender.start()
        faults: list[str] = []

        def at(fraction: float) -> None:
            wait_until(outcome, max(1, int(count * fraction)), deadline)

        at(0.15)
        # Every worker at once, while an application is being posted: whichever worker
        # holds it dies mid-request (the master starts new ones).
        outcome.posting.wait(timeout=10)
        master = int((root / "gunicorn.pid").read_text())
        victims = worker_pids(master)
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        if victims:
            faults.append(f"SIGKILL {len(victims)} worker(s) after {outcome.done} "
                          f"applications, a post in flight: {outcome.posting.is_set()}")
        at(0.3)
        stop(redis)
        faults.append(f"redis stopped after {outcome.done}")
        at(0.45)
        redis = start(redis_args, logs / "redis.log")
        started.append(redis)
        wait_for_port(redis_port, redis, logs / "redis.log")
        faults.append(f"redis started again after {outcome.done}")
        smtp.hang()
        faults.append(f"SMTP hung after {outcome.done}")
        at(0.6)
        with server.connect() as conn:
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).scalar()
        faults.append(f"{killed} PostgreSQL connection(s) of this run's database terminated "
                      f"after {outcome.done}")
        at(0.8)
        smtp.restore()
        faults.append(f"SMTP answering again after {outcome.done}")
        sender.join(max(0.0, deadline - time.monotonic()))
        finished = outcome.done

        mail_deadline = time.monotonic() + 60
        runs = 0
        while time.monotonic() < mail_deadline:
            runs += 1
            _vault(env, "send-mail", check=False)
            if queued_mail(local, instance) == 0:
                break
            time.sleep(1)

        stored = stored_numbers(local, instance, count)
        mailed = mailed_numbers(smtp.inbox)
        lost = sorted(outcome.acknowledged - set(stored))
        stored_but_errored = sorted(set(stored) - outcome.acknowledged)
        unmailed = sorted(set(stored) - set(mailed))
        twice = sorted(n for n, c in stored.items() if c > 1)
        retried = sum(1 for n in outcome.errored if n in outcome.acknowledged)
        left = queued_mail(local, instance)

        print(f"applications sent: {finished} of {count} ({workers} workers)")
        for fault in faults:
            print(f"fault: {fault}")
        print(f"acknowledged (302 to /applied): {len(outcome.acknowledged)}")
        print(f"answered with an error at least once, then acknowledged on a retry: {retried}")
        print(f"never acknowledged: {count - len(outcome.acknowledged)}")
        print(f"stored (applications with a record): {len(stored)}; records: "
              f"{sum(stored.values())}")
        print(f"mailed (applications whose mail reached the SMTP server): {len(mailed)}; "
              f"messages: {sum(mailed.values())}; send-mail runs to empty the queue: {runs}")
        print(f"acknowledged but lost: {len(lost)} {lost or ''}")
        print(f"stored but answered only with errors: {len(stored_but_errored)} "
              f"{stored_but_errored or ''}")
        print(f"stored but not mailed: {len(unmailed)} {unmailed or ''}; "
              f"mail left in the queue: {left}")
        print(f"stored twice (a retry after a lost answer): {len(twice)} {twice or ''}")
        for number, errors in sorted(outcome.errored.items()):
            print(f"  application {number}: {'; '.join(errors)}")
        failures = []
        if lost:
            failures.append("an acknowledged application was lost")
        if stored_but_errored:
            failures.append("a stored application was answered only with errors")
        if unmailed or left:
            failures.append("mail was not delivered")
        if finished < count:
            failures.append("the run did not finish in time")
        for failure in failures:
            print(f"FAILED: {failure}")
        if not failures:
            print("All invariants hold.")
        return 1 if failures else 0
    finally:
        for process in reversed(started):
            gunicorn = process.args[0].endswith("gunicorn")
            stop(process, signal.SIGQUIT if gunicorn else signal.SIGTERM)
        if smtp is not None:
            smtp.close()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _which(name: str) -> str:
    import shutil

    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        raise SystemExit(f"{name} is not installed")
    return path


def _vault(env: dict[str, str], *args: str, check: bool = True) -> None:
    result = subprocess.run([str(BIN / "vault"), *args], env=env, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise SystemExit(f"vault {' '.join(args)} failed:\n{result.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3, choices=range(2, 5))
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server (loopback) the run's database is made on")
    parser.add_argument("--seconds", type=float, default=300,
                        help="deadline for sending the applications")
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every command
    if not 1 <= args.applications <= MAX_APPLICATIONS:
        parser.error(f"--applications is 1 to {MAX_APPLICATIONS}")
    sys.exit(run(args.applications, args.workers, args.database, args.seconds))


if __name__ == "__main__":
    main()
