"""Envelope encryption: one data key (DEK) per candidate, wrapped by a versioned KEK.

Every field and file is sealed with AES-256-GCM under the person's DEK. The
associated data binds each ciphertext to its place (table, column, public id)
and to the key id, so a ciphertext copied into another row, column or person
fails to open (Tink's AEAD contract, AWS encryption context). Ciphertexts are
self-describing (format byte, key id) so the right key is never found by trial
decryption. Every failure to open raises the one opaque DecryptionError, like
Fernet's InvalidToken: no oracle, and no plaintext or key in any message.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault.crypto.keyring import Keyring, KeyringError

FORMAT_V1 = 0x01
_HEADER = struct.Struct(">BI")  # format version, key id
NONCE_BYTES = 12
TAG_BYTES = 16
_PREFIX = _HEADER.size + NONCE_BYTES
DEK_BYTES = 32
_AD = struct.Struct(">14sH")  # b"vault.field.v1" and the first length
_LENGTH = struct.Struct(">H")
_KEY_ID = struct.Struct(">I")


class DecryptionError(Exception):
    """A ciphertext or wrapped key could not be opened. Deliberately says nothing more."""

    def __init__(self) -> None:
        super().__init__("the data could not be decrypted")


@dataclass(frozen=True, slots=True)
class DataKey:
    key: bytes
    key_id: int = 1

    def __repr__(self) -> str:  # never print key bytes
        return f"DataKey(key_id={self.key_id})"


@dataclass(frozen=True, slots=True)
class WrappedKey:
    kek_version: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class Context:
    """Where a ciphertext lives; part of its associated data."""

    table: str
    column: str
    public_id: str

    def associated_data(self, key_id: int) -> bytes:
        table, column, public_id = (self.table.encode(), self.column.encode(),
                                    self.public_id.encode())
        # Length-prefixed so that ("ab", "c") and ("a", "bc") never produce the same bytes.
        return (_AD.pack(b"vault.field.v1", len(table)) + table
                + _LENGTH.pack(len(column)) + column
                + _LENGTH.pack(len(public_id)) + public_id + _KEY_ID.pack(key_id))


def new_data_key(key_id: int = 1) -> DataKey:
    return DataKey(AESGCM.generate_key(bit_length=256), key_id)


def derived_data_key(keyring: Keyring, purpose: str, version: int | None = None) -> DataKey:
    """A data key derived from a KEK version (the primary by default) for one purpose; its
    key id is that version, so a ciphertext names the version that opens it."""
    try:
        chosen, key = keyring.derived_key(purpose, version)
    except KeyringError:
        raise DecryptionError from None
    return DataKey(key, chosen)


def key_id_of(ciphertext: bytes) -> int:
    """The key id a ciphertext names in its header (never found by trial decryption)."""
    if len(ciphertext) < _PREFIX + TAG_BYTES:
        raise DecryptionError
    fmt, key_id = _HEADER.unpack_from(ciphertext, 0)
    if fmt != FORMAT_V1:
        raise DecryptionError
    return int(key_id)


def seal_bytes(dek: DataKey, plaintext: bytes, context: Context) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    # encrypt_into writes straight after the header: no extra copy of a large CV.
    out = bytearray(_PREFIX + len(plaintext) + TAG_BYTES)
    _HEADER.pack_into(out, 0, FORMAT_V1, dek.key_id)
    out[_HEADER.size:_PREFIX] = nonce
    AESGCM(dek.key).encrypt_into(nonce, plaintext, context.associated_data(dek.key_id),
                                 memoryview(out)[_PREFIX:])
    return out  # type: ignore[return-value]  # bytearray is bytes-like everywhere we store it


def seal_many(dek: DataKey, items: Sequence[tuple[bytes, Context]]) -> list[bytes]:
    """seal_bytes for each (plaintext, context), with one cipher object for the key: the
    same ciphertexts, at half the cost for the small fields of a record.

    The nonces come from one read of the OS's random source, cut into NONCE_BYTES each:
    as random as one read each (bulk loads seal millions of fields; a read per field
    was a tenth of it). The associated data is the same bytes as
    Context.associated_data, its parts built once per table and column and once per
    record."""
    aead = AESGCM(dek.key)
    header = _HEADER.pack(FORMAT_V1, dek.key_id)
    nonces = os.urandom(NONCE_BYTES * len(items))
    key_id = _KEY_ID.pack(dek.key_id)
    places: dict[tuple[str, str], bytes] = {}
    records: dict[str, bytes] = {}
    sealed = []
    for number, (plaintext, context) in enumerate(items):
        nonce = nonces[number * NONCE_BYTES:(number + 1) * NONCE_BYTES]
        place = places.get((context.table, context.column))
        if place is None:
            place = places[(context.table, context.column)] = _place(context)
        record = records.get(context.public_id)
        if record is None:
            public_id = context.public_id.encode()
            record = records[context.public_id] = (_LENGTH.pack(len(public_id)) + public_id
                                                   + key_id)
        sealed.append(header + nonce + aead.encrypt(nonce, plaintext, place + record))
    return sealed


def _place(context: Context) -> bytes:
    """The table and column part of Context.associated_data."""
    table, column = context.table.encode(), context.column.encode()
    return (_AD.pack(b"vault.field.v1", len(table)) + table
            + _LENGTH.pack(len(column)) + column)


def open_bytes(dek: DataKey, ciphertext: bytes, context: Context) -> bytes:
    if len(ciphertext) < _PREFIX + TAG_BYTES:
        raise DecryptionError
    fmt, key_id = _HEADER.unpack_from(ciphertext, 0)
    # Verify the self-description before any decryption work.
    if fmt != FORMAT_V1 or key_id != dek.key_id:
        raise DecryptionError
    view = memoryview(ciphertext)
    try:
        return AESGCM(dek.key).decrypt(view[_HEADER.size:_PREFIX], view[_PREFIX:],
                                       context.associated_data(key_id))
    except (InvalidTag, ValueError):
        raise DecryptionError from None


def seal_text(dek: DataKey, plaintext: str, context: Context) -> bytes:
    return seal_bytes(dek, plaintext.encode("utf-8"), context)


def open_text(dek: DataKey, ciphertext: bytes, context: Context) -> str:
    try:
        return open_bytes(dek, ciphertext, context).decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError from None


# Wrapping: the DEK (with its key id) sealed under a KEK version, the person's public id
# and the KEK version in the associated data, so a wrapped key cannot be swapped between
# people or relabelled with another version.
_WRAP_AD = b"vault.dek.v1"


def _wrap_ad(public_id: str, kek_version: int) -> bytes:
    pid = public_id.encode()
    return _WRAP_AD + struct.pack(">H", len(pid)) + pid + struct.pack(">I", kek_version)


def wrap_data_key(keyring: Keyring, dek: DataKey, public_id: str) -> WrappedKey:
    version = keyring.primary
    kek = keyring.kek(version)
    assert kek is not None  # the keyring guarantees its primary exists
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(kek).encrypt(nonce, struct.pack(">I", dek.key_id) + dek.key,
                                 _wrap_ad(public_id, version))
    return WrappedKey(version, bytes([FORMAT_V1]) + nonce + sealed)


def unwrap_data_key(keyring: Keyring, wrapped: WrappedKey, public_id: str) -> DataKey:
    kek = keyring.kek(wrapped.kek_version)
    blob = wrapped.blob
    if kek is None or len(blob) != 1 + NONCE_BYTES + 4 + DEK_BYTES + TAG_BYTES or \
            blob[0] != FORMAT_V1:
        raise DecryptionError
    try:
        plain = AESGCM(kek).decrypt(blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:],
                                    _wrap_ad(public_id, wrapped.kek_version))
    except InvalidTag:
        raise DecryptionError from None
    (key_id,) = struct.unpack_from(">I", plain, 0)
    return DataKey(plain[4:], key_id)


def rewrap_data_key(keyring: Keyring, wrapped: WrappedKey, public_id: str) -> WrappedKey:
    """Unwrap with whatever version wrapped it, wrap with the primary (Vault's rewrap)."""
    return wrap_data_key(keyring, unwrap_data_key(keyring, wrapped, public_id), public_id)
