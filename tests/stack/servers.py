"""Starting and stopping real servers for the stack tests, and what a browser does."""

from __future__ import annotations

import email
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.journey import MARK_EMAIL, MARK_NAME, text_of
from vault import REPO_ROOT

IN_CI = os.environ.get("CI") == "true"
PHONE = "+32 470 99 88 77"


def missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required in CI (.ci/run installs it)")
    pytest.skip(f"{what} is not available on this machine")


def binary(name: str, package: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        missing(f"{name} (Debian package {package})")
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text()[-3000:]}")


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("ab") as handle:
        return subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, env=env,
                                cwd=REPO_ROOT, start_new_session=True)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop the process and everything it started (its own session's process group)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any vault, gunicorn or metrics setting."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VAULT_", "GUNICORN_", "PROMETHEUS_"))}
    env.update(overrides)
    return env


def make_vacancy_and_staff(config: dict[str, str], instance: Path, *,
                           staff: tuple[str, str] | None = None) -> str:
    """A vacancy (and a recruiter), made in this process: a CLI process each costs seconds."""
    from vault import create_app
    from vault.extensions import db
    from vault.models import utcnow
    from vault.services import audit
    from vault.services.users import create_user
    from vault.services.vacancies import create_vacancy

    app = create_app(config, instance_path=str(instance))
    with app.app_context():
        companies = app.config["COMPANIES"]
        slug = create_vacancy(db.session, company="Ingenium", title="Data engineer",
                              location="Bruges", companies=companies, now=utcnow()).slug
        if staff:
            create_user(db.session, email=staff[0], password=staff[1], role="recruiter",
                        company="Ingenium", companies=companies, now=utcnow(),
                        actor=audit.CLI)
        db.session.commit()
        db.engine.dispose()
    return slug


class Browser:
    """requests, with what a browser adds: cookies, and a Referer only as the page's
    Referrer-Policy allows it (forms are posted from the page they are on)."""

    def __init__(self, base: str, cert: Path | None = None) -> None:
        self.base = base
        self.http = requests.Session()
        self.verify: str | bool = str(cert) if cert else True
        self.page_url = ""
        self.policy = "strict-origin-when-cross-origin"

    def _referrer(self) -> dict[str, str]:
        if not self.page_url or self.policy == "no-referrer":
            return {"Origin": "null"}
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.page_url))
        if self.policy in ("origin", "strict-origin"):
            return {"Origin": origin, "Referer": origin + "/"}
        return {"Origin": origin, "Referer": self.page_url}

    def _remember(self, response: requests.Response) -> requests.Response:
        self.page_url = response.url
        self.policy = response.headers.get("Referrer-Policy",
                                           "strict-origin-when-cross-origin")
        # A <meta name="referrer"> in the page overrides the header.
        meta = re.search(r'<meta name="referrer" content="([^"]+)"', response.text)
        if meta:
            self.policy = meta.group(1)
        return response

    # verify= on every call: a session's own is overridden by REQUESTS_CA_BUNDLE.
    def get(self, path: str, **kwargs) -> requests.Response:
        return self._remember(self.http.get(urljoin(self.base, path), timeout=30,
                                            verify=self.verify, **kwargs))

    def post(self, path: str, **kwargs) -> requests.Response:
        headers = {**self._referrer(), **kwargs.pop("headers", {})}
        return self._remember(self.http.post(urljoin(self.base, path), headers=headers,
                                             timeout=30, verify=self.verify, **kwargs))


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, "no CSRF token in the form"
    return match.group(1)


def application_fields(token: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "full_name": f"Ilse {MARK_NAME}",
        "email": MARK_EMAIL,
        "phone": PHONE,
        "position": "Data engineer",
        "education-0-degree": "Master of Science",
        "education-0-field": "Computer Science",
        "education-0-institution": "Ghent University",
        "education-0-year": "2019",
        "consent_application": "y",
        "consent_talent_pool": "y",
    }


def deliver_queued_mail(env: dict[str, str]) -> None:
    """What the mail timer does (deploy/systemd/vault-mail.service): `vault send-mail`.
    A build without a mail queue sends at once and has no such command (exit 2)."""
    result = subprocess.run([str(Path(sys.executable).parent / "vault"), "send-mail"],
                            env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 2), result.stderr[-2000:]


def newest_mail_link(outbox: Path, env: dict[str, str]) -> str:
    def mails() -> list[Path]:
        return sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)

    if not mails():
        deliver_queued_mail(env)
    assert mails(), "no mail in the outbox"
    body = text_of(email.message_from_bytes(mails()[-1].read_bytes()))
    match = re.search(r"https?://[^\s]+/my-data/[A-Za-z0-9_.\-]+", body)
    assert match, "no personal link in the mail"
    return match.group(0)
