"""KEKs in a hardware security module over PKCS#11 (SoftHSM2 in the tests).

Each KEK version is a token object: an AES-256 key labelled `<key>-v<N>` (sensitive,
never extractable) that wraps data keys with AES-GCM inside the module, the person's
public id and the version in the associated data, exactly as the keyring file does;
and a generic secret `<key>-v<N>-derive` from which the module computes (HMAC-SHA256)
the root of that version's derived keys. Retiring N destroys both objects in the
module itself. PKCS#11 has no batch call: a page of keys is a loop over one session,
which the module answers in tens of microseconds per key.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import exceptions as p11_errors
from pkcs11.mechanisms import GCMParams

from vault.crypto.envelope import (
    DEK_BYTES,
    NONCE_BYTES,
    TAG_BYTES,
    DataKey,
    WrappedKey,
    _wrap_ad,
)
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.crypto.keyring import KeyringError

FORMAT_PKCS11 = 0x02
T = TypeVar("T")
_BLOB_BYTES = 1 + NONCE_BYTES + 4 + DEK_BYTES + TAG_BYTES
_DERIVE_INPUT = b"vault.version-root.v1"
# The module or the session is gone: retry later (opening a session fails with any error
# while the module is unusable, see _open). Anything else about one key (a bad
# tag shows as one of several codes, depending on the module) means that key is bad.
_UNAVAILABLE = (p11_errors.DeviceRemoved, p11_errors.DeviceError, p11_errors.TokenNotPresent,
                p11_errors.TokenNotRecognised, p11_errors.SessionClosed,
                p11_errors.SessionHandleInvalid, p11_errors.UserNotLoggedIn,
                p11_errors.PinIncorrect, p11_errors.PinLocked, p11_errors.DeviceMemory,
                p11_errors.NoSuchToken)
# A key object's handle went stale (our session copy was dropped, the object destroyed and
# made again): about that object, not the module. The key objects are scanned again;
# re-initialising the module would cut every session of the process (the other backends'
# too) for one stale handle.
_STALE = (p11_errors.ObjectHandleInvalid, p11_errors.KeyHandleInvalid)


class _TokenGone(Exception):
    """The token answers but holds none of our key objects: it was removed or replaced
    (a key is never destroyed without a newer one, so none at all is never normal)."""


# Per module path: [generation, stale]. A module that failed is initialised again
# (C_Finalize, C_Initialize) before its next use, so a token that was removed and comes
# back is found again without a restart. Every backend of the process on that module
# reopens its session after such a re-initialisation (its old handle is dead).
_MODULES: dict[str, list[int]] = {}
_MODULES_LOCK = threading.Lock()


def _module_generation(module: str) -> int:
    with _MODULES_LOCK:
        state = _MODULES.setdefault(module, [0, 0])
        if state[1]:
            pkcs11.lib(module).reinitialize()
            state[0] += 1
            state[1] = 0
        return state[0]


def _module_failed(module: str) -> None:
    with _MODULES_LOCK:
        _MODULES.setdefault(module, [0, 0])[1] = 1


class Pkcs11KekBackend:
    name = "pkcs11"

    def __init__(self, module: str, token_label: str, pin: str, key_name: str) -> None:
        self.module = module
        self.token_label = token_label
        self._pin = pin
        self.key_name = key_name
        self._label = re.compile(rf"\A{re.escape(key_name)}-v([1-9][0-9]{{0,9}})\Z")
        self._session: Any = None
        self._generation = -1
        # The KEK versions' key objects, found once per session rather than by a scan of
        # the token on every call; scanned again when the versions are read (each
        # reload after another process rotated or retired), and dropped with the session
        # and after rotate or retire here. Each is a session copy of the token object
        # where the module allows it (still sensitive, never extractable, inside the
        # module, gone with the session): SoftHSM re-reads a token object's file on
        # every use, which made a page's 20 unwraps cost 1.9 ms instead of 0.8.
        self._handles: dict[int, Any] | None = None
        self._copies: list[Any] = []
        # One session, used by one thread at a time (PKCS#11 sessions are not shared).
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the PIN
        return f"Pkcs11KekBackend(token={self.token_label!r}, key={self.key_name!r})"

    @contextmanager
    def _open(self) -> Iterator[Any]:
        with self._lock:
            opened = False
            try:
                generation = _module_generation(self.module)
                if self._session is None or self._generation != generation:
                    self._forget_session()
                    token = pkcs11.lib(self.module).get_token(token_label=self.token_label)
                    try:
                        self._session = token.open(rw=True, user_pin=self._pin)
                    except p11_errors.UserAlreadyLoggedIn:
                        # Login is per application, not per session: another backend
                        # of this process (the roots key) logged in already.
                        self._session = token.open(rw=True)
                    self._generation = generation
                opened = True
                yield self._session
            except (*_UNAVAILABLE, _TokenGone) as exc:
                self._forget_session()
                _module_failed(self.module)
                what = ("holds no key " + repr(self.key_name) if isinstance(exc, _TokenGone)
                        else f"did not answer ({exc.__class__.__name__})")
                raise KeyManagerUnavailable(f"the security module {what}") from None
            except (OSError, RuntimeError) as exc:
                if isinstance(exc, p11_errors.PKCS11Error) and opened:
                    # About the operation, not the module: the session and the module
                    # stay as they are, but a raw PKCS11Error would be a 500 page (and
                    # its message names our key objects).
                    raise KeyManagerUnavailable(f"the security module refused the operation "
                                                f"({exc.__class__.__name__})") from None
                self._forget_session()
                _module_failed(self.module)
                raise KeyManagerUnavailable(f"the security module cannot be loaded "
                                            f"({exc.__class__.__name__})") from None

    def _forget_session(self) -> None:
        """The session is gone (or replaced): its key copies went with it."""
        self._session = self._handles = None
        self._copies = []

    def _present(self, session: Any, *, fresh: bool = False) -> dict[int, Any]:
        """Our key objects; _TokenGone when there are none."""
        keys = self._keys(session, fresh=fresh)
        if not keys:
            raise _TokenGone
        return keys

    def _token_keys(self, session: Any) -> dict[int, Any]:
        """The token objects of the KEK versions, as the module holds them now."""
        found: dict[int, Any] = {}
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                        Attribute.KEY_TYPE: KeyType.AES,
                                        Attribute.TOKEN: True}):
            match = self._label.match(obj.label or "")
            if match:
                found[int(match.group(1))] = obj
        return found

    def _keys(self, session: Any, *, fresh: bool = False) -> dict[int, Any]:
        """The key object to use for each KEK version (a dict of our own: callers may not
        change the cache). From the cache unless `fresh` or there is none yet."""
        if self._handles is None or fresh:
            self._drop_copies()
            found = self._token_keys(session)
            for version, obj in found.items():
                try:
                    found[version] = obj.copy({Attribute.TOKEN: False})
                except p11_errors.PKCS11Error:
                    continue  # a module that refuses copies: the token object serves
                self._copies.append(found[version])
            self._handles = found
        return dict(self._handles)

    def _drop_copies(self) -> None:
        """Destroy the session copies (a retired version must not live on in one)."""
        copies, self._copies, self._handles = self._copies, [], None
        for obj in copies:
            try:
                obj.destroy()
            except p11_errors.PKCS11Error:
                pass  # the session is gone already, and the copies with it

    def _derive_key(self, session: Any, version: int) -> Any:
        return session.get_key(object_class=ObjectClass.SECRET_KEY,
                               key_type=KeyType.GENERIC_SECRET,
                               label=f"{self.key_name}-v{version}-derive")

    def _generate(self, session: Any, version: int) -> list[Any]:
        return [
            session.generate_key(KeyType.AES, 256, label=f"{self.key_name}-v{version}",
                                 store=True,
                                 capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
                                 template={Attribute.SENSITIVE: True,
                                           Attribute.EXTRACTABLE: False}),
            session.generate_key(KeyType.GENERIC_SECRET, 256,
                                 label=f"{self.key_name}-v{version}-derive", store=True,
                                 capabilities=MechanismFlag.SIGN,
                                 template={Attribute.SENSITIVE: True,
                                           Attribute.EXTRACTABLE: False})]

    def create_key(self) -> None:
        with self._open() as session:
            if not self._token_keys(session):
                self._generate(session, 1)
                self._drop_copies()

    def _versions(self) -> list[int]:
        with self._open() as session:
            # Read from the token: this is how a reload learns of another process's
            # rotation or retirement.
            return sorted(self._present(session, fresh=True))

    @property
    def primary(self) -> int:
        return self._versions()[-1]

    @property
    def versions(self) -> list[int]:
        return self._versions()

    def _with_keys(self, session: Any, use: Callable[[dict[int, Any]], T],
                   *, fresh: bool = False) -> T:
        """use(key objects), once more after a scan of the token if a handle was stale."""
        try:
            return use(self._present(session, fresh=fresh))
        except _STALE:
            return use(self._present(session, fresh=True))

    def wrap(self, items: Sequence[tuple[DataKey, str]]) -> list[WrappedKey]:
        def wrap_all(keys: dict[int, Any]) -> list[WrappedKey]:
            version = max(keys)
            out = []
            for dek, public_id in items:
                nonce = os.urandom(NONCE_BYTES)
                sealed = keys[version].encrypt(
                    dek.key_id.to_bytes(4, "big") + dek.key, mechanism=Mechanism.AES_GCM,
                    mechanism_param=GCMParams(nonce, _wrap_ad(public_id, version), 128))
                out.append(WrappedKey(version, bytes([FORMAT_PKCS11]) + nonce + bytes(sealed)))
            return out

        with self._open() as session:
            return self._with_keys(session, wrap_all)

    def unwrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[DataKey | None]:
        def unwrap_all(keys: dict[int, Any]) -> list[DataKey | None]:
            return [_open_one(keys, wrapped, public_id) for wrapped, public_id in items]

        with self._open() as session:
            keys = self._present(session)
            # Only a version newer than the scan can have appeared since (made by another
            # process); an older one that is missing was retired and never comes back, so
            # it must not cost a scan of the token (and new copies of every key) per call.
            fresh = any(wrapped.kek_version > max(keys) for wrapped, _ in items)
            return self._with_keys(session, unwrap_all, fresh=fresh)

    def rewrap(self, items: Sequence[tuple[WrappedKey, str]]) -> list[WrappedKey | None]:
        # No rewrap in PKCS#11: each key is unwrapped and wrapped again in this process.
        deks = self.unwrap(items)
        opened = [(dek, public_id) for dek, (_, public_id) in zip(deks, items, strict=True)
                  if dek is not None]
        wrapped = iter(self.wrap(opened))
        return [None if dek is None else next(wrapped) for dek in deks]

    def rotate(self) -> int:
        with self._open() as session:
            version = max(self._token_keys(session), default=0) + 1
            made = self._generate(session, version)
            self._drop_copies()
            # Another process rotating at the same moment made the same label: two
            # objects for one version, each wrapping keys the other cannot open, and
            # only one of them found by a scan. Ours goes (nothing is wrapped with it
            # yet); if both processes see the pair, both go and both are told to retry.
            twins = session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                         Attribute.TOKEN: True,
                                         Attribute.LABEL: f"{self.key_name}-v{version}"})
            if sum(1 for _ in twins) > 1:
                for obj in made:
                    obj.destroy()
                raise KeyManagerUnavailable(f"another rotation made KEK version {version} at "
                                            "the same moment; none was made here")
            return version

    def retiring(self, version: int) -> list[int]:
        return [version]

    def retire(self, version: int) -> list[int]:
        with self._open() as session:
            keys = self._token_keys(session)
            if version not in keys:
                raise KeyringError(f"KEK version {version} is not in the security module")
            if version == max(keys):
                raise KeyringError("the primary KEK version cannot be retired; rotate first")
            self._drop_copies()
            keys[version].destroy()
            try:
                self._derive_key(session, version).destroy()
            except p11_errors.NoSuchKey:
                pass
        return [version]

    def version_roots(self, versions: Sequence[int]) -> dict[int, bytes]:
        with self._open() as session:
            return {v: bytes(self._derive_key(session, v).sign(
                _DERIVE_INPUT, mechanism=Mechanism.SHA256_HMAC)) for v in versions}

    def seal_roots(self, index_key: bytes, audit_key: bytes) -> str:
        wrapped = self.wrap([(DataKey(index_key, 0), "vault-root:index"),
                             (DataKey(audit_key, 0), "vault-root:audit")])
        doc: dict[str, object] = {"format": 1, "backend": "pkcs11", "key": self.key_name}
        for name, w in zip(("index_key", "audit_key"), wrapped, strict=True):
            doc[name] = {"version": w.kek_version, "blob": base64.b64encode(w.blob).decode()}
        return json.dumps(doc, indent=2)

    def open_roots(self, text: str) -> tuple[bytes, bytes]:
        try:
            doc = json.loads(text)
            if doc.get("format") != 1 or doc.get("backend") != "pkcs11":
                raise KeyringError("the roots file is not a PKCS#11 roots file")
            items = [(WrappedKey(int(doc[name]["version"]),
                                 base64.b64decode(doc[name]["blob"], validate=True)), pid)
                     for name, pid in (("index_key", "vault-root:index"),
                                       ("audit_key", "vault-root:audit"))]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KeyringError("the roots file is not valid") from None
        index_key, audit_key = self.unwrap(items)
        if index_key is None or audit_key is None:
            raise KeyringError("the security module cannot open the roots file")
        return index_key.key, audit_key.key


def _open_one(keys: dict[int, Any], wrapped: WrappedKey, public_id: str) -> DataKey | None:
    key = keys.get(wrapped.kek_version)
    blob = bytes(wrapped.blob)
    if key is None or len(blob) != _BLOB_BYTES or blob[0] != FORMAT_PKCS11:
        return None
    try:
        plain = bytes(key.decrypt(blob[1 + NONCE_BYTES:], mechanism=Mechanism.AES_GCM,
                                  mechanism_param=GCMParams(
                                      blob[1:1 + NONCE_BYTES],
                                      _wrap_ad(public_id, wrapped.kek_version), 128)))
    except (*_UNAVAILABLE, *_STALE):
        raise  # the module or the key object, not this key: never "a bad tag"
    except p11_errors.PKCS11Error:
        return None  # a bad tag: this key was tampered with or belongs to someone else
    return DataKey(plain[4:], int.from_bytes(plain[:4], "big"))

