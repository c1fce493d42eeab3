"""The audit trail: append-only and chained by a keyed hash; no personal data.

Each event stores the link of the one before it, and its own link is an HMAC-SHA256
under the audit key (vault.crypto.chain), which comes from the keyring and is never in
the database. Deleting or editing a row breaks the chain at that point and cannot be
hidden by recomputing the later links without the key; 'vault check' names the first
broken link. Deleting events from the end leaves a shorter chain that still verifies:
the anchors kept outside the database (vault.services.audit_anchor) catch that.
Events carry ids, roles and action names only: never a name, an e-mail or a search query.

record() and verify_chain() take the key from the running app's keyring unless given
one: the trail is written from some thirty places, and none of them should be able to
pick a different key (or none) by mistake.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from vault.crypto import link, links_equal
from vault.models import AuditEvent

GENESIS = "0" * 64

# Action names (stable: the self-service page and the admin's filters read them).
CANDIDATE_VIEWED = "candidate.viewed"  # a staff member opened a record
CV_DOWNLOADED = "cv.downloaded"
CANDIDATE_EXPORTED = "candidate.exported"
NOTE_ADDED = "candidate.note_added"
STATUS_CHANGED = "candidate.status_changed"
WRITE_REFUSED = "candidate.write_refused"  # a visible record, a change not this user's
CANDIDATE_CREATED = "candidate.created"
CANDIDATE_CORRECTED = "candidate.corrected"
CANDIDATE_ERASED = "candidate.erased"
EMAIL_CHANGE_REQUESTED = "candidate.email_change_requested"
EMAIL_CONFIRMED = "candidate.email_confirmed"
CONSENT_GRANTED = "consent.granted"
CONSENT_WITHDRAWN = "consent.withdrawn"
CONSENT_RENEWED = "consent.renewed"
CONSENT_EXPIRED = "consent.expired"
REQUEST_LOGGED = "request.logged"
REQUEST_RESOLVED = "request.resolved"  # the privacy officer closed a request
LEGAL_HOLD_SET = "candidate.legal_hold"
LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_FAILED = "login.failed"
USER_CREATED = "user.created"
USER_CHANGED = "user.changed"
PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 (an action name)
PASSWORD_LINK_SENT = "user.password_link_sent"  # noqa: S105 (a reset or set-up link mailed)
SESSIONS_ENDED = "user.sessions_ended"  # log out everywhere
SECOND_FACTOR_ENROLLED = "user.2fa_enrolled"
SECOND_FACTOR_RESET = "user.2fa_reset"  # by the privacy officer
RECOVERY_CODE_USED = "user.recovery_code_used"
PASSKEY_ADDED = "user.passkey_added"
PASSKEY_REMOVED = "user.passkey_removed"
SEARCH_PERFORMED = "search.performed"  # never with the query text
KEK_ROTATED = "kek.rotated"
KEK_RETIRED = "kek.retired"
ERASURES_REPLAYED = "erasures.replayed"
ERASURE_HELD_BACK = "candidate.erasure_held"  # a legal hold kept a record from erasure
RETENTION_RUN = "retention.run"
INDEX_REBUILT = "index.rebuilt"
AUDIT_RESTORE_ACKNOWLEDGED = "audit.restore_acknowledged"  # events lost to a restore
AUDIT_CHAIN_KEYED = "audit.chain_keyed"  # an unkeyed chain (older release) re-linked
VACANCY_CLOSED = "vacancy.closed"  # detail: the vacancy's slug
VACANCY_REOPENED = "vacancy.reopened"
# An API client's webhook URL set or removed (detail: client id and host only), and a new
# signing secret made for it.
WEBHOOK_CHANGED = "api_client.webhook_changed"
WEBHOOK_SECRET_SET = "api_client.webhook_secret_set"  # noqa: S105 (an action name)
# An HR system (API client, actor type API_ACTOR) took a hired candidate's file
# (vault.services.transfers); detail: the client's key id and company.
CANDIDATE_TRANSFERRED = "candidate.transferred"
# Opening personal data by staff, or taking it out through the API: shown to the
# candidate on their self-service page.
STAFF_ACCESS_ACTIONS = (CANDIDATE_VIEWED, CV_DOWNLOADED, CANDIDATE_EXPORTED,
                        CANDIDATE_TRANSFERRED)


# The actor type of an API client (a job board, an HR system); its actor id is the
# ApiClient's id, not a user's: the two must never be looked up in each other's table.
API_ACTOR = "api"


@dataclass(frozen=True)
class Actor:
    type: str  # user | candidate | system | cli | api (API_ACTOR)
    id: int | None = None
    role: str | None = None


SYSTEM = Actor("system")
CLI = Actor("cli")
CANDIDATE = Actor("candidate")


def _body(prev_hash: str, created_at: datetime, actor_type: str, actor_id: int | None,
          actor_role: str | None, action: str, subject: str | None, detail: str) -> bytes:
    return json.dumps([prev_hash, created_at.isoformat(timespec="microseconds"), actor_type,
                       actor_id, actor_role, action, subject, detail],
                      separators=(",", ":")).encode()


def event_hash(key: bytes, prev_hash: str, created_at: datetime, actor_type: str,
               actor_id: int | None, actor_role: str | None, action: str,
               subject: str | None, detail: str) -> str:
    return link(key, _body(prev_hash, created_at, actor_type, actor_id, actor_role, action,
                           subject, detail))


def _event_link(key: bytes, prev_hash: str, event: AuditEvent) -> str:
    return event_hash(key, prev_hash, event.created_at, event.actor_type, event.actor_id,
                      event.actor_role, event.action, event.subject_public_id, event.detail)


def _unkeyed_link(prev_hash: str, event: AuditEvent) -> str:
    """The plain SHA-256 link of releases before the keyed chain (read only, to upgrade)."""
    return hashlib.sha256(_body(prev_hash, event.created_at, event.actor_type, event.actor_id,
                                event.actor_role, event.action, event.subject_public_id,
                                event.detail)).hexdigest()


def _app_key() -> bytes:
    from vault.appctx import vault_keys  # the services layer reads the app lazily

    return vault_keys().audit_chain_key


def record(session: Session, actor: Actor, action: str, *, now: datetime,
           subject: str | None = None, detail: str = "", key: bytes | None = None) -> AuditEvent:
    """Add an event to the session (the caller's transaction commits it)."""
    chain_key = key if key is not None else _app_key()
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers so two concurrent events cannot chain to the same parent.
        session.execute(text("SELECT pg_advisory_xact_lock(7316)"))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = prev or GENESIS
    event = AuditEvent(created_at=now, actor_type=actor.type, actor_id=actor.id,
                       actor_role=actor.role, action=action, subject_public_id=subject,
                       detail=detail[:200], prev_hash=prev_hash,
                       hash=event_hash(chain_key, prev_hash, now, actor.type, actor.id,
                                       actor.role, action, subject, detail[:200]))
    session.add(event)
    session.flush()
    return event


def record_many(session: Session, actor: Actor, action: str,
                events: Sequence[tuple[str | None, str]], *, now: datetime,
                key: bytes | None = None) -> int:
    """record() for many events of one actor and action, (subject, detail) each, chained
    in this order with one read of the chain's head and one INSERT of many rows: a
    batch of an import's confirmations, not a statement and a flush per event. Returns
    the number of events added (the caller's transaction commits them)."""
    if not events:
        return 0
    chain_key = key if key is not None else _app_key()
    session.flush()  # events the session holds go first: they are the chain's head
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7316)"))  # as record()
    prev_hash = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc())
                               .limit(1)) or GENESIS
    rows = []
    for subject, detail in events:
        detail = detail[:200]
        link_ = event_hash(chain_key, prev_hash, now, actor.type, actor.id, actor.role, action,
                           subject, detail)
        rows.append({"created_at": now, "actor_type": actor.type, "actor_id": actor.id,
                     "actor_role": actor.role, "action": action, "subject_public_id": subject,
                     "detail": detail, "prev_hash": prev_hash, "hash": link_})
        prev_hash = link_
    # One executemany: ids follow the order of the rows (the chain's order), as
    # walk_chain reads them.
    session.execute(insert(AuditEvent), rows)
    return len(rows)


