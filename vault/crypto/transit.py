"""KEKs in OpenBao (or HashiCorp Vault) Transit: the KEK never leaves the key manager.

The Transit key is a *derived* key (`derived=true`): every call names a context, and
Transit derives the actual AES-256-GCM key from the key version and that context. The
context is the person's public id (length-prefixed, with a purpose label), so a wrapped
DEK copied onto another person derives another key and fails to open, which is what
the associated data does in the file keyring. A derived key rather than our own AEAD
envelope around the call: our envelope would need a key of its own outside the key
manager, which is exactly what this backend exists to avoid.

The KEK version is bound too: Transit writes it into the ciphertext ("vault:v3:..."),
and the version the database lists for the row must match it before anything is sent,
so a row relabelled with another version never opens.

The token is either given (VAULT_TRANSIT_TOKEN, or VAULT_TRANSIT_TOKEN_FILE, read again
whenever the file changes) or obtained by an AppRole login (role_id + secret_id): then it
is renewed before it expires, a token the server no longer accepts (expired, revoked) is
replaced by a new login, once per call, and it is revoked when the process exits.

A key manager that does not answer (refused connection, timeout, 5xx) is remembered as
down for a few seconds: calls in that time fail at once (503) instead of each request
waiting for the whole timeout again. The readiness probe still asks (vault.crypto.
kek_backend.probing), and the first call that is answered ends the outage.

Retiring maps onto Transit's own destruction: raise `min_decryption_version` past the
version, then `trim` the key so the versions below it are deleted from the key manager
(and from its later backups). Transit can only destroy a prefix of versions, so
retiring N destroys every version up to N (each must already be unused).
"""

from __future__ import annotations

import atexit
import base64
import functools
import json
import os
import re
import struct
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import hvac
import requests
from hvac import exceptions as hvac_errors

from vault.crypto.envelope import DEK_BYTES, DataKey, WrappedKey
from vault.crypto.kek_backend import KeyManagerUnavailable, probing_now
from vault.crypto.keyring import KeyringError

_CONTEXT = b"vault.dek.v1"
_CIPHERTEXT = re.compile(rb"\Avault:v([1-9][0-9]{0,9}):[A-Za-z0-9+/=]+\Z")
# Keys per request. OpenBao refuses a JSON body of more than 1,000 strings
# (max_request_json_strings, a listener setting against JSON complexity attacks) with
# a 400 for the whole batch, and each item is four strings (two names, two values):
# 200 items stay under it with room, and rotating 100,000 keys is still 500 calls.
BATCH = 200
T = TypeVar("T")
Refusal = Literal["retry", "policy", "refused"]


def context_for(public_id: str) -> str:
    pid = public_id.encode()
    return base64.b64encode(_CONTEXT + struct.pack(">H", len(pid)) + pid).decode()


def version_of(blob: bytes) -> int | None:
    match = _CIPHERTEXT.match(blob)
    return int(match.group(1)) if match else None


# Every failure of the transport or the server that is not about one key.
_DOWN = (requests.exceptions.RequestException, hvac_errors.VaultDown,
         hvac_errors.InternalServerError, hvac_errors.BadGateway,
         hvac_errors.Forbidden, hvac_errors.Unauthorized,
         hvac_errors.RateLimitExceeded, hvac_errors.UnexpectedError,
         hvac_errors.VaultNotInitialized, hvac_errors.PreconditionFailed)
_REFUSED = (hvac_errors.Forbidden, hvac_errors.Unauthorized)
# The failures that say the key manager cannot serve anyone right now (unreachable, hung,
# sealed, overloaded), as opposed to an answer about this call: these start an outage.
_UNREACHABLE = (requests.exceptions.RequestException, hvac_errors.VaultDown,
                hvac_errors.InternalServerError, hvac_errors.BadGateway,
                hvac_errors.RateLimitExceeded)
# A renewal that fails with these waits for the server instead of logging in. Not a 500:
# OpenBao has answered one to a renewal while serving everything else (seen once under
# load, near a token's max TTL), and a login then cures it; a server that is really
# broken fails the login too, which reports the outage.
_RENEWAL_DOWN = tuple(e for e in _UNREACHABLE if e is not hvac_errors.InternalServerError)
# How long a token the server vouched for (lookup-self) counts as valid when a call with
# it is refused: a 403 then means the token's policy does not allow the call, and is no
# reason to log in again.
_POLICY_RECHECK_SECONDS = 30.0


