"""Where the key-encryption keys (KEKs) live: the interface every KEK backend offers.

The file keyring (vault.crypto.keyring) is the embedded default; a key manager
(OpenBao/Vault Transit, vault.crypto.transit) keeps the KEKs itself and only ever
hands back wrapped or unwrapped data keys. Calls take batches so that a page of
search results costs one round trip to a key manager, not one per person.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from vault.crypto.envelope import (
    DataKey,
    DecryptionError,
    WrappedKey,
    rewrap_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from vault.crypto.keyring import Keyring, KeyringError


class KeyManagerUnavailable(Exception):
    """The key manager could not be reached or refused the call for a reason that is not
    about one key (sealed, down, token expired). Nothing was changed; retry later.
    Never carries key material or a wrapped key."""


# Set while the readiness probe runs: it asks the key manager even while an outage is
# remembered (every other call then fails at once), since it is how the app learns that
# the key manager answers again.
_PROBING: ContextVar[bool] = ContextVar("vault_key_manager_probing", default=False)


@contextmanager
def probing() -> Iterator[None]:
    """Calls in this block ask the key manager even if it was down a moment ago."""
    token = _PROBING.set(True)
    try:
        yield
    finally:
        _PROBING.reset(token)


def probing_now() -> bool:
    return _PROBING.get()


class KekBackend(Protocol):
    """KEK operations, always in batches. Items are (key, person's public id) pairs:
    the public id is bound to the wrapped key (associated data / context)."""

    name: str

    @property
    def primary(self) -> int: ...

    @property
    def versions(self) -> list[int]:
        """The versions that can still unwrap, oldest first."""
        ...

    def wrap(self, items: Sequence[tuple[DataKey, str]]) -> list[WrappedKey]: ...

    def unwrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[DataKey | None]:
        """One result per item, None where that key cannot be opened (its version is
        retired, or it was tampered with). Raises KeyManagerUnavailable, never partly."""
        ...

    def rewrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[WrappedKey | None]:
        """Each key wrapped again by the primary version; None where it cannot be opened."""
        ...

    def rotate(self) -> int:
        """Make a new KEK version primary; returns it."""
        ...

    def retiring(self, version: int) -> list[int]:
        """The versions that retire(version) would destroy."""
        ...

    def retire(self, version: int) -> list[int]:
        """Destroy KEK version `version`; returns every version destroyed by the call."""
        ...


class KeyManager(KekBackend, Protocol):
    """A KEK backend outside this process (Transit, PKCS#11)."""

    key_name: str

    def create_key(self) -> None:
        """Create the key (its first version) if it does not exist; idempotent."""
        ...

    def version_roots(self, versions: Sequence[int]) -> dict[int, bytes]:
        """Per KEK version, the root of the keys derived from it (staff TOTP secrets,
        mail not yet bound to a person, held uploads): computed by the key manager
        under that version, so it dies with the version."""
        ...

    def seal_roots(self, index_key: bytes, audit_key: bytes) -> str:
        """The roots file's document: the two root keys wrapped by this key."""
        ...

    def open_roots(self, text: str) -> tuple[bytes, bytes]: ...


class FileKekBackend:
    """The keyring file (or VAULT_KEYRING) as a KEK backend: everything in this process."""

    name = "file"

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    @property
    def primary(self) -> int:
        return self.keyring.primary

    @property
    def versions(self) -> list[int]:
        return self.keyring.versions

    def wrap(self, items: Sequence[tuple[DataKey, str]]) -> list[WrappedKey]:
        return [wrap_data_key(self.keyring, dek, public_id) for dek, public_id in items]

    def unwrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[DataKey | None]:
        out: list[DataKey | None] = []
        for wrapped, public_id in items:
            try:
                out.append(unwrap_data_key(self.keyring, wrapped, public_id))
            except DecryptionError:
                out.append(None)
        return out

    def rewrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[WrappedKey | None]:
        out: list[WrappedKey | None] = []
        for wrapped, public_id in items:
            try:
                out.append(rewrap_data_key(self.keyring, wrapped, public_id))
            except DecryptionError:
                out.append(None)
        return out

    def rotate(self) -> int:
        return self.keyring.rotate()

    def retiring(self, version: int) -> list[int]:
        return [version]

    def retire(self, version: int) -> list[int]:
        self.keyring.retire(version)
        return [version]


def unwrap_one(backend: KekBackend, wrapped: WrappedKey, public_id: str) -> DataKey:
    """One key, DecryptionError when it cannot be opened."""
    (dek,) = backend.unwrap([(wrapped, public_id)])
    if dek is None:
        raise DecryptionError
    return dek


__all__ = ["FileKekBackend", "KekBackend", "KeyManager", "KeyManagerUnavailable",
           "KeyringError", "probing", "probing_now", "unwrap_one"]
