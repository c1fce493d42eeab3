"""Erasure: the one path by which records are crypto-shredded.

Every entry point (self-service, the privacy officer's desk, `vault erase`, the
retention job, `vault replay-erasures`) calls `erase_records`; none deletes a record
or a key itself. This module owns:

- the policy: a legal hold suspends shredding of that record whoever asks. The free
  records are shredded at once; each held record keeps an open erasure request, so
  the officer's queue shows it with its deadline until the hold is lifted. Replay is
  the one exception, and not a policy choice: a ledger line is an erasure that already
  happened, and a hold found in a restored copy predates it.
- the reason categories: a fixed set, because a free-text reason could name the person
  and would outlive the key about to be shredded.
- the order of the protocol: ledger line (fsynced) first, then one transaction that
  destroys the data keys and deletes ciphertexts, search tokens, queued mail and
  request details, closes the person's open requests, queues the erasure notices to
  subscribed API clients (services.webhooks) and writes the anonymous statistics row
  (delivered mail files go with their rows); then the database files are scrubbed.

It commits: the ledger write before and the scrub after the transaction are part of
the protocol, so no caller can reorder them (see the package docstring).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session

from vault.database import scrub_deleted_bytes
from vault.keys import forget_opened
from vault.models import (
    ApplicationStatistic,
    Candidate,
    CandidateIndex,
    CandidateKey,
    DataRequest,
    ErasureRecord,
    PendingScrub,
)
from vault.services import audit, erasure_ledger, mail_queue, requests, webhooks
from vault.services.erasure_ledger import ErasureLedger

log = logging.getLogger(__name__)

# Where an erasure came from: written to the ledger, the erasure record and the
# statistics row. Never free text.
SELF_SERVICE = "self-service"
ADMIN_REQUEST = "admin-request"
OPERATOR = "operator"
RETENTION = "retention"
REPLAY = "replay"
REASONS = (SELF_SERVICE, ADMIN_REQUEST, OPERATOR, RETENTION, REPLAY)

# Why a person asked (or the law requires) erasure: the officer's and the operator's
# choice, recorded in the audit trail. Fixed categories for the reason given above.
CATEGORIES = {
    "subject-request": "The person asked for erasure (letter, e-mail, phone)",
    "objection": "The person objected and there is no overriding ground",
    "consent-withdrawn": "Consent was withdrawn",
    "unlawful": "The data was processed unlawfully",
    "legal-obligation": "Erasure required by law or a court",
}

# Request channel per reason, for the open request a held record keeps.
_CHANNELS = {SELF_SERVICE: requests.SELF_SERVICE, ADMIN_REQUEST: requests.ADMIN,
             OPERATOR: requests.CLI}

class ErasureError(ValueError):
    """A clear reason why nothing was erased."""


@dataclass(frozen=True)
class ErasureResult:
    erased: list[str]  # public ids shredded now
    held_back: list[str]  # under a legal hold: kept, with an open erasure request each
    erased_at: datetime
    scrub_pending: bool  # the files still hold deleted bytes; the retention job retries


def destroy_data_keys(session: Session, candidate_ids: Sequence[int]) -> int:
    """Delete the wrapped data keys: from this statement on, every ciphertext of these
    records is noise to anyone, whatever copies of it exist. Explicit, never left to an
    ORM cascade, so that the one act that erases is visible where it happens."""
    if not candidate_ids:
        return 0
    result = session.execute(delete(CandidateKey).where(
        CandidateKey.candidate_id.in_(candidate_ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _outcome(candidate: Candidate, reason: str) -> str:
    if candidate.status in ("hired", "rejected"):
        return candidate.status
    return "withdrawn" if reason in (SELF_SERVICE, ADMIN_REQUEST, OPERATOR) else "expired"


def erase_records(session: Session, records: Sequence[Candidate], *, reason: str,
                  now: datetime, ledger: ErasureLedger | None, actor: audit.Actor,
                  category: str | None = None, due_days: int = 28,
                  outbox: Path | None = None) -> ErasureResult:
    """Shred the records that no legal hold protects; keep the held ones, each with an
    open erasure request. Commits. `ledger` is None only when replaying the ledger
    itself (its lines are already written). Nothing changes if the ledger cannot be
    written (erasure_ledger.LedgerError)."""
    if reason not in REASONS:
        raise ErasureError(f"unknown erasure reason {reason!r}")
    if category is not None and category not in CATEGORIES:
        raise ErasureError("Choose why the data is erased.")
    held = [] if reason == REPLAY else [r for r in records if r.legal_hold]
    free = [r for r in records if r not in held]
    _keep_held(session, held, reason=reason, now=now, due_days=due_days, actor=actor)
    if not free:
        session.commit()
        return ErasureResult([], [r.public_id for r in held], now, scrub_pending=False)

    public_ids = [r.public_id for r in free]
    ids = [r.id for r in free]
    if ledger is not None:
        # Write-ahead: a crash after this line leaves at worst a record that replay
        # erases, never an erasure the ledger forgot.
        try:
            ledger.append([erasure_ledger.LedgerEntry(pid, now, reason) for pid in public_ids])
        except erasure_ledger.LedgerError:
            session.rollback()  # the held records' requests too: nothing changed
            raise
    for record in free:
        vacancy = record.vacancy
        session.add(ApplicationStatistic(
            vacancy_id=record.vacancy_id, company=vacancy.company if vacancy else None,
            source=record.source, applied_on=record.created_at.date(), erased_on=now.date(),
            outcome=_outcome(record, reason), reason=reason))
    destroy_data_keys(session, ids)
    forget_opened(public_ids)
    # Search tokens go explicitly (the FTS5 trigger removes them from the index, whose
    # secure-delete mode rewrites the pages that held them), before the records.
    session.execute(delete(CandidateIndex).where(CandidateIndex.candidate_id.in_(ids)))
    if not _index_deletes_securely(session):
        # Without secure-delete, FTS5 leaves the tokens in its segments behind a
        # tombstone; merging every segment rewrites them without the deleted entries
        # (and secure_delete zeroes the pages they leave). Costly, hence only a fallback.
        session.execute(text("INSERT INTO candidate_search(candidate_search) VALUES ('optimize')"))
    # Their mail, queued or delivered, and its outbox files (which hold the address and
    # the link in plaintext): found by record id, never by a plaintext lookup.
    mail_queue.discard_mail_of(session, ids, outbox if outbox is not None else _app_outbox())
    # Article 19: the API clients that may hold a copy are told, through the webhook
    # outbox, in this same transaction (no notice for an erasure that rolls back, no
    # erasure without its notices). Before the delete: the companies come from the rows.
    notices = webhooks.enqueue_erasure_notices(session, free, now=now)
    for record in free:
        session.delete(record)  # ciphertexts: fields, education, documents, notes, consents
    known = set(session.scalars(select(ErasureRecord.public_id).where(
        ErasureRecord.public_id.in_(public_ids))))
    detail = reason if category is None else f"{reason} category={category}"
    for pid in public_ids:
        if pid not in known:
            session.add(ErasureRecord(public_id=pid, erased_at=now, reason=reason))
        audit.record(session, actor, audit.CANDIDATE_ERASED, now=now, subject=pid,
                     detail=detail)
    _close_requests(session, public_ids, now=now)
    # Marked in the same transaction: if the scrub below cannot finish (or the process
    # dies first), the mark stays for the retention job and for `vault check`.
    session.add(PendingScrub(requested_at=now))
    session.commit()
    if notices:
        webhooks.send_after_response()
    done = scrub(session)
    return ErasureResult(public_ids, [r.public_id for r in held], now, scrub_pending=not done)


def _keep_held(session: Session, held: list[Candidate], *, reason: str, now: datetime,
               due_days: int, actor: audit.Actor) -> None:
    channel = _CHANNELS.get(reason)
    for record in held:
        if channel is not None and not _open_erase_request(session, record.public_id):
            requests.log_request(session, record.public_id, "erase", channel=channel,
                                 now=now, due_days=due_days)
        audit.record(session, actor, audit.ERASURE_HELD_BACK, now=now,
                     subject=record.public_id, detail=reason)


def _open_erase_request(session: Session, public_id: str) -> bool:
    return session.scalar(select(DataRequest.id).where(
        DataRequest.subject_public_id == public_id, DataRequest.kind == "erase",
        DataRequest.status == "open")) is not None


def _close_requests(session: Session, public_ids: list[str], *, now: datetime) -> None:
    """The person is gone: their open requests are answered by the erasure, and any
    sealed details were sealed with the key just destroyed (dead bytes: dropped)."""
    session.execute(update(DataRequest).where(
        DataRequest.subject_public_id.in_(public_ids), DataRequest.status == "open")
        .values(status="fulfilled", fulfilled_at=now))
    session.execute(update(DataRequest).where(DataRequest.subject_public_id.in_(public_ids))
                    .values(details=None))


def _app_outbox() -> Path | None:
    # Every entry point runs inside the app; a bare service call (a benchmark) has no
    # outbox to clean.
    return Path(current_app.config["MAIL_OUTBOX"]) if has_app_context() else None


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def scrub(session: Session) -> bool:
    """Make the bytes of every erasure so far unrecoverable from the database files, if
    that can be done without waiting; True when no scrub is pending any more. Called
    after each erasure and by the retention job, which retries what a reader held up."""
    engine = _engine(session)
    with engine.connect() as conn:
        mark = conn.scalar(select(func.max(PendingScrub.id)))
    if mark is None:
        return True
    if not scrub_deleted_bytes(engine):
        log.warning("erasure: database files not scrubbed yet (a reader holds the "
                    "write-ahead log); the retention job retries")
        return False
    # Only the marks older than the scrub that just succeeded are cleared.
    with engine.begin() as conn:
        conn.execute(delete(PendingScrub).where(PendingScrub.id <= mark))
    return True


def problems(session: Session) -> list[str]:
    """What `vault check` reports about erasure's own guarantees."""
    found = []
    pending = int(session.scalar(select(func.count(PendingScrub.id))) or 0)
    if pending:
        found.append(f"{pending} erasure(s) not yet scrubbed from the database files (a reader "
                     "held the write-ahead log): run 'vault retention' or wait for its timer")
    if not _index_deletes_securely(session):
        found.append("the search index is not in secure-delete mode (SQLite older than 3.42): "
                     "each erasure rewrites the whole index instead")
    return found


def _index_deletes_securely(session: Session) -> bool:
    """SQLite's FTS5 index removes deleted tokens from its pages only in secure-delete
    mode (set by migration 0002 where SQLite is 3.42 or newer). PostgreSQL's GIN index
    lives in candidate_index rows: the guarantee there rests on the key."""
    if _engine(session).dialect.name != "sqlite":
        return True
    return session.execute(text(
        "SELECT v FROM candidate_search_config WHERE k = 'secure-delete'")).scalar() == 1