class _NoTransitKey(KeyManagerUnavailable):
    """The server answers 404: no such Transit key or mount (create_key makes it; for
    every other call it is a key manager that cannot serve, a 503, not a 500)."""


class _Unreachable(KeyManagerUnavailable):
    """The key manager could not be reached or cannot serve (see _UNREACHABLE)."""


def _unavailable(exc: BaseException) -> KeyManagerUnavailable:
    # Only the class name: a server message could quote a ciphertext.
    kind = _Unreachable if isinstance(exc, _UNREACHABLE) else KeyManagerUnavailable
    return kind(f"the key manager did not answer ({exc.__class__.__name__})")


def _policy_denied(key_name: str) -> KeyManagerUnavailable:
    return KeyManagerUnavailable(
        f"the key manager refused the call on Transit key {key_name!r} (Forbidden): the "
        "token is valid but its policy does not allow it")


class TokenFile:
    """A token kept in a file by someone else (an OpenBao Agent's sink, the operator's
    renewal job): read again whenever the file changes, so a replaced token is used
    without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None

    def __repr__(self) -> str:  # never the token
        return f"TokenFile({str(self.path)!r})"

    def changed(self, *, force: bool = False) -> str | None:
        """The token in the file if the file changed since the last read (or, with
        `force`, whatever it holds now), else None."""
        try:
            stat = self.path.stat()
        except OSError:
            return None  # being replaced (or gone): keep the token we have
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if seen == self._seen and not force:
            return None
        try:
            token = self.path.read_text().strip()
        except OSError:
            return None
        if not token:
            return None  # written but not yet filled: read it again next time
        self._seen = seen
        return token


class AppRoleLogin:
    """An AppRole login: the role_id and a loader of the secret_id (read again at every
    login, so a secret_id replaced in its file by the operator is picked up)."""

    def __init__(self, role_id: str, secret_id: Callable[[], str],
                 mount_point: str = "approle") -> None:
        self._role_id = role_id
        self._secret_id = secret_id
        self.mount_point = mount_point

    def __repr__(self) -> str:  # never the role_id or the secret_id
        return f"AppRoleLogin(mount={self.mount_point!r})"

    def __call__(self, client: hvac.Client) -> dict[str, Any]:
        """Log in; the answer's `auth` (lease_duration, renewable). The client holds the
        new token afterwards."""
        try:
            secret_id = self._secret_id()
        except KeyringError as exc:
            raise KeyManagerUnavailable(f"AppRole login impossible: {exc}") from None
        try:
            answer = client.auth.approle.login(role_id=self._role_id, secret_id=secret_id,
                                               mount_point=self.mount_point, use_token=True)
        except (hvac_errors.InvalidRequest, *_REFUSED):
            # OpenBao answers 400 "invalid role or secret ID" to an unknown, expired or
            # used-up secret_id; the operator must issue a new one (nothing to retry).
            raise KeyManagerUnavailable(
                "the key manager refused the AppRole login: the role_id or secret_id is "
                "wrong, expired or used up; issue a new secret_id") from None
        except _DOWN as exc:
            raise _unavailable(exc) from None
        return dict(answer["auth"])


class TransitConnection:
    """One client and its token, shared by the KEK key and the roots key. With AppRole the
    token is renewed at two thirds of its lease, and replaced by a new login when it can
    no longer be renewed or the server refuses it; with a token file, the token is read
    again when the file changes. Remembers an outage for `down_seconds`."""

    def __init__(self, client: hvac.Client, login: AppRoleLogin | None = None, *,
                 token_file: TokenFile | None = None, down_seconds: float = 5.0) -> None:
        self.client = client
        self.login = login
        self.token_file = token_file
        self.down_seconds = down_seconds
        self._lock = threading.Lock()
        self._renew_at = float("-inf")
        self._expires_at = float("-inf")
        self._renewable = False
        self._lease = 0.0
        # An outage: until when calls fail at once, and why (the last failure).
        self._down_until = float("-inf")
        self.down_reason: str | None = None
        # A token the server said is valid although a call with it was refused (so the
        # refusal was its policy's), and when it said so.
        self._vouched: tuple[str, float] | None = None
        # The process that logged in (and so owns the token): only it revokes the token.
        self._login_pid: int | None = None
        if token_file is not None:
            token_file.changed()  # the token in it now is the client's (read at start)

    def __repr__(self) -> str:  # never the token
        return f"TransitConnection(login={self.login!r}, token_file={self.token_file!r})"

    # -- outages --------------------------------------------------------------------------
    def check_up(self) -> None:
        """Fail at once while an outage is remembered (not for the readiness probe)."""
        if time.monotonic() < self._down_until and not probing_now():
            raise KeyManagerUnavailable(self.down_reason or "the key manager did not answer")

    def went_down(self, error: KeyManagerUnavailable) -> None:
        self.down_reason = str(error)
        self._down_until = time.monotonic() + self.down_seconds

    def answered(self) -> None:
        self._down_until = float("-inf")

    # -- the token ------------------------------------------------------------------------
    def _take(self, auth: dict[str, Any], started: float) -> None:
        lease = self._lease = float(auth.get("lease_duration") or 0)
        # A lease of 0 never expires (a root or periodic token without TTL).
        self._expires_at = started + lease if lease else float("inf")
        self._renew_at = started + lease * 2 / 3 if lease else float("inf")
        self._renewable = bool(auth.get("renewable"))

    def _log_in(self) -> None:
        assert self.login is not None
        started = time.monotonic()
        self._take(self.login(self.client), started)
        if self._login_pid is None:
            # A token nobody uses any more should not stay valid on the server until its
            # TTL ends: revoked when the worker exits (a clean exit; not after SIGKILL).
            atexit.register(_revoke_at_exit, weakref.ref(self))
        self._login_pid = os.getpid()

    def ensure_token(self) -> None:
        """Before a call: a token that is valid for a while yet (AppRole), or the one the
        token file holds now."""
        if self.token_file is not None:
            token = self.token_file.changed()
            if token is not None:
                self.client.token = token
            return
        if self.login is None:
            return
        with self._lock:
            moment = time.monotonic()
            if moment < self._renew_at:
                return
            if self._renewable and moment < self._expires_at:
                try:
                    answer = self.client.auth.token.renew_self()
                except _RENEWAL_DOWN as exc:
                    # Down, not a token problem: a login would wait on the same dead
                    # server (a second timeout per request). 503; the token is still
                    # valid, renewed once the server answers.
                    raise _unavailable(exc) from None
                except hvac_errors.VaultError:
                    pass  # not renewable any more (max TTL, revoked): a new login below
                else:
                    auth = dict(answer["auth"])
                    # Near its max TTL a renewal grants less than asked: log in again
                    # rather than renew ever more often.
                    if float(auth.get("lease_duration") or 0) > self._lease / 2:
                        self._take(auth, moment)
                        return
            self._log_in()

    def refused(self, token: str | None = None) -> Refusal:
        """The server refused `token` (the one the failed call used). "retry": once, with
        another token (the token file holds a new one, or a new login got one); "policy":
        the token is valid, its policy does not allow the call; "refused": nothing to do."""
        if self.login is None and self.token_file is None:
            return "refused"
        with self._lock:
            # Every thread whose call failed with the old token lands here: the first
            # logs in, the others retry with its token rather than each log in again
            # (a secret_id limited to a few uses would be spent by one burst of 403s).
            if token is not None and self.client.token != token:
                return "retry"
            if self.token_file is not None:
                # Read whatever it holds (two writes within one tick of the file
                # system's clock look unchanged to a stat).
                new = self.token_file.changed(force=True)
                if new is None or new == self.client.token:
                    return "refused"
                self.client.token = new
                return "retry"
            # OpenBao answers 403 both to a token it no longer knows and to a valid token
            # whose policy does not allow the call. Only the first is cured by a login;
            # for the second every request would log in again (a login storm: a new
            # token each, never used again, and a secret_id's uses spent).
            if self._token_is_valid():
                return "policy"
            self._log_in()
        return "retry"

    def vouch(self, token: str | None) -> None:
        """A token fresh from a login was refused at once: its policy's doing, not its
        validity (used when lookup-self itself is not allowed to the token)."""
        if token is not None:
            self._vouched = (token, time.monotonic())

    def _token_is_valid(self) -> bool:
        token = self.client.token
        moment = time.monotonic()
        if self._vouched is not None and self._vouched[0] == token and \
                moment - self._vouched[1] < _POLICY_RECHECK_SECONDS:
            return True
        try:
            self.client.auth.token.lookup_self()
        except _REFUSED:
            return False  # revoked or expired (or lookup-self not allowed: see vouch)
        except _UNREACHABLE as exc:
            raise _unavailable(exc) from None
        except hvac_errors.VaultError:
            return False
        self._vouched = (token, moment)
        return True

    def revoke(self) -> None:
        """Revoke the token this process logged in for (nothing for a given token: it is
        not ours to end). Best effort: at exit, a key manager that is down is not waited
        for again."""
        if self.login is None or self._login_pid != os.getpid():
            return
        if time.monotonic() < self._down_until:
            return
        try:
            self.client.auth.token.revoke_self()
        except (hvac_errors.VaultError, requests.exceptions.RequestException):
            return
        self._login_pid = None
        self._renew_at = self._expires_at = float("-inf")


def _revoke_at_exit(ref: weakref.ref[TransitConnection]) -> None:
    connection = ref()
    if connection is not None:
        connection.revoke()


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i:i + BATCH] for i in range(0, len(items), BATCH)]


def environment_read_once(url: str, token: str | None, timeout: float) -> hvac.Client:
    """A client whose proxy and CA bundle settings come from the environment once, here.

    requests otherwise reads them again on every call (proxies, NO_PROXY, netrc, the CA
    bundle: a walk over the whole environment and a netrc lookup), which cost about a
    millisecond of a search page's key-manager call. The same variables count, with the
    same precedence: VAULT_CACERT/VAULT_CAPATH (hvac's) before REQUESTS_CA_BUNDLE."""
    found = requests.Session().merge_environment_settings(url, {}, None, None, None)
    bundle = found.get("verify")
    own_ca = os.environ.get("VAULT_CACERT") or os.environ.get("VAULT_CAPATH")
    client = hvac.Client(url=url, token=token, timeout=timeout,
                         verify=bundle if isinstance(bundle, str) and not own_ca else None,
                         proxies=found.get("proxies") or None)
    client.adapter.session.trust_env = False
    return client


class TransitKekBackend:
    name = "transit"

    def __init__(self, client: hvac.Client | TransitConnection, key_name: str,
                 mount_point: str = "transit") -> None:
        self.connection = (client if isinstance(client, TransitConnection)
                           else TransitConnection(client))
        self.client = self.connection.client
        self.key_name = key_name
        self.mount_point = mount_point

    def __repr__(self) -> str:  # never the token
        return f"TransitKekBackend(key={self.key_name!r}, mount={self.mount_point!r})"

    # -- calls, with every transport or server failure turned into one exception --------
    def _call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        connection = self.connection
        connection.check_up()
        try:
            connection.ensure_token()
            result = self._call_with_token(fn, **kwargs)
        except _Unreachable as error:
            connection.went_down(error)
            raise
        connection.answered()
        return result

    def _call_with_token(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        token = self.client.token
        try:
            try:
                return fn(name=self.key_name, mount_point=self.mount_point, **kwargs)
            except _REFUSED:
                # An AppRole token that expired early or was revoked: one new login (or
                # the token file's new token).
                refusal = self.connection.refused(token)
                if refusal == "policy":
                    raise _policy_denied(self.key_name) from None
                if refusal == "refused":
                    raise
            fresh = self.client.token
            try:
                return fn(name=self.key_name, mount_point=self.mount_point, **kwargs)
            except _REFUSED:
                if self.connection.login is None:
                    raise
                # Refused again with a token just obtained by a login: its policy's refusal
                # (so the next refused call does not log in again).
                self.connection.vouch(fresh)
                raise _policy_denied(self.key_name) from None
        except _DOWN as exc:
            raise _unavailable(exc) from None
        except hvac_errors.InvalidPath:
            raise _NoTransitKey(f"the key manager has no Transit key {self.key_name!r} "
                                f"on mount {self.mount_point!r}") from None

    def create_key(self) -> None:
        """Create the derived Transit key if it does not exist (idempotent)."""
        try:
            self._call(self.client.secrets.transit.read_key)
        except _NoTransitKey:
            self._call(self.client.secrets.transit.create_key, derived=True,
                       key_type="aes256-gcm96", exportable=False)

    def _key_info(self) -> dict[str, Any]:
        try:
            return dict(self._call(self.client.secrets.transit.read_key)["data"])
        except _NoTransitKey:
            raise KeyringError(f"no Transit key {self.key_name!r}") from None

    @property
    def primary(self) -> int:
        return int(self._key_info()["latest_version"])

    @property
    def versions(self) -> list[int]:
        info = self._key_info()
        return list(range(int(info["min_decryption_version"]), int(info["latest_version"]) + 1))

    def _batch(self, fn: Callable[..., Any], batch: list[dict[str, str]]) -> list[str | None]:
        """Run one batch call; the ciphertext or plaintext of each item, None for an item
        Transit refused (too old, tampered, wrong context). KeyManagerUnavailable when
        it refused the whole request."""
        try:
            results = self._call(fn, batch_input=batch)["data"]["batch_results"]
        except hvac_errors.InvalidRequest as exc:
            # OpenBao answers 400 to a batch in which any item failed, with the results of
            # all items in the body; without them, every item counts as failed.
            body = exc.json if isinstance(exc.json, dict) else {}
            results = (body.get("data") or {}).get("batch_results") or body.get("batch_results")
            if not isinstance(results, list) or len(results) != len(batch):
                # Refused as a request (the key is gone, the body over a limit), not
                # item by item: no key is known to be bad, so not None for each (that
                # reads as damaged records in 'vault check' and stops a rotation).
                raise KeyManagerUnavailable("the key manager refused the batch "
                                            "(InvalidRequest)") from None
        out: list[str | None] = []
        for result in results:
            if result.get("error"):
                out.append(None)
            else:
                out.append(result.get("ciphertext") or result.get("plaintext"))
        return out

    def _batches(self, fn: Callable[..., Any], batches: list[list[dict[str, str]]]
                 ) -> list[list[str | None]]:
        """Every batch's results, in order, one request after the other. (Two requests
        in flight at once measured slower on a busy two-core machine: 0.59x.)"""
        return [self._batch(fn, batch) for batch in batches]

    def wrap(self, items: Sequence[tuple[DataKey, str]]) -> list[WrappedKey]:
        out: list[WrappedKey] = []
        batches = [[{"plaintext": base64.b64encode(struct.pack(">I", dek.key_id) + dek.key)
                     .decode(), "context": context_for(public_id)} for dek, public_id in chunk]
                   for chunk in _chunks(items)]
        for results in self._batches(self.client.secrets.transit.encrypt_data, batches):
            for ciphertext in results:
                if ciphertext is None:
                    raise KeyManagerUnavailable("the key manager refused to wrap a key")
                blob = ciphertext.encode()
                version = version_of(blob)
                assert version is not None
                out.append(WrappedKey(version, blob))
        return out

    def _valid(self, items: Sequence[tuple[WrappedKey, str]]) -> list[int]:
        # Positions whose ciphertext names the version the row lists: anything else is a
        # relabelled or corrupt row and is never sent.
        return [i for i, (wrapped, _) in enumerate(items)
                if version_of(bytes(wrapped.blob)) == wrapped.kek_version]

    def unwrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[DataKey | None]:
        out: list[DataKey | None] = [None] * len(items)
        chunks = _chunks(self._valid(items))
        results = self._batches(self.client.secrets.transit.decrypt_data,
                                self._sealed_batches(items, chunks))
        for chunk, plains in zip(chunks, results, strict=True):
            for i, plain in zip(chunk, plains, strict=True):
                out[i] = _data_key(plain)
        return out

    @staticmethod
    def _sealed_batches(items: Sequence[tuple[WrappedKey, str]],
                        chunks: list[Sequence[int]]) -> list[list[dict[str, str]]]:
        return [[{"ciphertext": bytes(items[i][0].blob).decode(),
                  "context": context_for(items[i][1])} for i in chunk] for chunk in chunks]

    def rewrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[WrappedKey | None]:
        """Transit's rewrap: the DEKs never leave the key manager."""
        out: list[WrappedKey | None] = [None] * len(items)
        chunks = _chunks(self._valid(items))
        results = self._batches(functools.partial(self.client.secrets.transit.rewrap_data,
                                                  ciphertext=None),
                                self._sealed_batches(items, chunks))
        for chunk, answers in zip(chunks, results, strict=True):
            for i, ciphertext in zip(chunk, answers, strict=True):
                if ciphertext is not None:
                    blob = ciphertext.encode()
                    version = version_of(blob)
                    if version is not None:
                        out[i] = WrappedKey(version, blob)
        return out

    def rotate(self) -> int:
        self._call(self.client.secrets.transit.rotate_key)
        return self.primary

    # What a key manager offers VaultKeys besides wrapping (see vault.keys).
    def version_roots(self, versions: Sequence[int]) -> dict[int, bytes]:
        return version_roots(self, versions)

    def seal_roots(self, index_key: bytes, audit_key: bytes) -> str:
        return seal_roots(self, index_key, audit_key)

    def open_roots(self, text: str) -> tuple[bytes, bytes]:
        return open_roots(self, text)

    def retiring(self, version: int) -> list[int]:
        """The versions retire(version) destroys: Transit trims a prefix, every older
        version goes with it."""
        return [v for v in self.versions if v <= version]

    def retire(self, version: int) -> list[int]:
        info = self._key_info()
        latest, oldest = int(info["latest_version"]), int(info["min_decryption_version"])
        if version >= latest:
            raise KeyringError("the primary KEK version cannot be retired; rotate first")
        if version < oldest:
            raise KeyringError(f"KEK version {version} is not in the key manager")
        # First nobody may decrypt with it, then the key manager deletes it for good (trim
        # needs a floor for encryption too: the primary, which new keys use anyway).
        # (Two calls: hvac refuses both floors equal in one, which the server accepts.)
        self._call(self.client.secrets.transit.update_key_configuration,
                   min_decryption_version=version + 1)
        self._call(self.client.secrets.transit.update_key_configuration,
                   min_encryption_version=latest)
        self._call(self.client.secrets.transit.trim_key, min_version=version + 1)
        return list(range(oldest, version + 1))


def _data_key(plain: str | None) -> DataKey | None:
    if plain is None:
        return None
    try:
        raw = base64.b64decode(plain, validate=True)
    except ValueError:
        return None
    if len(raw) != 4 + DEK_BYTES:
        return None
    (key_id,) = struct.unpack_from(">I", raw, 0)
    return DataKey(raw[4:], key_id)


# -- what the in-memory keyring of a Transit-backed app is made of ------------------------
_VERSION_ROOT = base64.b64encode(b"vault.version-root.v1").decode()


def version_roots(backend: TransitKekBackend, versions: Sequence[int]) -> dict[int, bytes]:
    """Per KEK version, a 256-bit root for the keys derived from that version (staff TOTP
    secrets, mail not yet bound to a person, held uploads): Transit's HMAC under that
    version. Not the KEK (which never leaves Transit), and it dies with the version:
    once trimmed, Transit cannot compute it again, so what it sealed is shredded too."""
    roots: dict[int, bytes] = {}
    for version in versions:
        answer = backend._call(backend.client.secrets.transit.generate_hmac,
                               hash_input=_VERSION_ROOT, key_version=version,
                               algorithm="sha2-256")
        tag = str(answer["data"]["hmac"]).encode()
        if version_of(tag) != version:
            raise KeyManagerUnavailable("the key manager answered for another version")
        roots[version] = base64.b64decode(tag.split(b":", 2)[2])
    return roots


ROOTS_FORMAT = 1
_ROOT_IDS = {"index_key": "vault-root:index", "audit_key": "vault-root:audit"}


def seal_roots(backend: TransitKekBackend, index_key: bytes, audit_key: bytes) -> str:
    """The blind-index root key and the audit root key wrapped by Transit, as the JSON
    document kept in the roots file (nothing in it opens without the key manager)."""
    names = list(_ROOT_IDS)
    wrapped = backend.wrap([(DataKey(key, 0), _ROOT_IDS[name])
                            for name, key in zip(names, (index_key, audit_key), strict=True)])
    doc = {"format": ROOTS_FORMAT, "backend": "transit", "key": backend.key_name}
    doc.update({name: bytes(w.blob).decode() for name, w in zip(names, wrapped, strict=True)})
    return json.dumps(doc, indent=2)


def open_roots(backend: TransitKekBackend, text: str) -> tuple[bytes, bytes]:
    """(index_key, audit_key) unwrapped into memory, in one call."""
    try:
        doc = json.loads(text)
        if doc.get("format") != ROOTS_FORMAT or doc.get("backend") != "transit":
            raise KeyringError("the roots file is not a Transit roots file")
        blobs = [str(doc[name]).encode() for name in _ROOT_IDS]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise KeyringError("the roots file is not valid") from None
    items = [(WrappedKey(version_of(b) or 0, b), pid)
             for b, pid in zip(blobs, _ROOT_IDS.values(), strict=True)]
    index_key, audit_key = backend.unwrap(items)
    if index_key is None or audit_key is None:
        raise KeyringError("the key manager cannot open the roots file (wrong key, or its "
                           "version was retired)")
    return index_key.key, audit_key.key
