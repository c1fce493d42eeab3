"""An application's status, set by a person and never by the system (no automated
decisions: the privacy statement promises it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vault.models import Candidate, User
from vault.services import audit
from vault.services.access import WriteRefused, may_write

STATUSES = ("new", "reviewing", "rejected", "hired")
ENDED = ("rejected", "hired")


def set_status(session: Session, user: User, candidate: Candidate, status: str, *,
               now: datetime) -> None:
    # The write rule is checked here as well as in the view: deciding an application
    # starts its retention clock, so no caller may skip it (vault.services.access).
    if not may_write(session, user, candidate, "status", now):
        raise WriteRefused("status")
    if status not in STATUSES:
        raise ValueError("unknown status")
    if status == candidate.status:
        return
    candidate.status = status
    candidate.status_changed_at = now
    # A decided application starts its retention clock; reopening it stops the clock.
    candidate.application_ended_at = now if status in ENDED else None
    audit.record(session, audit.Actor("user", user.id, user.role), audit.STATUS_CHANGED,
                 now=now, subject=candidate.public_id, detail=status)
