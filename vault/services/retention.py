"""The retention job: reminders before talent-pool consent ends, expiry, shredding.

Rules (defaults in vault/config.py, explained in the README):
- Talent-pool consent lasts TALENT_POOL_MONTHS. REMINDER_DAYS before it ends (30 and
  7) the person gets a reminder with a renewal link, each once per expiry date: the
  unique (record, kind, expiry) row in retention_notice makes a re-run send nothing
  twice, and a renewal (a new expiry) starts a fresh set. A missed window is not
  made up: only the most urgent reminder still due is sent.
- When it ends, an "expired" event is appended to the consent ledger.
- A record is shredded once every purpose is over: no live pool consent, an expired
  one GRACE_DAYS behind it, and its application over for APPLICATION_RETENTION_DAYS
  (the vacancy closed, the application decided, or, for a spontaneous application,
  since it was received).
- A legal hold suspends shredding; such records are counted, never touched.

Every query is on indexed columns or a single pass in SQL, so an hourly run over a
large vault with nothing due costs milliseconds, and a re-run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from vault.models import Candidate, Consent, RetentionNotice, Vacancy
from vault.services import audit, consent, erasure, held_uploads
from vault.services.erasure_ledger import ErasureLedger

BATCH = 500
# Queues one reminder to a person for these records, in the session whose commit also
# records the notice (so a reminder is queued once and never lost); False when it could
# not be queued (the reminder is then tried again on the next run).
ReminderSender = Callable[[list[Candidate], str, datetime], bool]


@dataclass
class RetentionSummary:
    reminders: dict[str, int] = field(default_factory=dict)
    expired: int = 0
    shredded: int = 0
    held: int = 0
    reminder_failures: int = 0
    held_uploads: int = 0  # CVs held between two tries of the form, expired
    scrub_pending: bool = False
    dry_run: bool = False

    def lines(self) -> list[str]:
        sent = ", ".join(f"{n} {kind}" for kind, n in sorted(self.reminders.items())) or "none"
        if self.dry_run:
            lines = [f"dry run, nothing changed; reminders due: {sent}",
                     f"consents due to expire: {self.expired}",
                     f"records due for shredding: {self.shredded}"]
        else:
            lines = [f"reminders sent: {sent}", f"consents expired: {self.expired}",
                     f"records shredded: {self.shredded}"]
        lines.append(f"records kept under legal hold: {self.held}")
        if self.held_uploads:
            lines.append(f"expired held CVs {'due for deletion' if self.dry_run else 'deleted'}"
                         f": {self.held_uploads}")
        if self.scrub_pending:
            lines.append("database files not scrubbed yet after an erasure (a reader holds "
                         "the write-ahead log): retried next run")
        if self.reminder_failures:
            lines.append(f"reminders not sent (mail failed; retried next run): "
                         f"{self.reminder_failures}")
        return lines


def reminder_kind(days: int) -> str:
    return f"reminder-{days}"


def _reminders_due(session: Session, now: datetime, days: list[int]
                   ) -> dict[str, list[Candidate]]:
    """Each kind's records: expiry within its window and not reminded for that expiry."""
    due: dict[str, list[Candidate]] = {}
    windows = sorted(days)  # most urgent first: 7, then 30
    lower = now
    for day in windows:
        upper = now + timedelta(days=day)
        kind = reminder_kind(day)
        already = exists().where(RetentionNotice.candidate_id == Candidate.id,
                                 RetentionNotice.kind.in_([reminder_kind(d) for d in windows
                                                           if d <= day]),
                                 RetentionNotice.consent_expires_at
                                 == Candidate.pool_consent_until)
        due[kind] = list(session.scalars(select(Candidate).where(
            Candidate.pool_consent_until > lower, Candidate.pool_consent_until <= upper,
            ~already).order_by(Candidate.id)))
        lower = upper
    return due


def _by_person(records: list[Candidate]) -> list[list[Candidate]]:
    people: dict[tuple[str, datetime | None], list[Candidate]] = {}
    for record in records:
        # A record whose address is not confirmed is a person of its own (services.identity).
        person = record.email_index if record.email_confirmed_at is not None \
            else record.public_id
        people.setdefault((person, record.pool_consent_until), []).append(record)
    return list(people.values())


