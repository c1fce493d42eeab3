"""Replaying the erasure ledger after a database restore."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vault.models import Candidate, DataRequest, ErasureRecord
from vault.services import audit, erasure
from vault.services.erasure_ledger import ErasureLedger


@dataclass(frozen=True)
class ReplayResult:
    entries: int
    erased: int


def replay_erasures(session: Session, ledger: ErasureLedger, *, now: datetime) -> ReplayResult:
    entries = ledger.read()
    by_id = {e.public_id: e for e in entries}
    revived = list(session.scalars(select(Candidate).where(Candidate.public_id.in_(by_id))))
    # Legal holds do not apply: these people were already erased before the restore
    # (services.erasure). Commits, then the rest is recorded in a second transaction.
    erasure.erase_records(session, revived, reason=erasure.REPLAY, now=now, ledger=None,
                          actor=audit.CLI)
    known = set(session.scalars(select(ErasureRecord.public_id)))
    for entry in entries:
        if entry.public_id not in known:
            session.add(ErasureRecord(public_id=entry.public_id, erased_at=entry.erased_at,
                                      reason=entry.reason))
            known.add(entry.public_id)
    session.execute(update(DataRequest).where(DataRequest.subject_public_id.in_(by_id))
                    .values(details=None))
    audit.record(session, audit.CLI, audit.ERASURES_REPLAYED, now=now,
                 detail=f"entries={len(entries)} re-erased={len(revived)}")
    session.commit()
    return ReplayResult(len(entries), len(revived))
