"""Legal holds: the privacy officer suspends shredding of a record, with a reason.

The reason can name the person or the case, so it is sealed with the record's key
(and goes with it when the hold is lifted and the record is shredded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.models import Candidate
from vault.services import audit
from vault.services.sealing import record_sealer

MAX_REASON = 500


def set_legal_hold(session: Session, keys: VaultKeys, candidate: Candidate,
                   reason: str | None, *, now: datetime, actor: audit.Actor) -> None:
    """A reason places the hold; None lifts it."""
    if reason is not None:
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise ValueError(f"a legal hold needs a reason of 1 to {MAX_REASON} characters")
        candidate.legal_hold = True
        candidate.legal_hold_reason = record_sealer(keys, candidate).seal(
            "candidate", "legal_hold_reason", reason)
    else:
        candidate.legal_hold = False
        candidate.legal_hold_reason = None
    audit.record(session, actor, audit.LEGAL_HOLD_SET, now=now, subject=candidate.public_id,
                 detail="placed" if reason is not None else "lifted")


def hold_reason(keys: VaultKeys, candidate: Candidate) -> str:
    if candidate.legal_hold_reason is None:
        return ""
    return record_sealer(keys, candidate).open("candidate", "legal_hold_reason",
                                               candidate.legal_hold_reason)
