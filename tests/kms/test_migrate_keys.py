"""`vault migrate-keys`: a vault moved between the keyring file and a real OpenBao Transit."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.kms.backends import manager_settings
from tests.services.test_candidates import get, make
from vault import create_app
from vault.appctx import vault_keys
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.crypto.transit import TransitKekBackend
from vault.extensions import db
from vault.models import CandidateKey, User
from vault.services import totp
from vault.services.candidates import open_candidate


@pytest.fixture(autouse=True)
def _transit_ready(app, request) -> None:
    """A vault on the keyring file, with Transit settings ready for the move."""
    app.config.update(manager_settings(request, "transit", Path(app.instance_path)))


def _blobs(app: Flask) -> list[bytes]:
    with app.app_context():
        return [bytes(b) for b in db.session.scalars(
            select(CandidateKey.wrapped).order_by(CandidateKey.candidate_id))]


def _on(app: Flask, backend: str) -> Flask:
    return create_app({**app.config, "KEK_BACKEND": backend}, instance_path=app.instance_path)


def test_vault_moves_to_transit_and_back_and_everything_still_opens(app, clock, make_user):
    ids = [make(app, clock, email=f"p{i}@example.org") for i in range(3)]
    uid = make_user()
    with app.app_context():
        secret = totp.open_secret(vault_keys(), db.session.get(User, uid))
        index_key = vault_keys().keyring.index_key
    result = app.test_cli_runner().invoke(args=["vault", "migrate-keys", "--to", "transit",
                                                "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "Moving 3 data key(s) from file to transit" in result.output
    assert all(b.startswith(b"vault:v1:") for b in _blobs(app))

    on_transit = _on(app, "transit")
    with on_transit.app_context():
        keys = vault_keys()
        assert keys.kek.name == "transit" and keys.keyring.index_key == index_key
        assert all(open_candidate(keys, get(pid)).email for pid in ids)
        user = db.session.get(User, uid)
        assert totp.open_secret(keys, user) == secret and user.totp_enabled_at is not None
    check = on_transit.test_cli_runner().invoke(args=["vault", "check"])
    assert check.exit_code == 0, check.output

    # Back again, after the old keyring was destroyed as the command says.
    Path(app.config["KEYRING_FILE"]).unlink()
    result = on_transit.test_cli_runner().invoke(args=["vault", "migrate-keys", "--to", "file"])
    assert result.exit_code == 0, result.output
    assert not any(b.startswith(b"vault:") for b in _blobs(app))
    on_file = _on(app, "file")
    with on_file.app_context():
        keys = vault_keys()
        assert all(open_candidate(keys, get(pid)).email for pid in ids)
        assert totp.open_secret(keys, db.session.get(User, uid)) == secret
    assert on_file.test_cli_runner().invoke(args=["vault", "check"]).exit_code == 0


def test_interrupted_migration_is_resumed_where_it_stopped(app, clock, monkeypatch):
    ids = [make(app, clock, email=f"p{i}@example.org") for i in range(3)]
    real_wrap = TransitKekBackend.wrap
    calls = []

    def wrap_then_fail(self, items):
        if self.key_name.startswith("kek-"):  # data keys; the root keys go through
            calls.append(len(items))
        if len(calls) > 1:
            raise KeyManagerUnavailable("the key manager did not answer (ConnectionError)")
        return real_wrap(self, items)

    runner = app.test_cli_runner()
    with monkeypatch.context() as patch:
        patch.setattr(TransitKekBackend, "wrap", wrap_then_fail)
        result = runner.invoke(args=["vault", "migrate-keys", "--to", "transit",
                                     "--batch-size", "1"])
    assert result.exit_code != 0
    assert "run it again" in result.output and "Traceback" not in result.output
    assert [b.startswith(b"vault:") for b in _blobs(app)] == [True, False, False]
    # The vault still works on the file keyring for what was not moved yet.
    result = runner.invoke(args=["vault", "migrate-keys", "--to", "transit"])
    assert result.exit_code == 0, result.output
    assert "Moving 2 data key(s)" in result.output
    with _on(app, "transit").app_context():
        assert all(open_candidate(vault_keys(), get(pid)).email for pid in ids)


def test_migration_to_the_backend_in_use_is_refused(app):
    result = app.test_cli_runner().invoke(args=["vault", "migrate-keys", "--to", "file"])
    assert result.exit_code != 0 and "already" in result.output
