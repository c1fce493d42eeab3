"""KEKs in a PKCS#11 module (a real SoftHSM2 token): the backend, the app, the commands."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pkcs11 import Attribute, ObjectClass
from sqlalchemy import select

from tests.kms.backends import manager_settings
from tests.services.test_candidates import get, make
from vault import create_app
from vault.appctx import vault_keys
from vault.crypto import new_data_key
from vault.crypto.kek_backend import KeyManagerUnavailable, unwrap_one
from vault.crypto.keyring import KeyringError
from vault.crypto.pkcs11_backend import Pkcs11KekBackend
from vault.extensions import db
from vault.models import CandidateKey
from vault.services.candidates import open_candidate


def _labels(backend: Pkcs11KekBackend) -> set[str]:
    with backend._open() as session:
        return {o.label for o in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
                if o.label.startswith(backend.key_name + "-")}


def test_key_objects_are_sensitive_and_never_extractable(hsm):
    with hsm._open() as session:
        key = hsm._keys(session)[1]
        assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]


def test_rotate_rewrap_and_retire_destroys_the_key_object(hsm):
    deks = [new_data_key() for _ in range(4)]
    old = hsm.wrap([(d, f"p{i}") for i, d in enumerate(deks)])
    assert hsm.rotate() == 2
    new = hsm.rewrap([(w, f"p{i}") for i, w in enumerate(old)])
    assert {w.kek_version for w in new} == {2}
    with pytest.raises(KeyringError):
        hsm.retire(2)  # the primary
    assert hsm.retire(1) == [1]
    assert _labels(hsm) == {f"{hsm.key_name}-v2", f"{hsm.key_name}-v2-derive"}
    assert hsm.unwrap([(w, f"p{i}") for i, w in enumerate(old)]) == [None] * 4
    assert [d.key for d in hsm.unwrap([(w, f"p{i}") for i, w in enumerate(new)])] == \
        [d.key for d in deks]


def test_a_stale_key_handle_rescans_the_key_objects_not_the_whole_module(hsm, hsm_token):
    dek = new_data_key()
    (wrapped,) = hsm.wrap([(dek, "p")])
    # Another backend of the process on the same module, with a session of its own.
    other = Pkcs11KekBackend(hsm_token.module, hsm_token.label, hsm_token.pin,
                             f"kek-{secrets.token_hex(4)}")
    other.create_key()
    (theirs,) = other.wrap([(dek, "q")])
    other_session = other._session
    # The module drops the in-session copy of our key object (as when the object is
    # destroyed and made again): the handle the backend holds is stale.
    with hsm._open() as session:
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                        Attribute.TOKEN: False}):
            if obj.label == f"{hsm.key_name}-v1":
                obj.destroy()
    # Not "a bad key" and not "the module is gone": the key objects are found again.
    assert unwrap_one(hsm, wrapped, "p").key == dek.key
    assert unwrap_one(hsm, hsm.wrap([(dek, "p")])[0], "p").key == dek.key
    # The module was not re-initialised under the other backend: its session lives on.
    assert unwrap_one(other, theirs, "q").key == dek.key
    assert other._session is other_session


def test_missing_token_is_unavailable_not_a_bad_key(hsm_token):
    stranger = Pkcs11KekBackend(hsm_token.module, "no-such-token", hsm_token.pin, "kek-x")
    with pytest.raises(KeyManagerUnavailable) as info:
        stranger.wrap([(new_data_key(), "p")])
    assert hsm_token.pin not in str(info.value) and hsm_token.pin not in repr(stranger)


@pytest.mark.parametrize("kek", ["pkcs11"], indirect=True)
def test_app_on_pkcs11_rotates_and_retires_in_the_module(app, clock):
    ids = [make(app, clock, email=f"p{i}@example.org") for i in range(3)]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["vault", "rotate-kek"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        keys = vault_keys()
        assert keys.kek.name == "pkcs11" and keys.kek.versions == [2]
        assert set(db.session.scalars(select(CandidateKey.kek_version))) == {2}
        assert all(open_candidate(keys, get(pid)).email for pid in ids)
    assert runner.invoke(args=["vault", "check"]).exit_code == 0


def test_file_vault_migrates_to_pkcs11(app, clock, request):
    app.config.update(manager_settings(request, "pkcs11", Path(app.instance_path)))
    ids = [make(app, clock, email=f"p{i}@example.org") for i in range(3)]
    result = app.test_cli_runner().invoke(args=["vault", "migrate-keys", "--to", "pkcs11"])
    assert result.exit_code == 0, result.output
    on_hsm = create_app({**app.config, "KEK_BACKEND": "pkcs11"},
                        instance_path=app.instance_path)
    with on_hsm.app_context():
        assert all(open_candidate(vault_keys(), get(pid)).email for pid in ids)
    assert on_hsm.test_cli_runner().invoke(args=["vault", "check"]).exit_code == 0


def test_a_module_refusing_an_operation_is_unavailable_not_a_raw_pkcs11_error(hsm):
    # The derive key of a version gone (another process retiring it between our reading
    # the versions and asking their roots): a 503 for the request, never a 500.
    with hsm._open() as session:
        hsm._derive_key(session, 1).destroy()
    with pytest.raises(KeyManagerUnavailable):
        hsm.version_roots([1])
    # Only that operation failed: the module and the session still serve.
    dek = new_data_key()
    (wrapped,) = hsm.wrap([(dek, "pid")])
    assert [d.key for d in hsm.unwrap([(wrapped, "pid")]) if d] == [dek.key]


def test_two_rotations_at_once_never_leave_two_key_objects_for_one_version(hsm, monkeypatch):
    # The other process generates v2 between this one's scan and its own generate.
    real = Pkcs11KekBackend._generate

    def racing(self, session, version):
        real(self, session, version)  # the other process's objects (same token)
        return real(self, session, version)

    monkeypatch.setattr(Pkcs11KekBackend, "_generate", racing)
    with pytest.raises(KeyManagerUnavailable, match="same moment"):
        hsm.rotate()
    monkeypatch.undo()
    labels = [lab for lab in _all_labels(hsm) if lab.startswith(f"{hsm.key_name}-v2")]
    assert sorted(labels) == [f"{hsm.key_name}-v2", f"{hsm.key_name}-v2-derive"]
    dek = new_data_key()
    (wrapped,) = hsm.wrap([(dek, "pid")])
    assert wrapped.kek_version == 2
    assert [d.key for d in hsm.unwrap([(wrapped, "pid")]) if d] == [dek.key]


def _all_labels(backend: Pkcs11KekBackend) -> list[str]:
    with backend._open() as session:
        return [o.label for o in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                                      Attribute.TOKEN: True})]


@pytest.mark.parametrize("kek", ["pkcs11"], indirect=True)
def test_retire_destroyed_in_the_module_but_never_committed_can_be_run_again(app, clock):
    from vault.services.keyring_state import current_state

    make(app, clock)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    with app.app_context():
        keys = vault_keys()
        generation, _ = current_state(db.session)
        keys.kek.retire(1)  # the run stops here: destroyed, the database never told
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        after, retired = current_state(db.session)
        assert 1 in retired and after > generation  # every worker reloads now
    assert runner.invoke(args=["vault", "retire-kek", "1"]).exit_code != 0  # once only
    assert runner.invoke(args=["vault", "check"]).exit_code == 0
