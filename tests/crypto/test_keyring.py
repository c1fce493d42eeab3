from __future__ import annotations

import base64
import json
import os

import pytest

from vault.crypto import Keyring, KeyringError, load_keyring


def test_keyring_survives_a_round_trip_through_file_and_environment(tmp_path):
    keyring = Keyring.generate()
    keyring.rotate()
    path = tmp_path / "keyring"
    keyring.save(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    from_file = load_keyring(None, path)
    from_env = load_keyring(keyring.to_env(), tmp_path / "absent")
    for loaded in (from_file, from_env):
        assert loaded.primary == 2
        assert loaded.keks == keyring.keks
        assert loaded.index_key == keyring.index_key
        assert loaded.audit_key == keyring.audit_key is not None


def test_missing_keyring_says_to_run_init(tmp_path):
    with pytest.raises(KeyringError, match="vault init"):
        load_keyring(None, tmp_path / "keyring")


def test_keyring_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "keyring"
    Keyring.generate().save(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        load_keyring(None, path)


def test_garbled_keyring_is_refused_without_echoing_it(tmp_path):
    with pytest.raises(KeyringError) as info:
        load_keyring("bm90IGpzb24=", tmp_path / "x")
    assert "not json" not in str(info.value)


def test_primary_cannot_be_retired_and_versions_are_never_reused():
    keyring = Keyring.generate()
    with pytest.raises(KeyringError):
        keyring.retire(1)
    keyring.rotate()
    keyring.retire(1)
    assert keyring.versions == [2]
    assert keyring.rotate() == 3
    restored = Keyring.from_json(keyring.to_json())
    restored.retire(2)
    assert restored.rotate() == 4


def test_keyring_from_before_the_audit_key_loads_and_gets_one_only_once():
    keyring = Keyring.generate()
    doc = json.loads(keyring.to_json())
    del doc["audit_key"]
    old = Keyring.from_json(json.dumps(doc))
    assert old.audit_key is None
    assert old.add_audit_key() is True
    added = old.audit_key
    assert added is not None and len(added) == 32
    assert old.add_audit_key() is False and old.audit_key == added
    assert Keyring.from_json(old.to_json()).audit_key == added


def test_rotating_the_kek_keeps_the_audit_key():
    keyring = Keyring.generate()
    audit_key = keyring.audit_key
    keyring.rotate()
    keyring.retire(1)
    assert keyring.audit_key == audit_key


def test_short_audit_key_is_refused():
    doc = json.loads(Keyring.generate().to_json())
    doc["audit_key"] = base64.b64encode(b"short").decode()
    with pytest.raises(KeyringError, match="256 bits"):
        Keyring.from_json(json.dumps(doc))


def test_a_keyring_repr_shows_no_key_bytes():
    keyring = Keyring.generate()
    shown = repr(keyring)
    assert keyring.audit_key is not None
    for key in [*keyring.keks.values(), keyring.index_key, keyring.audit_key]:
        assert repr(key) not in shown and key.hex() not in shown
    assert f"primary={keyring.primary}" in shown
