"""API clients: the job boards and HR systems that call /api/v1 with a bearer token.

A token is `vlt_<key_id>_<secret>`. key_id (96 random bits, public) finds the client's
row by an indexed lookup; the secret is 256 random bits, shown once when the client is
created and never stored. What is stored is an HMAC-SHA256 of the secret under a key
derived from the KEK (purpose "api-client-secret"), written as `<kek version>$<hex>`.

Why a keyed HMAC and not argon2: argon2 exists to slow down guessing of low-entropy
secrets (passwords). A 256-bit random secret cannot be guessed, so the slow hash would
only cost every API call tens of milliseconds and hand anyone a cheap way to load the
server. The key (not a plain SHA-256) is there so that a database copy cannot confirm a
leaked token offline, and so that someone who can write to the database cannot add a
client of their own: the hash is made under a key that lives outside the database.

The hash names its KEK version. Rotating the KEK keeps old hashes valid (the old
version still unwraps) and each is rewritten under the primary version at the client's
next call; retiring a KEK version retires the tokens still hashed under it (the privacy
officer issues a new one), like everything else that version protected.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.crypto import KeyringError
from vault.crypto.keyring import Keyring
from vault.models import ApiClient
from vault.services import audit

VACANCIES_READ = "vacancies:read"
APPLICATIONS_WRITE = "applications:write"
CANDIDATES_READ = "candidates:read"
ERASURES_READ = "erasures:read"
SCOPES = (VACANCIES_READ, APPLICATIONS_WRITE, CANDIDATES_READ, ERASURES_READ)

TOKEN_PREFIX = "vlt_"  # noqa: S105 (the prefix of every token, not a secret)
PURPOSE = "api-client-secret"
# Audit action names (no personal data: the detail holds the key id and a route).
CLIENT_CREATED = "api.client_created"
CLIENT_REVOKED = "api.client_revoked"

_KEY_ID_BYTES = 12  # 96 bits: a public lookup id that nobody can enumerate
_SECRET_BYTES = 32  # 256 bits: no guessing, so a fast keyed hash is enough
# Both parts are base64url without "_" (hex), so the token splits unambiguously.
_KEY_ID = re.compile(r"vlt_([0-9a-f]{24})_")
_SECRET = re.compile(r"[0-9a-f]{64}")


class ApiClientError(ValueError):
    """A client could not be created as asked (the message says why; no secret in it)."""


def _hash(keyring: Keyring, secret: str, version: int | None = None) -> str:
    chosen, key = keyring.derived_key(PURPOSE, version)
    digest = hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()
    return f"{chosen}${digest}"


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise ApiClientError(f"unknown scope(s): {', '.join(unknown)[:200]}")
    if not chosen:
        raise ApiClientError("an API client needs at least one scope")
    return chosen


def create_client(
    session: Session,
    keyring: Keyring,
    *,
    name: str,
    company: str,
    scopes: Iterable[str],
    expires_at: datetime | None,
    created_by: int | None,
    companies: Iterable[str],
    now: datetime,
    actor: audit.Actor,
) -> tuple[ApiClient, str]:
    """A new client and its token (`vlt_<key_id>_<secret>`), which the caller shows once:
    it is not stored and cannot be shown again."""
    name = name.strip()
    if not name or len(name) > 120:
        raise ApiClientError("a name of 1 to 120 characters is needed")
    if company not in set(companies):
        raise ApiClientError("the company must be one of the group's companies")
    if expires_at is not None and expires_at <= now:
        raise ApiClientError("the expiry must be in the future")
    chosen = _check_scopes(scopes)
    key_id = secrets.token_hex(_KEY_ID_BYTES)
    secret = secrets.token_hex(_SECRET_BYTES)
    client = ApiClient(
        name=name,
        company=company,
        scopes=" ".join(chosen),
        key_id=key_id,
        secret_hash=_hash(keyring, secret),
        created_at=now,
        expires_at=expires_at,
        created_by=created_by,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor,
        CLIENT_CREATED,
        now=now,
        detail=f"key {key_id} company {company} scopes {' '.join(chosen)}",
    )
    return client, f"{TOKEN_PREFIX}{key_id}_{secret}"


def revoke_client(
    session: Session, client_id: int, *, now: datetime, actor: audit.Actor
) -> ApiClient | None:
    """Revoke a client (its token is refused from now on) and cancel its queued erasure
    notices (it hears nothing more); None if there is no such client. Revoking twice
    keeps the first time."""
    from vault.services import webhooks  # it imports this module (the scopes)

    client = session.get(ApiClient, client_id)
    if client is None:
        return None
    if client.revoked_at is None:
        client.revoked_at = now
        audit.record(session, actor, CLIENT_REVOKED, now=now, detail=f"key {client.key_id}")
        webhooks.cancel_queued(session, client.id, now=now, reason=webhooks.REVOKED)
    return client


def is_live(client: ApiClient, now: datetime) -> bool:
    if client.revoked_at is not None:
        return False
    return client.expires_at is None or client.expires_at > now


def hashed_under(session: Session, versions: Iterable[int], *, now: datetime) -> list[str]:
    """The names of the live clients whose token is hashed under one of these KEK
    versions: retiring them ends those tokens (they did not call since the rotation)."""
    prefixes = tuple(f"{version}$" for version in versions)
    clients = session.scalars(select(ApiClient).where(ApiClient.revoked_at.is_(None)))
    return sorted(c.name for c in clients
                  if is_live(c, now) and c.secret_hash.startswith(prefixes))


@dataclass(frozen=True)
class TokenCheck:
    """What a bearer token turned out to be. `client`: the live client it authenticates,
    or None (malformed, unknown, wrong secret, expired, revoked: the caller answers all of
    them the same way). `named`: the client whose key id the token carries, valid or not,
    so that a refused call of a known client reaches the audit trail (a revoked or
    expired token still in use is worth seeing)."""

    client: ApiClient | None
    named: ApiClient | None


def check_token(session: Session, keyring: Keyring, token: str, *, now: datetime) -> TokenCheck:
    # Only a key id of the right shape is looked up: anything else (a NUL byte, which
    # PostgreSQL refuses with an error) never reaches the database.
    stripped = token.strip()
    match = _KEY_ID.match(stripped)
    if match is None:
        return TokenCheck(None, None)
    named = session.scalar(select(ApiClient).where(ApiClient.key_id == match.group(1)))
    secret = stripped[match.end():]
    if named is None or not _SECRET.fullmatch(secret):
        return TokenCheck(None, named)
    version_text, _, _ = named.secret_hash.partition("$")
    try:
        expected = _hash(keyring, secret, int(version_text))
    except (KeyringError, ValueError):
        return TokenCheck(None, named)  # hashed under a retired KEK version: the token died
    # compare_digest: the time taken says nothing about how much of the secret matched.
    if not hmac.compare_digest(expected, named.secret_hash):
        return TokenCheck(None, named)
    if not is_live(named, now):
        return TokenCheck(None, named)
    if int(version_text) != keyring.primary:
        # Moved to the primary KEK version while the secret is at hand, so retiring the
        # older version does not kill a token that is in use.
        named.secret_hash = _hash(keyring, secret)
    return TokenCheck(named, named)


def authenticate(
    session: Session, keyring: Keyring, token: str, *, now: datetime
) -> ApiClient | None:
    """The live client a bearer token belongs to, or None (see TokenCheck)."""
    return check_token(session, keyring, token, now=now).client
