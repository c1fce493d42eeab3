"""A key manager that is down: at start (the app starts anyway) or while serving (a
PKCS#11 token pulled out). Pages that need keys answer 503, /readyz says why, /healthz
stays alive, nothing is half-written, and everything works again without a restart."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.journey import apply, make_vacancy
from tests.kms.bao import Relay
from tests.services.test_candidates import get, make
from vault import create_app
from vault.appctx import vault_keys
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.extensions import db
from vault.keys import PendingKeys
from vault.services.candidates import open_candidate


def _rows(app: Flask) -> dict[str, int]:
    """Rows per table: a refused request must leave every one of them as it was."""
    with app.app_context():
        return {
            t.name: db.session.scalar(select(func.count()).select_from(t)) or 0
            for t in db.metadata.sorted_tables
        }


def _files(app: Flask) -> set[Path]:
    return {p for p in Path(app.instance_path).rglob("*") if p.is_file()}


def _assert_down(app: Flask, slug: str) -> None:
    """503 where keys are needed, readiness failing on the key manager, liveness alive,
    and an application refused whole."""
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert {"key_manager", "keys"} <= set(ready.get_json()["failed"]), ready.get_json()
    assert client.get(f"/jobs/{slug}").status_code == 200  # needs no key
    rows, files = _rows(app), _files(app)
    refused = apply(client, slug, email="bert@example.org", full_name="Bert Claes")
    assert refused.status_code == 503
    page = refused.data.decode()
    assert "cannot be reached" in page and "Traceback" not in page
    assert refused.headers["Retry-After"] == "30"
    assert _rows(app) == rows
    # Nothing on disk either (an upload, a mail file), apart from SQLite's own journal.
    assert {p for p in _files(app) - files if not p.name.startswith("vault.db")} == set()


def _assert_up(app: Flask, slug: str, staff_user: int, login, email: str) -> None:
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert apply(client, slug, email=email, full_name="Carla Dubois").status_code in (200, 302)
    staff = app.test_client()
    assert login(staff, staff_user).status_code in (200, 302)
    page = staff.get("/candidates?q=carla")
    assert page.status_code == 200 and "Carla Dubois" in page.data.decode()


@pytest.mark.parametrize("kek", ["transit"], indirect=True)
def test_app_started_while_transit_is_down_serves_503_then_works_without_restart(
    app, bao, make_user, login
):
    slug = make_vacancy(app)
    staff_user = make_user(role="recruiter", company="Ingenium")
    relay = Relay(bao.port)  # not started yet: nothing listens on its address
    started = create_app({**app.config, "TRANSIT_ADDR": relay.url}, instance_path=app.instance_path)
    assert isinstance(started.extensions["vault.keys"], PendingKeys)
    assert started.extensions["vault.missing_secrets"] == []
    try:
        _assert_down(started, slug)
        relay.start()  # the key manager answers on that address again
        _assert_up(started, slug, staff_user, login, "carla@example.org")
        assert _index_key(started) == _index_key(app)
    finally:
        relay.stop()
        with started.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("kek", ["transit"], indirect=True)
def test_cli_with_transit_down_at_start_says_so_without_traceback(app, bao):
    relay = Relay(bao.port)
    started = create_app({**app.config, "TRANSIT_ADDR": relay.url}, instance_path=app.instance_path)
    result = started.test_cli_runner().invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert "the key manager did not answer (ConnectionError)" in result.output
    assert "run the command again" in result.output and "Traceback" not in result.output
    with started.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("kek", ["transit"], indirect=True)
@pytest.mark.app_config(KEY_MANAGER_DOWN_SECONDS=60)
def test_while_transit_hangs_only_the_first_call_waits_and_readiness_sees_it_back(
    app, bao, clock
):
    public_ids = [make(app, clock, email=f"p{i}@example.org") for i in range(3)]
    timeout = float(app.config["TRANSIT_TIMEOUT_SECONDS"])
    client = app.test_client()
    bao.pause()
    try:
        started = time.monotonic()
        with app.app_context(), pytest.raises(KeyManagerUnavailable, match="ReadTimeout"):
            open_candidate(vault_keys(), get(public_ids[0]))
        assert time.monotonic() - started >= timeout * 0.9  # it waited for the timeout
        # The outage is remembered: the next calls fail at once, with its reason.
        started = time.monotonic()
        for public_id in public_ids[1:]:
            with app.app_context(), pytest.raises(KeyManagerUnavailable, match="ReadTimeout"):
                open_candidate(vault_keys(), get(public_id))
        assert time.monotonic() - started < timeout / 2
        # The readiness probe still asks (and fails while it hangs).
        assert client.get("/readyz").status_code == 503
    finally:
        bao.resume()
    # Long before the outage would be forgotten, readiness finds it answering, and that
    # answer ends the outage for every call.
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        assert all(open_candidate(vault_keys(), get(p)).email for p in public_ids)


@pytest.mark.parametrize("kek", ["transit"], indirect=True)
def test_keys_pending_fail_at_once_with_the_last_reason_until_readiness_finds_transit(
    app, bao
):
    relay = Relay(bao.port)  # not started: nothing listens on its address
    started = create_app(
        {**app.config, "TRANSIT_ADDR": relay.url, "KEY_MANAGER_DOWN_SECONDS": 60},
        instance_path=app.instance_path,
    )
    assert isinstance(started.extensions["vault.keys"], PendingKeys)
    relay.start()
    try:
        # It answers again, but the failure at start is remembered: no request tries
        # (nor waits for a key manager that may still hang), each says why at once.
        with started.app_context(), pytest.raises(
            KeyManagerUnavailable, match=r"did not answer \(ConnectionError\)"
        ):
            vault_keys()
        assert started.test_client().get("/readyz").status_code == 200  # the probe asks
        assert _index_key(started) == _index_key(app)
    finally:
        relay.stop()
        with started.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("kek", ["transit"], indirect=True)
def test_an_outage_is_logged_when_its_reason_changes_not_on_every_request(app, bao, caplog):
    slug = make_vacancy(app)
    assert app.test_client().get("/readyz").status_code == 200  # no outage going on
    relay = Relay(bao.port)  # not started: nothing listens on its address
    # Every request tries again (no outage window), and each fails for the same reason.
    started = create_app(
        {**app.config, "TRANSIT_ADDR": relay.url, "KEY_MANAGER_DOWN_SECONDS": 0},
        instance_path=app.instance_path,
    )
    caplog.set_level(logging.WARNING)
    caplog.clear()
    client = started.test_client()
    try:
        for i in range(4):
            assert apply(client, slug, email=f"p{i}@example.org").status_code == 503
            assert client.get("/readyz").status_code == 503
        lines = [r.getMessage() for r in caplog.records if "key manager" in r.getMessage()]
        assert lines == ["the key manager cannot serve: the key manager did not answer "
                         "(ConnectionError)"]
        relay.start()
        assert client.get("/readyz").status_code == 200
        assert "the key manager answers again" in caplog.text
    finally:
        relay.stop()
        with started.app_context():
            db.engine.dispose()


def _index_key(app: Flask) -> bytes:
    with app.app_context():
        return vault_keys().keyring.index_key


@pytest.mark.parametrize("kek", ["pkcs11"], indirect=True)
def test_pulled_pkcs11_token_answers_503_and_work_resumes_when_it_is_back(
    app, hsm_token, make_user, login
):
    slug = make_vacancy(app)
    staff_user = make_user(role="recruiter", company="Ingenium")
    applied = apply(app.test_client(), slug, email="anna@example.org", full_name="Anna Peeters")
    assert applied.status_code in (200, 302), applied.status_code
    staff = app.test_client()
    login(staff, staff_user)
    with hsm_token.removed():
        page = staff.get("/candidates?q=anna")
        assert page.status_code == 503 and "cannot be reached" in page.data.decode()
        _assert_down(app, slug)
        # A worker (re)started during the outage starts too, without its keys.
        restarted = create_app(dict(app.config), instance_path=app.instance_path)
        assert isinstance(restarted.extensions["vault.keys"], PendingKeys)
        _assert_down(restarted, slug)
    try:
        # Back: the running worker and the one started during the outage both serve.
        assert "Anna Peeters" in staff.get("/candidates?q=anna").data.decode()
        _assert_up(app, slug, staff_user, login, "carla@example.org")
        _assert_up(restarted, slug, staff_user, login, "carla2@example.org")
        assert _index_key(restarted) == _index_key(app)
    finally:
        with restarted.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("kek", ["pkcs11"], indirect=True)
def test_keys_that_no_longer_load_on_a_reload_answer_503_not_500(app, make_user, login):
    from vault.kek_settings import roots_file
    from vault.services.keyring_state import advance

    slug = make_vacancy(app)
    staff_user = make_user(role="recruiter", company="Ingenium")
    apply(app.test_client(), slug, email="anna@example.org", full_name="Anna Peeters")
    staff = app.test_client()
    login(staff, staff_user)
    path = roots_file(app.config, "pkcs11")
    kept = path.read_text()
    # The roots file replaced by one the key manager cannot open (a wrong restore),
    # then another process moves the keyring generation: the worker reloads.
    path.write_text(kept.replace('"blob": "', '"blob": "AAAA', 1))
    with app.app_context():
        advance(db.session)
        db.session.commit()
    try:
        page = staff.get("/candidates?q=anna")
        assert page.status_code == 503 and "Traceback" not in page.data.decode()
    finally:
        path.write_text(kept)
    assert "Anna Peeters" in staff.get("/candidates?q=anna").data.decode()
