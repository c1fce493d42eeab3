"""The app's keys: the keyring (KEKs, index root key, audit root key) loaded once, and
where it is kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vault.crypto import BlindIndex, Keyring, KeyringError, derive_chain_key, load_keyring


@dataclass
class VaultKeys:
    keyring: Keyring
    blind_index: BlindIndex
    # The file the keyring was loaded from; None when it came from VAULT_KEYRING,
    # in which case rotation must be written back to the environment by the operator.
    path: Path | None

    @classmethod
    def load(cls, env_value: str | None, path: Path, bits: int) -> VaultKeys:
        keyring = load_keyring(env_value, path)
        if keyring.audit_key is None:
            # Refuse to start rather than write audit events nobody can verify.
            raise KeyringError("the keyring has no audit key: run 'vault init' to add it")
        return cls(keyring, BlindIndex(keyring.index_key, bits), None if env_value else path)

    @property
    def audit_chain_key(self) -> bytes:
        """The audit chain's HMAC key (derived, never stored anywhere)."""
        if self.keyring.audit_key is None:
            raise KeyringError("the keyring has no audit key: run 'vault init' to add it")
        return derive_chain_key(self.keyring.audit_key)

    def save(self) -> None:
        if self.path is None:
            raise KeyringError("the keyring comes from VAULT_KEYRING and cannot be rewritten here")
        self.keyring.save(self.path)