@dataclass(frozen=True)
class ChainState:
    """What walking the whole chain found."""
    broken_at: int | None  # id of the first event whose link does not verify
    unkeyed: bool  # that event carries a valid unkeyed link (written by an older release)
    head_id: int | None  # the last event (None for an empty trail)
    head_hash: str
    events: int


def walk_chain(session: Session, key: bytes | None = None) -> ChainState:
    chain_key = key if key is not None else _app_key()
    prev_hash = GENESIS
    head_id: int | None = None
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)
                                 .execution_options(yield_per=1000)):
        if event.prev_hash != prev_hash or not links_equal(
                event.hash, _event_link(chain_key, prev_hash, event)):
            unkeyed = event.prev_hash == prev_hash and event.hash == _unkeyed_link(prev_hash,
                                                                                   event)
            return ChainState(event.id, unkeyed, head_id, prev_hash, count)
        prev_hash = event.hash
        head_id = event.id
        count += 1
    return ChainState(None, False, head_id, prev_hash, count)


def verify_chain(session: Session, key: bytes | None = None) -> int | None:
    """The id of the first event whose link is broken, or None when the chain holds."""
    return walk_chain(session, key).broken_at


class ChainError(Exception):
    """The chain cannot be upgraded: a link is broken (the message names the event)."""


def key_unkeyed_chain(session: Session, key: bytes) -> int:
    """Re-link under the key a chain written (wholly or at its start) by the older,
    unkeyed release. Every existing link is verified first, keyed or unkeyed, so only a
    chain that held is re-linked; the caller decides when that is allowed (only before
    any anchor exists: afterwards, re-linking is exactly what an attacker would do).
    Returns the number of events re-linked."""
    old_prev = new_prev = GENESIS
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != old_prev or (
                event.hash != _unkeyed_link(old_prev, event)
                and not links_equal(event.hash, _event_link(key, old_prev, event))):
            raise ChainError(f"the audit trail's chain is broken at event {event.id}")
        old_prev = event.hash
        event.prev_hash = new_prev
        event.hash = _event_link(key, new_prev, event)
        new_prev = event.hash
        count += 1
    session.flush()
    return count
