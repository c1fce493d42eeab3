"""Locust tasks for benchmarks/http_bench.py (run by it as `locust --headless`, one run a
measured phase; not meant to be started by hand).

Settings come from the environment that http_bench.py sets:
  HB_TASKS         "name:weight,name:weight" (the tasks below this run picks from)
  HB_COOKIE        the logged-in recruiter's cookies ("a=b; c=d"), for staff pages
  HB_USER_AGENT    the User-Agent that session was started with
  HB_IDS           public ids of candidates the recruiter may open, comma-separated
  HB_PDF           the CV file posted with each application
  HB_MAX_REQUESTS  stop after this many requests (0: run for --run-time)
  HB_OUT           where to write the timings (JSON) when the run ends

Timings are taken here from locust's request events, not from its CSV: exact
percentiles (locust rounds them) and req/s over the window in which requests ran.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import uuid
from http.cookiejar import DefaultCookiePolicy

from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

BASE = os.environ.get("HB_BASE", "")
COOKIE = os.environ.get("HB_COOKIE", "")
USER_AGENT = os.environ.get("HB_USER_AGENT", "http-bench")
IDS = [i for i in os.environ.get("HB_IDS", "").split(",") if i]
PDF = open(os.environ["HB_PDF"], "rb").read() if os.environ.get("HB_PDF") else b""
MAX_REQUESTS = int(os.environ.get("HB_MAX_REQUESTS", "0"))
OUT = os.environ.get("HB_OUT", "")

# As benchmarks/search_bench.py: skills of the fictitious pool, 1, 2 and 3 words.
QUERIES = {
    1: ["python", "kafka", "rust", "terraform", "haskell", "leuven", "engineer"],
    2: ["python docker", "kafka spark", "data engineer", "java spring", "react typescript"],
    3: ["python docker linux", "kafka spark airflow", "azure terraform kubernetes",
        "master computer science"],
}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SET_COOKIE = re.compile(r"(?:^|,\s*)([A-Za-z0-9_.-]+)=([^;,]*)")

_times: dict[str, list[float]] = {}
_failures: dict[str, list[str]] = {}
_window = [float("inf"), 0.0]
_count = [0]


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None,
            context=None, exception=None, start_time=None, **_kw) -> None:
    if name.startswith("(setup)"):
        return
    end = time.time()
    begin = start_time if start_time is not None else end - response_time / 1000
    _window[0] = min(_window[0], begin)
    _window[1] = max(_window[1], end)
    if exception is not None:
        _failures.setdefault(name, []).append(str(exception)[:200])
    else:
        _times.setdefault(name, []).append(response_time)
    _count[0] += 1
    if MAX_REQUESTS and _count[0] >= MAX_REQUESTS:
        runner = events_environment[0].runner if events_environment else None
        if runner is not None:
            import gevent

            gevent.spawn(runner.quit)


events_environment: list = []


@events.init.add_listener
def _init(environment, **_kw) -> None:
    events_environment.append(environment)


@events.quitting.add_listener
def _write(environment, **_kw) -> None:
    if OUT:
        with open(OUT, "w") as out:
            json.dump({"times": _times, "failures": _failures,
                       "window": [_window[0], _window[1]], "count": _count[0]}, out)


def _multipart(fields: list[tuple[str, str]], file_field: str, filename: str,
               content: bytes) -> tuple[bytes, str]:
    boundary = "----httpbench" + uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                 f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                 + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _cookies_from(response) -> str:
    """The cookies a response sets, as a Cookie header (the app sets at most a few)."""
    values = response.headers.get_all("Set-Cookie") if hasattr(response.headers, "get_all") \
        else [response.headers.get("Set-Cookie") or ""]
    pairs = []
    for header in values or []:
        first = (header or "").split(";", 1)[0]
        if "=" in first:
            pairs.append(first.strip())
    return "; ".join(pairs)


def _weights() -> list[tuple[str, int]]:
    spec = os.environ.get("HB_TASKS", "healthz:1")
    out = []
    for item in spec.split(","):
        name, _, weight = item.partition(":")
        out.append((name.strip(), int(weight or 1)))
    return out


class Visitor(FastHttpUser):
    # No think time: each simulated client sends its next request as soon as the last
    # one is answered (closed loop), so concurrency is the number of users.
    wait_time = constant(0)
    host = BASE

    def on_start(self) -> None:
        # Cookies are set by hand on each request (the staff session, or the one the
        # application form just gave): a jar would carry one page's cookies into another.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def _staff(self) -> dict[str, str]:
        return {"Cookie": COOKIE, "User-Agent": USER_AGENT}

    def healthz(self) -> None:
        self.client.get("/healthz", name="healthz")

    def login(self) -> None:
        self.client.get("/login", name="login page", headers={"User-Agent": USER_AGENT})

    def apply_form(self) -> None:
        self.client.get("/apply", name="apply form", headers={"User-Agent": USER_AGENT})

    def apply_post(self) -> None:
        page = self.client.get("/apply", name="(setup) apply form for its token",
                               headers={"User-Agent": USER_AGENT})
        token = CSRF.search(page.text or "")
        if token is None:
            raise StopUser("no CSRF token on the application form")
        fields = [("csrf_token", token.group(1)), ("full_name", "Bench Applicant"),
                  ("email", f"bench.{uuid.uuid4().hex[:12]}@applicant.example"),
                  ("phone", "+32 470 11 22 33"), ("position", "Data engineer"),
                  ("education-0-degree", "Master of Science"),
                  ("education-0-field", "Computer Science"),
                  ("education-0-institution", "Ghent University"), ("education-0-year", "2019"),
                  ("interests", "cycling, open source"), ("age", "29"), ("gender", "female"),
                  ("consent_application", "y"), ("companies", "Ingenium")]
        body, content_type = _multipart(fields, "cv", "cv.pdf", PDF)
        # What a browser sends with a form of this site (the origin check, vault/csrf.py).
        headers = {"Content-Type": content_type, "Cookie": _cookies_from(page),
                   "Origin": BASE, "Referer": BASE + "/apply", "Sec-Fetch-Site": "same-origin",
                   "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
                   "User-Agent": USER_AGENT}
        with self.client.post("/apply", data=body, headers=headers, name="apply POST (200 KB PDF)",
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")

    def _search(self, words: int, name: str = "") -> None:
        q = random.choice(QUERIES[words])
        name = name or f"search {words} word" + ("s" if words > 1 else "")
        with self.client.get(f"/candidates?q={q.replace(' ', '+')}", name=name,
                             headers=self._staff(),
                             catch_response=True) as response:
            # A lost session would show the login page with 200: count it as a failure.
            if response.status_code != 200 or 'name="q"' not in (response.text or ""):
                response.failure(f"status {response.status_code} or not the search page")

    def search1(self) -> None:
        self._search(1)

    def search2(self) -> None:
        self._search(2)

    def search3(self) -> None:
        self._search(3)

    def search(self) -> None:
        self._search(random.choice((1, 2, 3)), "search page (1, 2 or 3 words)")

    def candidate(self) -> None:
        with self.client.get(f"/candidates/{random.choice(IDS)}", name="candidate page",
                             headers=self._staff(), catch_response=True) as response:
            if response.status_code != 200 or "/cv" not in (response.text or ""):
                response.failure(f"status {response.status_code} or not the candidate page")

    def cv(self) -> None:
        with self.client.get(f"/candidates/{random.choice(IDS)}/cv", name="CV download",
                             headers=self._staff(), catch_response=True) as response:
            if response.status_code != 200 or not (response.content or b"").startswith(b"%PDF"):
                response.failure(f"status {response.status_code} or not a PDF")

    @task
    def one(self) -> None:
        names, weights = zip(*_weights(), strict=True)
        getattr(self, random.choices(names, weights)[0])()
