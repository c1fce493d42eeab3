"""Bearer tokens, scopes, the audit event of each call, the token's storage, the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.api.conftest import bearer
from vault.extensions import db
from vault.models import ApiClient, AuditEvent
from vault.services import api_clients, audit

VACANCIES = "/api/v1/vacancies"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


def test_a_valid_token_with_the_scope_is_served(client, make_client):
    _, token = make_client(["vacancies:read"])
    response = client.get(VACANCIES, headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["vacancies"] == []


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwdw==",
        "Bearer vlt_x",
        "Bearer " + "vlt_" + "0" * 24 + "_" + "0" * 64,
        "Bearer vlt_" + "\x00" * 24 + "_" + "0" * 64,
    ],
)
def test_missing_or_malformed_or_unknown_tokens_are_refused_with_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get(VACANCIES, headers=headers)
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_for_a_real_key_id_is_refused(client, make_client):
    _, token = make_client()
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    _problem(client.get(VACANCIES, headers=bearer(forged)), 401)


def test_a_revoked_token_is_refused_from_the_moment_it_is_revoked(app, client, make_client):
    client_id, token = make_client()
    assert client.get(VACANCIES, headers=bearer(token)).status_code == 200
    with app.app_context():
        api_clients.revoke_client(db.session, client_id, now=app.config["CLOCK"](), actor=audit.CLI)
        db.session.commit()
    _problem(client.get(VACANCIES, headers=bearer(token)), 401)


def test_an_expired_token_is_refused(app, client, clock, make_client):
    _, token = make_client(expires_at=clock() + timedelta(days=1))
    assert client.get(VACANCIES, headers=bearer(token)).status_code == 200
    clock.advance(days=1, seconds=1)
    _problem(client.get(VACANCIES, headers=bearer(token)), 401)


def test_a_token_without_the_scope_is_refused_with_403(client, make_client):
    _, token = make_client(["applications:write", "candidates:read", "erasures:read"])
    response = client.get(VACANCIES, headers=bearer(token))
    body = _problem(response, 403)
    assert "vacancies:read" in body["detail"]
    assert 'scope="vacancies:read"' in response.headers["WWW-Authenticate"]


def test_only_a_keyed_hash_of_the_secret_is_stored(app, make_client):
    client_id, token = make_client()
    secret = token.rsplit("_", 1)[1]
    with app.app_context():
        row = db.session.get(ApiClient, client_id)
        assert secret not in row.secret_hash
        version, digest = row.secret_hash.split("$")
        assert version == "1" and re.fullmatch(r"[0-9a-f]{64}", digest)
        # Not a plain SHA-256 of the secret: without the KEK nobody can compute it.
        import hashlib

        assert digest != hashlib.sha256(secret.encode()).hexdigest()


def test_a_token_hashed_under_an_older_kek_still_works_and_moves_to_the_primary(
    app, client, make_client
):
    client_id, token = make_client()
    with app.app_context():
        from vault.appctx import vault_keys

        vault_keys().keyring.rotate()
    assert client.get(VACANCIES, headers=bearer(token)).status_code == 200
    with app.app_context():
        assert db.session.get(ApiClient, client_id).secret_hash.startswith("2$")


def test_retiring_a_kek_names_the_api_clients_whose_unused_tokens_end(app, client, make_client):
    _, quiet = make_client(name="Quiet board")
    _, busy = make_client(name="Busy board")
    runner = app.test_cli_runner()
    with app.app_context():
        from vault.appctx import vault_keys

        old = vault_keys().keyring.primary
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    assert client.get(VACANCIES, headers=bearer(busy)).status_code == 200  # rehashed
    result = runner.invoke(args=["vault", "retire-kek", str(old)])
    assert result.exit_code == 0, result.output
    assert "1 API client token(s)" in result.output and "Quiet board" in result.output
    assert "Busy board" not in result.output
    assert client.get(VACANCIES, headers=bearer(quiet)).status_code == 401
    assert client.get(VACANCIES, headers=bearer(busy)).status_code == 200


def test_every_call_is_an_audit_event_without_personal_data(app, client, make_client):
    client_id, token = make_client(["vacancies:read"])
    client.get(VACANCIES + "?company=Ingenium", headers=bearer(token))
    client.get(VACANCIES, headers=bearer(token[:-1] + "x"))  # known key id, bad secret
    with app.app_context():
        key_id = db.session.get(ApiClient, client_id).key_id
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "api.call").order_by(AuditEvent.id)
        ).all()
    assert [(e.actor_type, e.actor_id) for e in events] == [("api", client_id)] * 2
    assert events[0].detail == f"key {key_id} GET /api/v1/vacancies 200"
    assert events[1].detail == f"key {key_id} GET /api/v1/vacancies 401"


def test_unknown_scopes_and_companies_are_refused_when_creating(app):
    from vault.appctx import vault_keys

    with app.app_context():
        for kwargs in (
            {"scopes": ["everything"]},
            {"scopes": []},
            {"company": "Elsewhere"},
            {"name": " "},
        ):
            args = {"name": "Board", "company": "Ingenium", "scopes": ["vacancies:read"], **kwargs}
            with pytest.raises(api_clients.ApiClientError):
                api_clients.create_client(
                    db.session,
                    vault_keys().keyring,
                    expires_at=None,
                    created_by=None,
                    companies=app.config["COMPANIES"],
                    now=app.config["CLOCK"](),
                    actor=audit.CLI,
                    **args,
                )
        db.session.rollback()
        assert db.session.scalar(select(ApiClient)) is None


def test_the_cli_creates_a_client_and_prints_its_token_once(app, runner, client):
    result = runner.invoke(
        args=[
            "vault",
            "create-api-client",
            "Jobs.example",
            "--company",
            "Hoptimize",
            "--scope",
            "vacancies:read",
            "--expires-days",
            "30",
        ]
    )
    assert result.exit_code == 0, result.output
    token = re.search(r"vlt_[0-9a-f]{24}_[0-9a-f]{64}", result.output).group(0)
    assert client.get(VACANCIES, headers=bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiClient))
        assert (row.company, row.scopes) == ("Hoptimize", "vacancies:read")
        assert row.expires_at - app.config["CLOCK"]() == timedelta(days=30)
