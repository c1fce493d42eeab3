"""The audit trail: append-only and hash-chained; no personal data.

Each event stores the hash of the one before it, so deleting or editing a row breaks
the chain at that point and 'vault check' names the first broken link. Events carry
ids, roles and action names only: never a name, an e-mail or a search query.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vault.models import AuditEvent

GENESIS = "0" * 64

# Action names (stable: the self-service page and the admin's filters read them).
CANDIDATE_VIEWED = "candidate.viewed"  # a staff member opened a record
CV_DOWNLOADED = "cv.downloaded"
CANDIDATE_EXPORTED = "candidate.exported"
NOTE_ADDED = "candidate.note_added"
STATUS_CHANGED = "candidate.status_changed"
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
SEARCH_PERFORMED = "search.performed"  # never with the query text
KEK_ROTATED = "kek.rotated"
KEK_RETIRED = "kek.retired"
ERASURES_REPLAYED = "erasures.replayed"
ERASURE_HELD_BACK = "candidate.erasure_held"  # a legal hold kept a record from erasure
RETENTION_RUN = "retention.run"
INDEX_REBUILT = "index.rebuilt"
# Opening personal data by staff: shown to the candidate on their self-service page.
STAFF_ACCESS_ACTIONS = (CANDIDATE_VIEWED, CV_DOWNLOADED, CANDIDATE_EXPORTED)


@dataclass(frozen=True)
class Actor:
    type: str  # user | candidate | system | cli
    id: int | None = None
    role: str | None = None


SYSTEM = Actor("system")
CLI = Actor("cli")
CANDIDATE = Actor("candidate")


def event_hash(prev_hash: str, created_at: datetime, actor_type: str, actor_id: int | None,
               actor_role: str | None, action: str, subject: str | None, detail: str) -> str:
    body = json.dumps([prev_hash, created_at.isoformat(timespec="microseconds"), actor_type,
                       actor_id, actor_role, action, subject, detail], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def record(session: Session, actor: Actor, action: str, *, now: datetime,
           subject: str | None = None, detail: str = "") -> AuditEvent:
    """Add an event to the session (the caller's transaction commits it)."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers so two concurrent events cannot chain to the same parent.
        session.execute(text("SELECT pg_advisory_xact_lock(7316)"))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = prev or GENESIS
    event = AuditEvent(created_at=now, actor_type=actor.type, actor_id=actor.id,
                       actor_role=actor.role, action=action, subject_public_id=subject,
                       detail=detail[:200], prev_hash=prev_hash,
                       hash=event_hash(prev_hash, now, actor.type, actor.id, actor.role,
                                       action, subject, detail[:200]))
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session) -> int | None:
    """The id of the first event whose link is broken, or None when the chain holds."""
    prev_hash = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)
                                 .execution_options(yield_per=1000)):
        expected = event_hash(prev_hash, event.created_at, event.actor_type, event.actor_id,
                              event.actor_role, event.action, event.subject_public_id,
                              event.detail)
        if event.prev_hash != prev_hash or event.hash != expected:
            return event.id
        prev_hash = event.hash
    return None
