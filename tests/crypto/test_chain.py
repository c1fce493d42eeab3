from __future__ import annotations

import hashlib
import json

import pytest

from vault.crypto import Keyring, KeyringError, derive_chain_key, link
from vault.keys import VaultKeys


def test_chain_key_is_derived_and_not_the_root_itself():
    root = Keyring.generate().audit_key
    assert root is not None
    key = derive_chain_key(root)
    assert len(key) == 32 and key != root
    assert derive_chain_key(root) == key  # stable: every link depends on it


def test_link_needs_the_key():
    body = b'["0000","2026-03-02T09:00:00.000000","system",null,null,"retention.run",null,""]'
    one, other = (derive_chain_key(Keyring.generate().audit_key or b"") for _ in range(2))
    assert link(one, body) != link(other, body)
    assert link(one, body) != hashlib.sha256(body).hexdigest()


def test_vault_keys_refuse_a_keyring_without_audit_key(tmp_path):
    doc = json.loads(Keyring.generate().to_json())
    del doc["audit_key"]
    path = tmp_path / "keyring"
    Keyring.from_json(json.dumps(doc)).save(path)
    with pytest.raises(KeyringError, match="vault init"):
        VaultKeys.load(None, path, 32)


def test_audit_chain_key_survives_index_key_and_kek_rotation(tmp_path):
    keyring = Keyring.generate()
    path = tmp_path / "keyring"
    keyring.save(path)
    before = VaultKeys.load(None, path, 32).audit_chain_key
    keyring.rotate()
    keyring.index_key = bytes(32)
    keyring.save(path)
    assert VaultKeys.load(None, path, 32).audit_chain_key == before
