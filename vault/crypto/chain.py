"""The audit chain's link: HMAC-SHA256 under a key only the keyring can give.

An unkeyed hash chain proves nothing against someone who can write the database: they
delete rows and recompute every later hash. Keyed, each link needs the audit key, which
lives in the keyring (outside the database, like the KEKs), so a rewritten chain fails
to verify. Deleting events from the end leaves a valid shorter chain: that is what the
anchors outside the database catch (vault.services.audit_anchor).

The key is derived by HKDF from the keyring's audit root key with a purpose label of its
own (like the blind-index field keys), so it is never the root key itself and never
shares a key with anything else.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CHAIN_INFO = b"vault.audit-chain.v1"


def derive_chain_key(audit_root: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=CHAIN_INFO).derive(audit_root)


def link(key: bytes, body: bytes) -> str:
    """The hex HMAC-SHA256 of one event's canonical body (which holds the previous link)."""
    return hmac.new(key, body, "sha256").hexdigest()


def links_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
