"""An application's status, set by a person and never by the system (no automated
decisions: the privacy statement promises it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vault.models import Candidate
from vault.services import audit

STATUSES = ("new", "reviewing", "rejected", "hired")
ENDED = ("rejected", "hired")


def set_status(session: Session, candidate: Candidate, status: str, *, actor: audit.Actor,
               now: datetime) -> None:
    if status not in STATUSES:
        raise ValueError("unknown status")
    if status == candidate.status:
        return
    candidate.status = status
    candidate.status_changed_at = now
    # A decided application starts its retention clock; reopening it stops the clock.
    candidate.application_ended_at = now if status in ENDED else None
    audit.record(session, actor, audit.STATUS_CHANGED, now=now, subject=candidate.public_id,
                 detail=status)
