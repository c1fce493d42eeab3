"""The production stack, started from the repository's own files: gunicorn with
gunicorn.conf.py (the command of deploy/systemd/vault.service), nginx with
deploy/nginx/vault.conf (only ports, paths and a self-signed certificate changed),
PostgreSQL (a database of this session's own) and a Redis server of its own.

A browser's journey runs through nginx over TLS: an application with a PDF CV, the
personal link from the mail, a staff login and a search. Then the logs of every process
are searched for the applicant's values and the link's token.

Select with `-m stack`. Outside CI a missing binary skips it; in CI (CI=true) it fails.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text

from tests import files
from tests.journey import MARK_CV, MARK_EMAIL, MARK_NAME
from tests.stack.servers import (
    PHONE,
    Browser,
    application_fields,
    binary,
    clean_env,
    csrf_token,
    free_port,
    make_vacancy_and_staff,
    missing,
    newest_mail_link,
    start,
    stop,
    wait_for_port,
)
from vault import REPO_ROOT
from vault.database import database_url

pytestmark = pytest.mark.stack

BIN = Path(sys.executable).parent
DEPLOY = REPO_ROOT / "deploy"
STAFF_EMAIL = "rita.stack@group.example"
STAFF_PASSWORD = "correct horse battery staple"


def render_nginx_site(site: str, *, upstream_port: int, tls_port: int, http_port: int,
                      cert: Path, key: Path, logs: Path) -> str:
    """deploy/nginx/vault.conf with this test's ports, paths and certificate, nothing else."""
    replacements = [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;"),
        ("listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;\n", ""),
        ("/etc/letsencrypt/live/vault.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/vault.example.org/privkey.pem", str(key)),
        ("/var/log/nginx/", f"{logs}/"),
    ]
    for old, new in replacements:
        assert old in site, f"deploy/nginx/vault.conf no longer has {old!r}"
        site = site.replace(old, new)
    return site


def _nginx_main(site: Path, run: Path) -> str:
    # Only the frame a Debian nginx.conf gives a site; the site itself is the deploy file.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {run}/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {run}/nginx.pid;\nerror_log {run}/main-error.log;\n"
            "events { worker_connections 128; }\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            f"    access_log off;\n{temp}\n    include {site};\n}}\n")


def _unit_exec_start(unit: str) -> list[str]:
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    command = line.split("=", 1)[1].replace("/srv/vault/.venv/bin", str(BIN))
    return shlex.split(command.replace("/srv/vault", str(REPO_ROOT)))


