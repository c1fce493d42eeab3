"""The whole app with its KEKs in a real OpenBao Transit (VAULT_KEK_BACKEND=transit)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.journey import apply, make_vacancy
from tests.services.test_candidates import get, make
from vault.appctx import vault_keys
from vault.crypto import WrappedKey
from vault.extensions import db
from vault.models import Candidate, CandidateKey
from vault.services.candidates import open_candidate

pytestmark = pytest.mark.parametrize("kek", ["transit"], indirect=True)


def _wrapped_keys(app) -> list[tuple[int, bytes, str]]:
    with app.app_context():
        return [(v, bytes(w), p) for v, w, p in db.session.execute(
            select(CandidateKey.kek_version, CandidateKey.wrapped, Candidate.public_id)
            .join(Candidate, Candidate.id == CandidateKey.candidate_id)
            .order_by(Candidate.id))]


def test_records_are_wrapped_by_transit_and_no_kek_is_on_disk(app, clock):
    public_id = make(app, clock)
    instance = Path(app.instance_path)
    assert not (instance / "keyring").exists()
    roots = (instance / "keyring.transit").read_text()
    assert '"index_key": "vault:v1:' in roots and '"audit_key": "vault:v1:' in roots
    [(version, wrapped, _)] = _wrapped_keys(app)
    assert version == 1 and wrapped.startswith(b"vault:v1:")
    with app.app_context():
        keys = vault_keys()
        assert keys.manager is not None and keys.kek.name == "transit"
        assert open_candidate(keys, get(public_id)).email


def test_root_keys_are_unwrapped_from_transit_at_start(app):
    with app.app_context():
        keys = vault_keys()
        index_key, audit_key = keys.keyring.index_key, keys.keyring.audit_key
    # A second app on the same roots file and Transit key reads the same root keys.
    from vault import create_app

    again = create_app(dict(app.config), instance_path=app.instance_path)
    with again.app_context():
        assert vault_keys().keyring.index_key == index_key
        assert vault_keys().keyring.audit_key == audit_key


def test_search_page_of_twenty_unwraps_in_one_transit_call(app, client, make_user, login,
                                                            monkeypatch):
    vacancy = make_vacancy(app, company="Ingenium", title="Data engineer")
    for i in range(21):
        apply(client, vacancy, email=f"p{i}@example.org", full_name=f"Person {i}")
    staff = app.test_client()
    login(staff, make_user(role="recruiter", company="Ingenium"))
    with app.app_context():
        transit = vault_keys().manager.client.secrets.transit
    calls: list[int] = []
    decrypt = transit.decrypt_data
    monkeypatch.setattr(transit, "decrypt_data",
                        lambda **kw: calls.append(len(kw["batch_input"])) or decrypt(**kw))
    page = staff.get("/candidates?q=person")
    assert page.status_code == 200
    assert page.data.decode().count("Person ") >= 20
    assert calls == [20]


def test_rotate_and_retire_kek_commands_act_in_transit(app, clock):
    ids = [make(app, clock, email=f"p{i}@example.org") for i in range(3)]
    backup = _wrapped_keys(app)  # as a database backup holds them
    runner = app.test_cli_runner()
    result = runner.invoke(args=["vault", "rotate-kek", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "New primary KEK version 2" in result.output
    assert {v for v, _, _ in _wrapped_keys(app)} == {2}
    with app.app_context():
        assert all(open_candidate(vault_keys(), get(pid)).email for pid in ids)
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        keys = vault_keys()
        assert keys.kek.versions == [2]
        info = keys.manager.client.secrets.transit.read_key(name=keys.manager.key_name)
        assert set(info["data"]["keys"]) == {"2"}
        # The backup's keys, wrapped only by version 1, open for nobody now.
        assert keys.kek.unwrap([(WrappedKey(v, w), p) for v, w, p in backup]) == [None] * 3
        assert all(open_candidate(keys, get(pid)).email for pid in ids)


def test_retire_kek_is_refused_while_a_key_uses_it(app, clock):
    make(app, clock)
    with app.app_context():
        vault_keys().rotate()
    result = app.test_cli_runner().invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code != 0
    assert "still wrapped by KEK version 1" in result.output
    with app.app_context():
        assert vault_keys().kek.versions == [1, 2]


def test_key_manager_down_answers_503_writes_nothing_and_recovers(app, client, make_user,
                                                                  login, bao):
    vacancy = make_vacancy(app, company="Ingenium", title="Data engineer")
    apply(client, vacancy, email="anna@example.org", full_name="Anna Peeters")
    staff = app.test_client()
    login(staff, make_user(role="recruiter", company="Ingenium"))
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Candidate))
    bao.pause()
    try:
        started = time.monotonic()
        page = staff.get("/candidates?q=anna")
        assert page.status_code == 503, page.status_code
        assert page.headers["Retry-After"] == "30"
        assert "cannot be reached" in page.data.decode()
        assert "Traceback" not in page.data.decode()
        assert time.monotonic() - started < 15  # the client's timeout, not a hang
        # An application needs a new wrapped key: refused whole, nothing half-written.
        refused = apply(client, vacancy, email="bert@example.org", full_name="Bert Claes")
        assert refused.status_code == 503
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert {"key_manager", "keys"} <= set(ready.get_json()["failed"]), ready.get_json()
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Candidate)) == before
    finally:
        bao.resume()
    # Back by itself, without a restart, as soon as the server answers again.
    deadline = time.monotonic() + 10
    while (status := staff.get("/candidates?q=anna").status_code) != 200 and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == 200
    assert client.get("/readyz").status_code == 200


def test_new_index_key_is_kept_wrapped_by_transit(app, client, make_user, login):
    vacancy = make_vacancy(app, company="Ingenium", title="Data engineer")
    apply(client, vacancy, email="anna@example.org", full_name="Anna Peeters")
    with app.app_context():
        old = vault_keys().keyring.index_key
    result = app.test_cli_runner().invoke(args=["vault", "reindex", "--new-index-key"])
    assert result.exit_code == 0, result.output
    roots = (Path(app.instance_path) / "keyring.transit").read_text()
    assert old.hex() not in roots
    from vault import create_app

    restarted = create_app(dict(app.config), instance_path=app.instance_path)
    with restarted.app_context():
        assert vault_keys().keyring.index_key not in (old,)
        assert vault_keys().keyring.index_key.hex() not in roots
    staff = restarted.test_client()
    login(staff, make_user(role="recruiter", company="Ingenium"))
    assert "Anna Peeters" in staff.get("/candidates?q=anna").data.decode()


# Each command runs in a process of its own: the rerun does not start inside the outage
# that the failed run remembered.
@pytest.mark.app_config(KEY_MANAGER_DOWN_SECONDS=0)
def test_rotate_kek_with_the_key_manager_down_says_so_and_resumes(app, clock, bao):
    make(app, clock)
    runner = app.test_cli_runner()
    with app.app_context():
        vault_keys().rotate()  # a rotation whose rewrap has not run yet
    bao.pause()
    try:
        result = runner.invoke(args=["vault", "rotate-kek"])
    finally:
        bao.resume()
    assert result.exit_code == 1  # a ClickException, not a crash
    assert "run the command again" in result.output and "Traceback" not in result.output
    assert {v for v, _, _ in _wrapped_keys(app)} == {1}
    result = runner.invoke(args=["vault", "rotate-kek"])
    assert result.exit_code == 0, result.output
    assert "Resuming: 1 data key(s)" in result.output
    assert {v for v, _, _ in _wrapped_keys(app)} == {2}


def test_readiness_costs_one_key_manager_call(app, client, monkeypatch):
    assert client.get("/readyz").status_code == 200  # the first one wraps the probe key
    with app.app_context():
        adapter = vault_keys().manager.client.adapter
    calls: list[str] = []
    request = adapter.request
    monkeypatch.setattr(adapter, "request",
                        lambda method, url, *a, **kw: calls.append(url) or
                        request(method, url, *a, **kw))
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["keys"] == "ok"
    assert len(calls) == 1 and "/transit/decrypt/" in calls[0]


# The client retries after Retry-After (30 s), long past the few seconds for which the
# outage is remembered; here it retries at once.
@pytest.mark.app_config(KEY_MANAGER_DOWN_SECONDS=0)
def test_an_api_call_with_the_key_manager_down_is_a_503_problem_and_stores_nothing(
        app, client, clock, bao):
    from tests.api.test_applications import NOTHING, counts, fields, post
    from vault.services import api_clients, audit

    with app.app_context():
        _, token = api_clients.create_client(
            db.session, vault_keys().keyring, name="Jobs board", company="Ingenium",
            scopes=["applications:write"], expires_at=None, created_by=None,
            companies=app.config["COMPANIES"], now=clock(), actor=audit.CLI)
        db.session.commit()
    slug = make_vacancy(app)
    bao.pause()
    try:
        response = post(client, token, fields(clock, vacancy=slug))
    finally:
        bao.resume()
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.mimetype == "application/problem+json"
    assert response.get_json(force=True)["type"].endswith("keys-unavailable")
    assert counts(app) == NOTHING
    # Once the key manager answers, the same call (same Idempotency-Key) is taken.
    assert post(client, token, fields(clock, vacancy=slug)).status_code == 201


def test_import_of_json_lines_with_transit_asks_each_record_to_confirm(app, runner, clock,
                                                                        tmp_path):
    """With a key manager the bulk run seals here, not in forked workers: the secret keys
    that sign the confirmation links must reach it all the same."""
    import json

    from tests.candidate.test_email_change import _confirmation_link
    from tests.journey import outbox

    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps({"contact": {"full_name": f"Person {n}",
                                                    "email": f"kms{n}@example.org"}}) + "\n"
                            for n in range(3)))
    result = runner.invoke(args=["vault", "import", str(path), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Queued 3 confirmation link(s)" in result.output
    mails = [m for m in outbox(app) if m["Subject"] == "Please confirm your e-mail address"]
    assert sorted(m["To"] for m in mails) == [f"kms{n}@example.org" for n in range(3)]
    with app.test_client() as client:
        assert client.post(_confirmation_link(mails[0])).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate).where(
            Candidate.email_confirmed_at.is_not(None))) == 1
