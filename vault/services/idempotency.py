"""Idempotency keys of API POSTs: a retried request gets the first answer again.

A client sends `Idempotency-Key` with each POST. The first request that succeeds stores
its answer under (client, key); a later request with the same key and the same content
gets that answer back (and nothing is created again); the same key with other content
is refused. Only successes are stored, so a request refused for its content can be
corrected and sent again under the same key.

Nothing personal is stored: the key as its SHA-256 (a client's own identifier, hashed
only to bound its length), the request as an HMAC-SHA256 under a key derived from the
KEK (purpose "api-idempotency"; an unkeyed hash of a form could be confirmed by guessing
its fields), the answer holds a public id and times. Records live RECORD_HOURS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vault.crypto import KeyringError
from vault.crypto.keyring import Keyring
from vault.models import ApiIdempotency

PURPOSE = "api-idempotency"
RECORD_HOURS = 24
KEY_MAX = 200


@dataclass(frozen=True)
class Outcome:
    """What the earlier request with this key got."""

    status_code: int
    body: dict[str, Any]


class KeyReused(Exception):
    """The key was used before for a request with other content."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def request_hash(
    keyring: Keyring, parts: Iterable[tuple[str, str]], version: int | None = None
) -> str:
    """A keyed digest of a request's content: (name, value) pairs, in any order (a file is
    given as its name and the SHA-256 of its bytes by the caller)."""
    chosen, key = keyring.derived_key(PURPOSE, version)
    canonical = json.dumps(sorted(parts), ensure_ascii=False, separators=(",", ":"))
    return f"{chosen}${hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()}"


def _same_request(keyring: Keyring, record: ApiIdempotency, parts: list[tuple[str, str]]) -> bool:
    version, _, _ = record.request_hash.partition("$")
    try:
        expected = request_hash(keyring, parts, int(version))
    except (KeyringError, ValueError):
        return False  # its KEK version was retired: it cannot be matched any more
    return hmac.compare_digest(expected, record.request_hash)


def earlier_outcome(
    session: Session,
    keyring: Keyring,
    *,
    client_id: int,
    key: str,
    parts: list[tuple[str, str]],
    now: datetime,
) -> Outcome | None:
    """The stored answer for this key, None if there is none (or it expired); raises
    KeyReused when the key came with other content."""
    record = session.scalar(
        select(ApiIdempotency).where(
            ApiIdempotency.client_id == client_id,
            ApiIdempotency.key_hash == key_hash(key),
            ApiIdempotency.created_at > now - timedelta(hours=RECORD_HOURS),
        )
    )
    if record is None:
        return None
    if not _same_request(keyring, record, parts):
        raise KeyReused
    return Outcome(record.status_code, json.loads(record.response_body))


def key_stored(session: Session, *, client_id: int, key: str) -> bool:
    """Whether a record of this client holds this key (whatever its age): after a unique
    violation, it tells a request that lost the race on its key from any other fault."""
    found = session.scalar(
        select(ApiIdempotency.id).where(
            ApiIdempotency.client_id == client_id, ApiIdempotency.key_hash == key_hash(key)
        )
    )
    return found is not None


def remember(
    session: Session,
    keyring: Keyring,
    *,
    client_id: int,
    key: str,
    parts: list[tuple[str, str]],
    outcome: Outcome,
    now: datetime,
) -> None:
    """Store the answer, in the transaction of what the request created (so both are
    stored, or neither). Expired records of this client are dropped on the way."""
    session.execute(
        delete(ApiIdempotency).where(
            ApiIdempotency.client_id == client_id,
            ApiIdempotency.created_at <= now - timedelta(hours=RECORD_HOURS),
        )
    )
    session.add(
        ApiIdempotency(
            client_id=client_id,
            key_hash=key_hash(key),
            request_hash=request_hash(keyring, parts),
            status_code=outcome.status_code,
            response_body=json.dumps(outcome.body),
            created_at=now,
        )
    )
    session.flush()
