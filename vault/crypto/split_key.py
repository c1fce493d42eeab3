"""A data key in two halves: a random share the client keeps, and a server key.

For what the vault holds for a browser only for a short while (a CV held between two
tries of the application form): the key that seals it is HKDF(share, salt=server key),
where the share is 256 fresh random bits given to the client (kept in its session
cookie) and never stored by the server, and the server key is derived from a KEK
version (Keyring.derived_key). So:
- the database and the disk alone cannot open it (no share there);
- a share read from a cookie, with the database, cannot open it without the keyring;
- retiring the KEK version kills it, like everything else that version sealed.
The key id is the KEK version, so the ciphertext names the server half it needs.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.crypto.envelope import DataKey, DecryptionError
from vault.crypto.keyring import KEY_BYTES, Keyring, KeyringError

SHARE_BYTES = 32


def new_share() -> bytes:
    return secrets.token_bytes(SHARE_BYTES)


def split_data_key(keyring: Keyring, purpose: str, share: bytes,
                   version: int | None = None) -> DataKey:
    """The data key of one share, under a KEK version (the primary by default). Raises the
    opaque DecryptionError when the version is gone or the share is malformed."""
    if len(share) != SHARE_BYTES:
        raise DecryptionError
    try:
        chosen, server = keyring.derived_key("split:" + purpose, version)
    except KeyringError:
        raise DecryptionError from None
    key = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=server,
               info=b"vault.split.v1:" + purpose.encode()).derive(share)
    return DataKey(key, chosen)
