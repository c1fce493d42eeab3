"""The app's keys: the keyring (KEKs, index root key, audit root key), where it is kept,
and how a running worker follows key changes made by another process."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.crypto import (
    BlindIndex,
    DataKey,
    DecryptionError,
    Keyring,
    KeyringError,
    WrappedKey,
    derive_chain_key,
    load_keyring,
)
from vault.crypto.envelope import new_data_key
from vault.crypto.kek_backend import (
    FileKekBackend,
    KekBackend,
    KeyManager,
    KeyManagerUnavailable,
    probing_now,
)
from vault.crypto.keyring import write_private_file

log = logging.getLogger(__name__)
# The public id bound to the readiness probe's key: no person's id has this form.
PROBE_ID = "vault-readiness-probe"

# The data keys unwrapped inside one request (or one batch of a command), so that a
# page opening the same record twice asks the key manager once. Only in this process's
# memory, never written anywhere, and dropped when the request or batch ends: a DEK
# stays in memory only while it is used. Keyed by the wrapped key itself (a rewrapped
# or another person's key is another entry), and each entry remembers the keyring it
# was opened under, so after a reload (a version retired meanwhile) it is opened again.
_Opened = dict[tuple[int, bytes, str], tuple[Keyring, DataKey]]
_OPENED: ContextVar[_Opened | None] = ContextVar("vault_opened_data_keys", default=None)


@contextmanager
def opened_keys() -> Iterator[None]:
    """Keep the data keys unwrapped in this block until it ends. Inside an active
    block (a request's) it joins that one."""
    if _OPENED.get() is not None:
        yield
        return
    opened: _Opened = {}
    token = _OPENED.set(opened)
    try:
        yield
    finally:
        opened.clear()  # also gone from any context copied inside the block
        _OPENED.reset(token)


@dataclass(frozen=True)
class RequestKeys:
    """What begin_request hands to end_request: the cache itself, not only the
    context variable's token, so that the keys are dropped wherever it ends."""

    token: object = field(repr=False)
    opened: _Opened = field(repr=False)


def begin_request() -> RequestKeys:
    """Start a request's cache of opened data keys; returns what end_request takes."""
    opened: _Opened = {}
    return RequestKeys(_OPENED.set(opened), opened)


def end_request(started: RequestKeys) -> None:
    """Drop the request's opened data keys."""
    # Emptied first: a teardown that runs in another context than the request began
    # in (a streamed response finished by another thread) cannot reset the variable
    # there, and the context the request began in would keep its keys for good.
    started.opened.clear()
    try:
        _OPENED.reset(started.token)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        _OPENED.set(None)


def forget_opened(public_ids: Sequence[str]) -> None:
    """Drop these people's opened data keys from the active block: they were erased,
    and nothing later in the same request or batch may open their records again
    (a stale object still holding the wrapped key would otherwise be served from here)."""
    opened = _OPENED.get()
    if not opened:
        return
    gone = set(public_ids)
    for name in [name for name in opened if name[2] in gone]:
        del opened[name]


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
    # A key manager holding the KEKs (VAULT_KEK_BACKEND=transit). Then `keyring` is only
    # in memory: the index and audit root keys it unwrapped at start, and per KEK version
    # the root of that version's derived keys (vault.crypto.transit.version_roots).
    manager: KeyManager | None = None
    # The Transit key that wraps the root keys (never rotated with the KEK: the audit
    # chain's key must never change).
    roots: KeyManager | None = None
    # The readiness probe: a throwaway data key and its wrapped form (see ready()).
    probe: tuple[WrappedKey, bytes] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, env_value: str | None, path: Path, bits: int) -> VaultKeys:
        keyring = load_keyring(env_value, path)
        if keyring.audit_key is None:
            # Refuse to start rather than write audit events nobody can verify.
            raise KeyringError("the keyring has no audit key: run 'vault init' to add it")
        return cls(keyring, BlindIndex(keyring.index_key, bits), None if env_value else path,
                   env_value=env_value or None, file=path, bits=bits)

    @classmethod
    def load_transit(cls, manager: KeyManager, roots: KeyManager,
                     roots_file: Path, bits: int) -> VaultKeys:
        """Keys whose KEKs stay in a key manager (Transit or PKCS#11): the root keys are
        unwrapped into memory."""
        if not roots_file.exists():
            raise KeyringError(f"no {manager.name} roots file at {roots_file}: "
                               "run 'vault init'")
        keyring = _transit_keyring(manager, roots, roots_file)
        return cls(keyring, BlindIndex(keyring.index_key, bits), None, file=roots_file,
                   bits=bits, manager=manager, roots=roots)

    @property
    def kek(self) -> KekBackend:
        """Where the KEKs are: the key manager, or the keyring in this process."""
        return self.manager if self.manager is not None else FileKekBackend(self.keyring)

    def rotate(self) -> int:
        """A new primary KEK version, saved (or made in the key manager) before use."""
        if self.manager is None:
            version = self.keyring.rotate()
            self.save()
            return version
        version = self.manager.rotate()
        self.reload()
        return version

    @property
    def audit_chain_key(self) -> bytes:
        """The audit chain's HMAC key (derived, never stored anywhere)."""
        if self.keyring.audit_key is None:
            raise KeyringError("the keyring has no audit key: run 'vault init' to add it")
        return derive_chain_key(self.keyring.audit_key)

    def save(self) -> None:
        if self.manager is not None and self.roots is not None and self.file is not None:
            # The key manager keeps the KEK versions itself; what is ours to keep is the
            # root keys (a new index key after 'vault reindex --new-index-key'), wrapped.
            assert self.keyring.audit_key is not None
            write_private_file(self.file, self.roots.seal_roots(self.keyring.index_key,
                                                         self.keyring.audit_key))
            return
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
        if self.manager is not None and self.roots is not None:
            try:
                keyring = _transit_keyring(self.manager, self.roots, self.file)
            except KeyringError as exc:
                # It answers but the keys do not load (a roots file it cannot open, its
                # key gone): as at start (PendingKeys), a 503 that says why, not a 500.
                # The generation stays unmatched, so the next request tries again.
                error = KeyManagerUnavailable(f"the key manager answers but the keys do "
                                              f"not reload: {exc}")
                note_unavailable(error)
                raise error from None
            self.keyring = keyring
            self.blind_index = BlindIndex(self.keyring.index_key, self.bits)
            return
        keyring = load_keyring(self.env_value, self.file)
        for version in self.retired:
            if version != keyring.primary:
                keyring.keks.pop(version, None)
        self.keyring = keyring
        self.blind_index = BlindIndex(keyring.index_key, self.bits)

    def ready(self) -> bool:
        """Whether the keys unwrap right now (the readiness probe): a data key wrapped by
        the primary KEK opens again. With a key manager one call in the steady state (the
        probe key is wrapped once); with the keyring file, in this process, a fresh
        round trip each time. Raises KeyManagerUnavailable when the key manager does not
        answer."""
        kek = self.kek
        if self.manager is None:
            self.probe = None  # microseconds in this process: wrap with the primary too
        for _ in range(2):
            if self.probe is None:
                dek = new_data_key()
                (wrapped,) = kek.wrap([(dek, PROBE_ID)])
                self.probe = (wrapped, dek.key)
            wrapped, expected = self.probe
            (opened,) = kek.unwrap([(wrapped, PROBE_ID)])
            if opened is not None:
                return opened.key == expected
            # Its KEK version was retired since: wrap a new probe with the primary.
            self.probe = None
        return False

    def unwrap(self, wrapped: WrappedKey, public_id: str) -> DataKey:
        """Unwrap a data key; raises DecryptionError (opaque) or KeysChanged."""
        (dek,) = self.unwrap_many([(wrapped, public_id)])
        if dek is None:
            raise DecryptionError
        return dek

    def unwrap_many(self, items: Sequence[tuple[WrappedKey, str]]) -> list[DataKey | None]:
        """A page of data keys in one call to the key manager; None where one cannot be
        opened. Keys already opened in this request (opened_keys) are not asked for
        again. Raises KeysChanged when a key is wrapped by a version issued after this
        keyring was loaded and a reload does not bring it."""
        newest = max((w.kek_version for w, _ in items), default=0)
        if newest > self.keyring.last_issued:
            # Wrapped by a version issued after this keyring was loaded: another process
            # rotated moments ago. The file has it already; the environment does not.
            self.reload()
            if newest > self.keyring.last_issued:
                raise KeysChanged
        opened = _OPENED.get()
        if opened is None:
            return self.kek.unwrap(items)
        keyring = self.keyring
        names = [(w.kek_version, bytes(w.blob), public_id) for w, public_id in items]
        missing = [name for name in dict.fromkeys(names)
                   if (hit := opened.get(name)) is None or hit[0] is not keyring]
        if missing:
            deks = self.kek.unwrap([(WrappedKey(version, blob), public_id)
                                    for version, blob, public_id in missing])
            for name, dek in zip(missing, deks, strict=True):
                if dek is not None:
                    opened[name] = (keyring, dek)
        found = [opened.get(name) for name in names]
        return [hit[1] if hit is not None and hit[0] is keyring else None for hit in found]

    def prefetch(self, items: Sequence[tuple[WrappedKey, str]]) -> None:
        """Open a batch of data keys in one call, for the opened_keys block around it
        (outside one there is nowhere to keep them, so nothing is asked)."""
        if _OPENED.get() is not None and items:
            self.unwrap_many(items)


