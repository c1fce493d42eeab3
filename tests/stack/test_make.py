"""`make run` and `make serve` as a newcomer types them: PORT honoured, mailed links on
that port, logs as JSON lines without the path's token or the query."""

from __future__ import annotations

import json
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import files
from tests.journey import MARK_CV, MARK_EMAIL, MARK_NAME
from tests.stack.servers import (
    PHONE,
    Browser,
    application_fields,
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

pytestmark = pytest.mark.stack


def _make() -> str:
    path = shutil.which("make")
    if path is None:
        missing("make")
    return str(path)


def _serve(target: str, tmp_path: Path, **env: str) -> Iterator[tuple[str, Path, Path]]:
    port = free_port()
    instance, log = tmp_path / "instance", tmp_path / f"{target}.log"
    process = start([_make(), "--no-print-directory", "-C", str(REPO_ROOT), target],
                    log, clean_env(PORT=str(port), VAULT_INSTANCE_PATH=str(instance), **env))
    try:
        wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}", instance, log
    finally:
        stop(process, signal.SIGTERM)


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    yield from _serve("run", tmp_path)


@pytest.fixture
def make_serve(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    yield from _serve("serve", tmp_path, GUNICORN_WORKERS="1")


def _json_lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()
            if line.startswith("{")]


def test_make_run_on_another_port_mails_links_to_that_port_and_logs_no_token(make_run):
    base, instance, log = make_run
    slug = make_vacancy_and_staff({"DATABASE_URL": f"sqlite:///{instance / 'vault.db'}"},
                                  instance)
    browser = Browser(base)
    form = browser.get(f"/apply/{slug}")
    applied = browser.post(f"/apply/{slug}", data=application_fields(csrf_token(form.text)),
                           files={"cv": ("cv.pdf", files.pdf_with_text(f"{MARK_CV} Kafka"),
                                         "application/pdf")})
    assert applied.url == f"{base}/applied", applied.status_code
    link = newest_mail_link(instance / "outbox", clean_env(
        VAULT_INSTANCE_PATH=str(instance), VAULT_PUBLIC_BASE_URL=base))
    assert link.startswith(f"{base}/my-data/")
    assert browser.get(link).status_code == 200
    assert browser.get("/candidates", params={"q": MARK_NAME}).status_code in (200, 302)

    output = log.read_text()
    events = [e for e in _json_lines(log) if e.get("event") == "request"]
    assert {"/apply/<slug>", "/my-data/<token>"} <= {e["route"] for e in events}
    # The development server's own request lines ("GET /my-data/... HTTP/1.1") are gone.
    assert "HTTP/1.1" not in output
    for value in (link.rsplit("/", 1)[1], MARK_NAME, MARK_EMAIL, PHONE, "q="):
        assert value not in output, value


def test_make_serve_runs_gunicorn_with_production_settings_on_port(make_serve):
    base, _instance, log = make_serve
    browser = Browser(base)
    page = browser.get("/login")
    assert page.status_code == 200
    # Production settings: cookies only over HTTPS (make run turns that off).
    assert "secure" in page.headers["Set-Cookie"].lower()
    assert browser.get("/my-data/a-token-value.x", params={"q": MARK_NAME}).status_code == 404
    assert browser.get("/readyz").json()["status"] == "ok"
    time.sleep(0.2)  # gunicorn writes the access line after the response
    access = [e for e in _json_lines(log) if e.get("logger") == "gunicorn.access"]
    assert {"/login", "/my-data/<token>", "/readyz"} <= {e["route"] for e in access}
    text = log.read_text()
    assert "a-token-value" not in text and MARK_NAME not in text
