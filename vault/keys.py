"""The app's keys: the keyring (KEKs, index root key) loaded once, and where it is kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vault.crypto import BlindIndex, Keyring, KeyringError, load_keyring


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
        return cls(keyring, BlindIndex(keyring.index_key, bits), None if env_value else path)

    def save(self) -> None:
        if self.path is None:
            raise KeyringError("the keyring comes from VAULT_KEYRING and cannot be rewritten here")
        self.keyring.save(self.path)
