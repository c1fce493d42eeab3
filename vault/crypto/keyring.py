"""Versioned key-encryption keys (KEKs), the blind-index root key and the audit root key.

Like Tink keysets and Fernet's MultiFernet: one primary version wraps, older
versions only unwrap until they are retired (destroyed). Versions are integers
counting from 1 and never reused, so a retired version can never come back.

The audit root key has its own field because the audit chain's key must never change:
KEKs rotate and retire, and `vault reindex --new-index-key` replaces the index key, but
an audit chain keyed by either would stop verifying after the rotation. Keyrings
written before it existed load without it (audit_key None); `vault init` adds it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
FORMAT_VERSION = 1


class KeyringError(Exception):
    """The keyring is missing, unreadable or inconsistent (never contains key bytes)."""


@dataclass
class Keyring:
    # Never in a repr: a keyring shows up in tracebacks, debug logs and test failures
    # (through VaultKeys and the per-request cache), and these are the keys themselves.
    keks: dict[int, bytes] = field(repr=False)
    primary: int
    index_key: bytes = field(repr=False)
    # Highest version ever issued, so retiring the newest one can never lead to reuse.
    last_issued: int = field(default=0)
    # Root of the audit chain's HMAC key (vault.crypto.chain); never rotated.
    audit_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.primary not in self.keks:
            raise KeyringError("the primary KEK version is not in the keyring")
        keys = [*self.keks.values(), self.index_key]
        if self.audit_key is not None:
            keys.append(self.audit_key)
        if any(len(k) != KEY_BYTES for k in keys):
            raise KeyringError("every key in the keyring must be 256 bits")
        self.last_issued = max(self.last_issued, *self.keks)

    @classmethod
    def generate(cls) -> Keyring:
        return cls(keks={1: secrets.token_bytes(KEY_BYTES)}, primary=1,
                   index_key=secrets.token_bytes(KEY_BYTES), last_issued=1,
                   audit_key=secrets.token_bytes(KEY_BYTES))

    def add_audit_key(self) -> bool:
        """Give a keyring from before the keyed audit chain its audit root key (once)."""
        if self.audit_key is not None:
            return False
        self.audit_key = secrets.token_bytes(KEY_BYTES)
        return True

    def kek(self, version: int) -> bytes | None:
        return self.keks.get(version)

    def derived_key(self, purpose: str, version: int | None = None) -> tuple[int, bytes]:
        """(version, key): a key for one purpose derived (HKDF) from a KEK version.

        For what belongs to no person's data key (mail not yet bound to a record). It
        lives and dies with its KEK version: retiring the version kills what it sealed,
        so the backup bound of crypto-shredding holds for it too. Raises KeyringError
        when the version is gone."""
        chosen = self.primary if version is None else version
        kek = self.keks.get(chosen)
        if kek is None:
            raise KeyringError(f"KEK version {chosen} is not in the keyring")
        key = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                   info=b"vault.derived.v1:" + purpose.encode()).derive(kek)
        return chosen, key

    @property
    def versions(self) -> list[int]:
        return sorted(self.keks)

    def rotate(self) -> int:
        """Add a new primary KEK version; older versions stay for unwrapping."""
        version = self.last_issued + 1
        self.keks[version] = secrets.token_bytes(KEY_BYTES)
        self.primary = version
        self.last_issued = version
        return version

    def retire(self, version: int) -> None:
        """Destroy a KEK version. Whatever it wrapped (also in backups) is dead from now on."""
        if version == self.primary:
            raise KeyringError("the primary KEK version cannot be retired; rotate first")
        if version not in self.keks:
            raise KeyringError(f"KEK version {version} is not in the keyring")
        del self.keks[version]

    # Serialisation: JSON, keys in base64. The whole document is what VAULT_KEYRING holds
    # (itself base64-encoded so it fits in one environment variable).
    def to_json(self) -> str:
        doc: dict[str, object] = {
            "format": FORMAT_VERSION,
            "primary": self.primary,
            "last_issued": self.last_issued,
            "keks": {str(v): base64.b64encode(k).decode() for v, k in sorted(self.keks.items())},
            "index_key": base64.b64encode(self.index_key).decode(),
        }
        if self.audit_key is not None:
            doc["audit_key"] = base64.b64encode(self.audit_key).decode()
        return json.dumps(doc, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            doc = json.loads(text)
            if doc.get("format") != FORMAT_VERSION:
                raise KeyringError("unknown keyring format")
            return cls(
                keks={int(v): base64.b64decode(k, validate=True) for v, k in doc["keks"].items()},
                primary=int(doc["primary"]),
                index_key=base64.b64decode(doc["index_key"], validate=True),
                last_issued=int(doc.get("last_issued", 0)),
                audit_key=(base64.b64decode(doc["audit_key"], validate=True)
                           if "audit_key" in doc else None),
            )
        except KeyringError:
            raise
        except (ValueError, KeyError, TypeError):
            # No detail from the parser: it could quote key material.
            raise KeyringError("the keyring is not valid") from None

    def to_env(self) -> str:
        return base64.b64encode(self.to_json().encode()).decode()

    def save(self, path: Path) -> None:
        write_private_file(path, self.to_json())


def write_private_file(path: Path, text: str) -> None:
    """Write a key file (the keyring, a key manager's wrapped roots) atomically with mode
    0600: a half-written one would lose every key it holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_keyring(env_value: str | None, path: Path) -> Keyring:
    """The keyring from VAULT_KEYRING (base64 JSON) if set, else from the file."""
    if env_value:
        try:
            text = base64.b64decode(env_value, validate=True).decode()
        except ValueError:
            raise KeyringError("VAULT_KEYRING is not valid base64") from None
        return Keyring.from_json(text)
    if not path.exists():
        raise KeyringError(f"no keyring at {path}: run 'vault init'")
    # A keyring readable by others on the machine is as good as published.
    if path.stat().st_mode & 0o077:
        raise KeyringError(f"{path} must be readable by its owner only (chmod 600)")
    return Keyring.from_json(path.read_text())