class _OutageLog:
    """One log line per change of the key manager's failure reason (and, unchanged, at
    most one a minute), not one per request: an outage under load would otherwise fill
    the log with thousands of identical lines and hide the one that says what changed."""

    REPEAT_SECONDS = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._logged_at = float("-inf")

    def failed(self, reason: str) -> None:
        moment = time.monotonic()
        with self._lock:
            if reason == self._reason and moment - self._logged_at < self.REPEAT_SECONDS:
                return
            self._reason, self._logged_at = reason, moment
        # Our own message (class names and settings: key names, mounts, file paths),
        # never a server's text, a token or key material.
        log.warning("the key manager cannot serve: %s", reason)

    def answered(self) -> None:
        with self._lock:
            was, self._reason = self._reason, None
        if was is not None:
            log.warning("the key manager answers again")


_OUTAGE = _OutageLog()


def note_unavailable(exc: KeyManagerUnavailable | str) -> None:
    """Log a key manager failure, once per change of its reason (see _OutageLog)."""
    _OUTAGE.failed(str(exc))


def note_answered() -> None:
    """The key manager answered (a readiness probe, a load): the next failure is logged."""
    _OUTAGE.answered()


class PendingKeys:
    """The keys of an app that started while its key manager did not answer.

    The app serves anyway: what needs no key works, what needs one answers 503, and
    /readyz says why. The first request (or readiness check) after the key manager
    answers again unwraps the root keys, and from then on the app has its VaultKeys,
    without a restart. After a failed attempt the next ones fail at once, with the
    reason of the last failure, for `down_seconds` (the readiness probe still tries):
    each request would otherwise wait for the key manager's whole timeout again.
    """

    def __init__(self, load: Callable[[], VaultKeys], reason: str,
                 down_seconds: float = 0.0) -> None:
        self._load = load
        self.reason = reason
        self.down_seconds = down_seconds
        self._retry_at = time.monotonic() + down_seconds  # it just failed, at start
        self._lock = threading.Lock()
        self._keys: VaultKeys | None = None

    def resolve(self) -> VaultKeys:
        """The keys, loaded now if the key manager answers; KeyManagerUnavailable if not."""
        with self._lock:  # one load at a time: the others wait for its result
            if self._keys is None:
                if time.monotonic() < self._retry_at and not probing_now():
                    raise KeyManagerUnavailable(self.reason)
                try:
                    self._keys = self._load()
                except KeyManagerUnavailable as exc:
                    self._failed(str(exc))
                    raise
                except KeyringError as exc:
                    # It answers but cannot open the roots file (wrong key, wrong token
                    # policy): still no keys, still a 503 rather than a 500.
                    self._failed(str(exc))
                    raise KeyManagerUnavailable(str(exc)) from None
                note_answered()
                log.warning("the key manager answers again: keys loaded")
            return self._keys

    def _failed(self, reason: str) -> None:
        self.reason = reason
        self._retry_at = time.monotonic() + self.down_seconds


def app_keys(extensions: MutableMapping[str, Any]) -> VaultKeys | None:
    """An app's keys (from its `extensions`), the one place where an app that started
    while its key manager was down gets them: loaded now if it answers, and kept in place
    of the PendingKeys. KeyManagerUnavailable while it does not; None for an app that has
    no keys (not initialised)."""
    keys = extensions.get("vault.keys")
    if isinstance(keys, PendingKeys):
        keys = extensions["vault.keys"] = keys.resolve()
    return keys


def _transit_keyring(manager: KeyManager, roots: KeyManager, roots_file: Path) -> Keyring:
    index_key, audit_key = roots.open_roots(roots_file.read_text())
    versions = manager.versions
    return Keyring(keks=manager.version_roots(versions), primary=versions[-1],
                   index_key=index_key, last_issued=versions[-1], audit_key=audit_key)