def _application_over(cutoff: datetime) -> ColumnElement[bool]:
    closed = select(Vacancy.id).where(Vacancy.closed_at.is_not(None), Vacancy.closed_at <= cutoff)
    return or_(
        and_(Candidate.application_ended_at.is_not(None),
             Candidate.application_ended_at <= cutoff),
        Candidate.vacancy_id.in_(closed),
        and_(Candidate.vacancy_id.is_(None), Candidate.created_at <= cutoff))


def due_for_shredding_clause(now: datetime, config: Mapping[str, Any]) -> ColumnElement[bool]:
    cutoff = now - timedelta(days=config["APPLICATION_RETENTION_DAYS"])
    grace_start = now - timedelta(days=config["GRACE_DAYS"])
    in_grace = exists().where(Consent.candidate_id == Candidate.id,
                              Consent.purpose == consent.TALENT_POOL,
                              Consent.event == consent.EXPIRED,
                              Consent.created_at > grace_start)
    return and_(Candidate.pool_consent_until.is_(None), _application_over(cutoff), ~in_grace)


def run_retention(session: Session, *, now: datetime, config: Mapping[str, Any],
                  ledger: ErasureLedger, send: ReminderSender | None,
                  dry_run: bool = False) -> RetentionSummary:
    summary = RetentionSummary(dry_run=dry_run)

    for kind, records in _reminders_due(session, now, list(config["REMINDER_DAYS"])).items():
        for person in _by_person(records):
            expires_at = person[0].pool_consent_until
            if expires_at is None:
                continue
            if not dry_run:
                if send is None or not send(person, kind, expires_at):
                    summary.reminder_failures += 1
                    continue
                for record in person:
                    session.add(RetentionNotice(candidate_id=record.id, kind=kind,
                                                consent_expires_at=expires_at, sent_at=now))
                session.commit()  # a sent mail is recorded at once: never sent twice
            summary.reminders[kind] = summary.reminders.get(kind, 0) + 1

    ending = list(session.scalars(select(Candidate).where(
        Candidate.pool_consent_until <= now).order_by(Candidate.id)))
    summary.expired = len(ending)
    if not dry_run:
        for record in ending:
            consent.record_consent(session, record, consent.TALENT_POOL, consent.EXPIRED,
                                   notice_version="-", source="retention", now=now,
                                   expires_at=record.pool_consent_until)
            audit.record(session, audit.SYSTEM, audit.CONSENT_EXPIRED, now=now,
                         subject=record.public_id, detail=consent.TALENT_POOL)
        session.commit()

    due = due_for_shredding_clause(now, config)
    summary.held = len(session.scalars(select(Candidate.id).where(
        due, Candidate.legal_hold.is_(True))).all())
    if dry_run:
        summary.shredded = len(session.scalars(select(Candidate.id).where(
            due, Candidate.legal_hold.is_(False))).all())
    while not dry_run:
        batch = list(session.scalars(select(Candidate).where(
            due, Candidate.legal_hold.is_(False)).order_by(Candidate.id).limit(BATCH)))
        if not batch:
            break
        erasure.erase_records(session, batch, reason=erasure.RETENTION, now=now,
                              ledger=ledger, actor=audit.SYSTEM)
        summary.shredded += len(batch)

    # A CV held for an application form that was never sent again (see
    # services.held_uploads): sealed, but kept no longer than its few minutes.
    summary.held_uploads = held_uploads.purge_expired(session, now, dry_run=dry_run)

    if not dry_run:
        audit.record(session, audit.SYSTEM, audit.RETENTION_RUN, now=now,
                     detail=f"reminders={sum(summary.reminders.values())} "
                            f"expired={summary.expired} shredded={summary.shredded} "
                            f"held={summary.held}")
        session.commit()
        # An erasure that could not scrub the files at once left a mark: finish it now
        # (outside any transaction of this session, which would hold the lock).
        summary.scrub_pending = not erasure.scrub(session)
    return summary