@dataclass
class Stack:
    base: str  # https through nginx
    app_port: int
    tls_port: int
    env: dict[str, str]
    instance: Path
    logs: list[Path]
    pidfile: Path
    cert: Path
    slug: str
    gunicorn: subprocess.Popen
    secrets: list[str] = field(default_factory=list)

    def vault(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([str(BIN / "vault"), *args], env=self.env, cwd=REPO_ROOT,
                                input=stdin, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    nginx = binary("nginx", "nginx")
    redis_server = binary("redis-server", "redis-server")
    openssl = binary("openssl", "openssl")
    pg_url = database_url(os.environ.get("VAULT_TEST_DATABASE_URL")
                          or "postgresql://postgres@127.0.0.1:5432/postgres")
    server = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect():
            pass
    except Exception:  # noqa: BLE001 - any failure to connect means "not available"
        missing("PostgreSQL on 127.0.0.1:5432")

    root = tmp_path_factory.mktemp("stack")
    run, logs, instance = root / "run", root / "logs", root / "instance"
    for folder in (run, logs, instance):
        folder.mkdir()
    started: list[subprocess.Popen] = []
    name = f"vault_stack_{os.getpid()}_{os.urandom(3).hex()}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        redis_port = free_port()
        redis_log = logs / "redis.log"
        # A Redis of this test's own: the shared one on 6379 is never written to nor flushed.
        started.append(start([redis_server, "--port", str(redis_port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", str(run)],
                              redis_log))
        wait_for_port(redis_port, started[-1], redis_log)

        cert, key = run / "cert.pem", run / "key.pem"
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=30)

        app_port, tls_port, http_port = free_port(), free_port(), free_port()
        base = f"https://127.0.0.1:{tls_port}"
        env = clean_env()
        for line in (DEPLOY / "vault.env.example").read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = v
        env.update({
            "VAULT_DATABASE_URL": server.url.set(database=name).render_as_string(
                hide_password=False),
            "VAULT_INSTANCE_PATH": str(instance),
            "VAULT_SECRET_KEY_FILE": str(instance / "secret_key"),
            "VAULT_KEYRING_FILE": str(instance / "keyring"),
            "VAULT_ERASURE_LEDGER": str(root / "erasure-ledger.jsonl"),
            "VAULT_PUBLIC_BASE_URL": base,
            "VAULT_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{redis_port}/0",
            "VAULT_RATELIMIT_LINK_REQUEST": "2 per hour",
            "VAULT_MAIL_BACKEND": "outbox",
            "VAULT_REQUIRE_2FA": "0",
            "VAULT_METRICS_ALLOWED_NETWORKS": '["127.0.0.2/32"]',
            "PORT": str(app_port),
            "GUNICORN_WORKERS": "2",
            "GUNICORN_PIDFILE": str(run / "gunicorn.pid"),
            "PROMETHEUS_MULTIPROC_DIR": str(run / "metrics"),
        })
        stack = Stack(base=base, app_port=app_port, tls_port=tls_port, env=env,
                      instance=instance, logs=[], pidfile=run / "gunicorn.pid", cert=cert,
                      slug="", gunicorn=None)  # type: ignore[arg-type]
        stack.vault("init")  # as an operator would: secrets, then the migrations on PostgreSQL
        stack.slug = make_vacancy_and_staff(
            {key: env[f"VAULT_{key}"] for key in (
                "DATABASE_URL", "SECRET_KEY_FILE", "KEYRING_FILE", "ERASURE_LEDGER")},
            instance, staff=(STAFF_EMAIL, STAFF_PASSWORD))

        gunicorn_log = logs / "gunicorn.log"
        unit = (DEPLOY / "systemd" / "vault.service").read_text()
        stack.gunicorn = start(_unit_exec_start(unit), gunicorn_log, env)
        started.append(stack.gunicorn)
        wait_for_port(app_port, stack.gunicorn, gunicorn_log)

        site = run / "vault-site.conf"
        site.write_text(render_nginx_site(
            (DEPLOY / "nginx" / "vault.conf").read_text(), upstream_port=app_port,
            tls_port=tls_port, http_port=http_port, cert=cert, key=key, logs=logs))
        (run / "nginx.conf").write_text(_nginx_main(site, run))
        nginx_log = logs / "nginx-stderr.log"
        started.append(start([nginx, "-p", str(run), "-c", str(run / "nginx.conf"),
                               "-e", str(run / "main-error.log"), "-g", "daemon off;"],
                              nginx_log))
        wait_for_port(tls_port, started[-1], nginx_log)
        stack.logs = [gunicorn_log, nginx_log, logs / "vault-access.log",
                      logs / "vault-error.log", run / "main-error.log", redis_log]
        yield stack
    finally:
        for process in reversed(started):
            # SIGQUIT is gunicorn's quick shutdown (its SIGTERM waits on idle workers).
            gunicorn = process.args[0].endswith("gunicorn")
            stop(process, signal.SIGQUIT if gunicorn else signal.SIGTERM)
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_application_link_login_and_search_through_nginx_over_tls(stack):
    browser = Browser(stack.base, stack.cert)
    form = browser.get(f"/apply/{stack.slug}")
    assert form.status_code == 200
    assert form.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "," not in form.headers["Strict-Transport-Security"]  # sent once, by nginx
    cv = files.pdf_with_text(f"{MARK_CV} Python Kafka")
    applied = browser.post(f"/apply/{stack.slug}", data=application_fields(
        csrf_token(form.text)), files={"cv": ("ilse-cv.pdf", cv, "application/pdf")})
    assert applied.status_code == 200 and urlsplit(applied.url).path == "/applied", (
        applied.status_code, re.sub(r"\s+", " ", applied.text)[-1500:])

    link = newest_mail_link(stack.instance / "outbox", stack.env)
    # The mailed link is the public https address (VAULT_PUBLIC_BASE_URL), port included.
    assert link.startswith(stack.base + "/my-data/")
    stack.secrets.append(link.rsplit("/", 1)[1])
    own_page = browser.get(link)
    assert own_page.status_code == 200 and MARK_NAME in own_page.text

    staff = Browser(stack.base, stack.cert)
    login_form = staff.get("/login")
    signed_in = staff.post("/login", data={"csrf_token": csrf_token(login_form.text),
                                           "email": STAFF_EMAIL, "password": STAFF_PASSWORD},
                           allow_redirects=False)
    assert signed_in.status_code == 302, signed_in.text[:500]
    # The app saw https through the proxy (X-Forwarded-Proto): its cookies are Secure.
    assert "secure" in signed_in.headers["Set-Cookie"].lower()
    results = staff.get("/candidates", params={"q": f'"{MARK_NAME}" Kafka'})
    assert results.status_code == 200 and MARK_NAME in results.text


def test_uploads_larger_than_the_app_accepts_are_refused_by_nginx(stack):
    too_big = b"0" * (10 * 1024 * 1024 + 1024)
    response = requests.post(f"{stack.base}/apply/{stack.slug}", data=too_big,
                             headers={"Content-Type": "application/octet-stream"},
                             verify=str(stack.cert), timeout=20)
    assert response.status_code == 413
    assert response.headers["Server"].startswith("nginx")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_limits_are_shared_by_workers_and_keyed_by_the_address_nginx_forwards(stack):
    browser = Browser(stack.base, stack.cert)
    answers = []
    for forged in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        form = browser.get("/my-data")
        answers.append(browser.post("/my-data", data={
            "csrf_token": csrf_token(form.text), "email": "nobody@example.org"},
            headers={"X-Forwarded-For": forged}, allow_redirects=False).status_code)
    # "2 per hour" in Redis, for the one client nginx saw, whatever it claimed to be.
    assert answers == [302, 302, 429]


def _https_get(stack: Stack, path: str, source: str,
               headers: dict[str, str] | None = None) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=str(stack.cert))
    conn = http.client.HTTPSConnection("127.0.0.1", stack.tls_port, context=context,
                                       source_address=(source, 0), timeout=20)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_metrics_answer_only_the_configured_network_and_add_up_all_workers(stack):
    status, _ = _https_get(stack, "/metrics", "127.0.0.1", {"X-Forwarded-For": "127.0.0.2"})
    assert status == 404
    status, body = _https_get(stack, "/metrics", "127.0.0.2")
    assert status == 200
    assert 'route="/apply/<slug>"' in body and 'route="/my-data/<token>"' in body
    assert re.search(r"^vault_applications_total 1\.0$", body, re.M)
    assert "vault_rate_limit_store_up 1.0" in body
    for secret in stack.secrets:
        assert secret not in body


def test_ready_behind_nginx_with_every_check_passing(stack):
    status, body = _https_get(stack, "/readyz", "127.0.0.1")
    assert status == 200, body
    checks = json.loads(body)["checks"]
    assert checks["database"] == checks["schema"] == checks["keys"] == "ok"
    assert checks["rate_limit_store"] == "ok"


def test_graceful_reload_replaces_workers_without_refusing_requests(stack):
    master = int(stack.pidfile.read_text())
    log = stack.logs[0]
    before = len(re.findall(r"Booting worker", log.read_text()))
    os.kill(master, signal.SIGHUP)
    deadline = time.monotonic() + 20
    statuses = []
    while time.monotonic() < deadline:
        statuses.append(_https_get(stack, "/healthz", "127.0.0.1")[0])
        if len(re.findall(r"Booting worker", log.read_text())) >= before + 2:
            break
        time.sleep(0.05)
    assert len(re.findall(r"Booting worker", log.read_text())) >= before + 2
    assert set(statuses) == {200}
    assert stack.gunicorn.poll() is None
    assert _https_get(stack, "/readyz", "127.0.0.1")[0] == 200


def test_no_log_of_the_whole_journey_holds_a_personal_value_or_token(stack):
    assert stack.secrets, "the journey test did not run"
    time.sleep(0.3)  # let nginx and gunicorn flush their last lines
    gunicorn_lines = stack.logs[0].read_text().splitlines()
    access = [json.loads(x) for x in gunicorn_lines if '"gunicorn.access"' in x]
    assert {"/apply/<slug>", "/my-data/<token>", "/login", "/candidates"} <= {
        e["route"] for e in access}
    assert all(e.get("request_id") for e in access)
    assert any(e.get("user_id") for e in access if e["route"] == "/candidates")
    text_of_all = "\n".join(p.read_text(errors="replace") for p in stack.logs if p.exists())
    for value in (MARK_NAME, MARK_EMAIL, PHONE, MARK_CV, "Ghent", "Kafka", "q=",
                  "nobody@example.org", *stack.secrets):
        assert value not in text_of_all, value
