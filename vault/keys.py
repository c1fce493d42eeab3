"""The app's keys: the keyring (KEKs, index root key, audit root key), where it is kept,
and how a running worker follows key changes made by another process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vault.crypto import (
    BlindIndex,
    DataKey,
    Keyring,
    KeyringError,
    WrappedKey,
    derive_chain_key,
    load_keyring,
    unwrap_data_key,
)


class KeysChanged(Exception):
    """A data key is wrapped by a KEK version newer than this worker's keyring.

    Another process rotated the KEK and this worker cannot load the new version (its
    keyring came from VAULT_KEYRING, which only a restart changes). Not a
    DecryptionError: the data is intact, the request is retried once workers restart.
    """


@dataclass
class VaultKeys:
    keyring: Keyring
    blind_index: BlindIndex
    # The file the keyring was loaded from; None when it came from VAULT_KEYRING,
    # in which case rotation must be written back to the environment by the operator.
    path: Path | None
    # Where a reload reads from: the environment's value (never changes under a running
    # process) or the file.
    env_value: str | None = field(default=None, repr=False)
    file: Path | None = None
    bits: int = 32
    # The database's keyring generation this keyring was loaded at (-1: not yet compared)
    # and the KEK versions the database lists as retired (never used, even if present).
    generation: int = -1
    retired: frozenset[int] = frozenset()
    # time.monotonic() of the last comparison with the database (vault.appctx).
    checked_at: float = float("-inf")

    @classmethod
    def load(cls, env_value: str | None, path: Path, bits: int) -> VaultKeys:
        keyring = load_keyring(env_value, path)
        if keyring.audit_key is None:
            # Refuse to start rather than write audit events nobody can verify.
            raise KeyringError("the keyring has no audit key: run 'vault init' to add it")
        return cls(keyring, BlindIndex(keyring.index_key, bits), None if env_value else path,
                   env_value=env_value or None, file=path, bits=bits)

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

    def follow(self, generation: int, retired: frozenset[int]) -> bool:
        """Match the database's keyring generation: reload when it moved. True if reloaded."""
        if generation == self.generation and retired == self.retired:
            return False
        self.retired = retired
        self.reload()
        self.generation = generation
        return True

    def reload(self) -> None:
        """Read the keyring again from its source, without the retired versions.

        Retired versions are dropped even when the source still holds them (a keyring
        in VAULT_KEYRING stays as it was until a restart): once 'vault retire-kek' has
        run, no worker unwraps with that version. The attributes are replaced whole, so a
        thread in the middle of a request sees the old keyring or the new, never a mix.
        """
        if self.file is None:
            return
        keyring = load_keyring(self.env_value, self.file)
        for version in self.retired:
            if version != keyring.primary:
                keyring.keks.pop(version, None)
        self.keyring = keyring
        self.blind_index = BlindIndex(keyring.index_key, self.bits)

    def unwrap(self, wrapped: WrappedKey, public_id: str) -> DataKey:
        """Unwrap a data key; raises DecryptionError (opaque) or KeysChanged."""
        if wrapped.kek_version > self.keyring.last_issued:
            # Wrapped by a version issued after this keyring was loaded: another process
            # rotated moments ago. The file has it already; the environment does not.
            self.reload()
            if wrapped.kek_version > self.keyring.last_issued:
                raise KeysChanged
        return unwrap_data_key(self.keyring, wrapped, public_id)
