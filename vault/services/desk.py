"""The privacy officer's desk: the request queue, the retention dashboard, erasure and
export on request, legal holds and the audit-trail browser.

Views stay thin: every query and every change the desk makes is here, with explicit
arguments (session, keys, now, actor). Nothing written to the audit trail carries
personal data: public ids, kinds, categories and counts only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from vault.keys import VaultKeys
from vault.models import AuditEvent, Candidate, DataRequest, RetentionNotice, User
from vault.services import audit, audit_anchor, erasure, exports, holds, identity, requests
from vault.services.candidates import records_of_person
from vault.services.erasure_ledger import ErasureLedger

# The retention job's own rule, not a copy: the dashboard must list exactly what the next
# run would shred (a test compares the two).
from vault.services.retention import due_for_shredding_clause
from vault.services.sealing import record_sealer, records_opened

EXPIRY_WINDOW_DAYS = 30
RESOLUTIONS = ("fulfilled", "rejected")
ERASURE_CATEGORIES = erasure.CATEGORIES
EXPORT_RECIPIENTS = {"person": "the person", "organisation": "another organisation"}
AUDIT_ACTOR_TYPES = ("user", "candidate", "system", "cli")


class DeskError(ValueError):
    """A clear, user-facing reason why the desk refused a change (nothing was changed)."""


# --- dashboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardCounts:
    open_requests: int
    overdue: int
    expiring: int
    due_for_shredding: int
    holds: int


def dashboard_counts(session: Session, *, now: datetime,
                     config: Mapping[str, Any]) -> DashboardCounts:
    def count(*where: ColumnElement[bool], model: Any = Candidate) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    open_ = DataRequest.status == "open"
    return DashboardCounts(
        open_requests=count(open_, model=DataRequest),
        overdue=count(open_, DataRequest.due_at < now, model=DataRequest),
        expiring=count(*_expiring_clause(now)),
        due_for_shredding=count(due_for_shredding_clause(now, config),
                                Candidate.legal_hold.is_(False)),
        holds=count(Candidate.legal_hold.is_(True)),
    )


# --- requests queue --------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    request: DataRequest
    days_left: int | None  # None once resolved
    overdue: bool
    subject_held: bool  # the subject's record is still in the vault (it can be opened)


def days_left(due_at: datetime, now: datetime) -> int:
    """Whole calendar days (UTC) until the due date; negative once it is past."""
    return (due_at.astimezone(UTC).date() - now.astimezone(UTC).date()).days


def request_queue(session: Session, *, now: datetime, status: str | None = None,
                  limit: int = 500) -> list[QueueRow]:
    """Requests by due date, earliest first; open ones before resolved ones."""
    query = select(DataRequest)
    if status is not None:
        query = query.where(DataRequest.status == status)
    query = query.order_by((DataRequest.status != "open"), DataRequest.due_at, DataRequest.id)
    rows = list(session.scalars(query.limit(limit)))
    subjects = {r.subject_public_id for r in rows}
    held = set(session.scalars(select(Candidate.public_id).where(
        Candidate.public_id.in_(subjects)))) if subjects else set()
    return [QueueRow(r, days_left(r.due_at, now) if r.status == "open" else None,
                     r.status == "open" and r.due_at < now, r.subject_public_id in held)
            for r in rows]


def find_request(session: Session, uid: str) -> DataRequest | None:
    return session.scalar(select(DataRequest).where(DataRequest.uid == uid))


def resolve_request(session: Session, request: DataRequest, status: str, *, now: datetime,
                    actor: audit.Actor) -> None:
    if status not in RESOLUTIONS:
        raise DeskError(_l("A request is resolved as fulfilled or rejected."))
    if request.status != "open":
        raise DeskError(_l("That request is already resolved."))
    requests.fulfil(request, now=now, status=status)
    audit.record(session, actor, audit.REQUEST_RESOLVED, now=now,
                 subject=request.subject_public_id,
                 detail=f"request={request.uid} kind={request.kind} status={status}")


def find_record(session: Session, public_id: str) -> Candidate | None:
    return session.scalar(select(Candidate).where(Candidate.public_id == public_id))


def log_received_request(session: Session, keys: VaultKeys, public_id: str, kind: str,
                         details: str, *, now: datetime, due_days: int,
                         actor: audit.Actor) -> DataRequest:
    """A request received by letter, e-mail or phone: logged with its due date. The
    details may name the person, so they are sealed with the subject's key."""
    if kind not in requests.KINDS:
        raise DeskError(_l("That kind of request does not exist."))
    record = find_record(session, public_id.strip())
    if record is None:
        raise DeskError(_l("No record has that reference."))
    details = details.strip()
    row = requests.log_request(session, record.public_id, kind, channel=requests.ADMIN, now=now,
                               due_days=due_days, details=details or None,
                               sealer=record_sealer(keys, record) if details else None)
    audit.record(session, actor, audit.REQUEST_LOGGED, now=now, subject=record.public_id,
                 detail=f"request={row.uid} kind={kind} channel={requests.ADMIN}")
    return row


# --- retention dashboard ---------------------------------------------------------------


def _expiring_clause(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Candidate.pool_consent_until > now,
            Candidate.pool_consent_until <= now + timedelta(days=EXPIRY_WINDOW_DAYS))


@dataclass(frozen=True)
class ExpiringConsent:
    public_id: str
    expires_at: datetime
    reminders: list[tuple[str, datetime]]  # (kind, sent at) for this expiry date


def expiring_consents(session: Session, *, now: datetime) -> list[ExpiringConsent]:
    records = list(session.scalars(select(Candidate).where(*_expiring_clause(now))
                                   .order_by(Candidate.pool_consent_until, Candidate.id)))
    sent: dict[int, list[tuple[str, datetime]]] = {}
    if records:
        notices = session.execute(select(RetentionNotice.candidate_id, RetentionNotice.kind,
                                         RetentionNotice.sent_at,
                                         RetentionNotice.consent_expires_at)
                                  .where(RetentionNotice.candidate_id.in_([r.id for r in records]))
                                  .order_by(RetentionNotice.sent_at))
        until = {r.id: r.pool_consent_until for r in records}
        for candidate_id, kind, sent_at, expires_at in notices:
            if expires_at == until[candidate_id]:  # reminders of an earlier expiry do not count
                sent.setdefault(candidate_id, []).append((kind, sent_at))
    return [ExpiringConsent(r.public_id, r.pool_consent_until or now, sent.get(r.id, []))
            for r in records]


@dataclass(frozen=True)
class RecordSummary:
    public_id: str
    source: str
    created_at: datetime
    vacancy: str | None
    legal_hold: bool


def _summary(record: Candidate) -> RecordSummary:
    vacancy = record.vacancy
    return RecordSummary(record.public_id, record.source, record.created_at,
                         f"{vacancy.title} ({vacancy.company})" if vacancy else None,
                         record.legal_hold)


def due_for_shredding(session: Session, *, now: datetime, config: Mapping[str, Any],
                      limit: int = 500) -> list[RecordSummary]:
    """What the next retention run would shred (the same rules: see services.retention)."""
    return [_summary(r) for r in session.scalars(
        select(Candidate).where(due_for_shredding_clause(now, config),
                                Candidate.legal_hold.is_(False))
        .order_by(Candidate.id).limit(limit))]


@dataclass(frozen=True)
class HeldRecord:
    public_id: str
    reason: str
    would_be_shredded: bool


def held_records(session: Session, keys: VaultKeys, *, now: datetime,
                 config: Mapping[str, Any]) -> list[HeldRecord]:
    records = list(session.scalars(select(Candidate).where(Candidate.legal_hold.is_(True))
                                   .options(selectinload(Candidate.key))
                                   .order_by(Candidate.id)))
    due = set(session.scalars(select(Candidate.id).where(
        Candidate.legal_hold.is_(True), due_for_shredding_clause(now, config))))
    # The reasons' keys in one call to the KEK backend, not one per record.
    with records_opened(keys, [r for r in records if r.legal_hold_reason is not None]):
        return [HeldRecord(r.public_id, holds.hold_reason(keys, r), r.id in due)
                for r in records]


def set_hold(session: Session, keys: VaultKeys, record: Candidate, reason: str | None, *,
             now: datetime, actor: audit.Actor) -> None:
    """A reason places the hold, None lifts it."""
    if reason is not None and not reason.strip():
        raise DeskError(_l("A legal hold needs a reason."))
    if reason is not None and len(reason.strip()) > holds.MAX_REASON:
        raise DeskError(_l("Keep the reason under %(n)s characters.", n=holds.MAX_REASON))
    holds.set_legal_hold(session, keys, record, reason, now=now, actor=actor)


# --- one person: erase and export on request ------------------------------------------


@dataclass(frozen=True)
class Person:
    """Every record sharing the anchor record's e-mail index: one person."""

    anchor: Candidate
    records: list[Candidate] = field(default_factory=list)

    @property
    def held(self) -> list[Candidate]:
        return [r for r in self.records if r.legal_hold]

    @property
    def summaries(self) -> list[RecordSummary]:
        return [_summary(r) for r in self.records]


def person_of(session: Session, public_id: str) -> Person | None:
    anchor = find_record(session, public_id)
    if anchor is None:
        return None
    return Person(anchor, records_of_person(session, anchor))


@dataclass(frozen=True)
class ErasureReceipt:
    public_ids: list[str]
    held_back: list[str]
    erased_at: datetime
    category: str
    request_uid: str


def erase_person(session: Session, person: Person, category: str, *, now: datetime,
                 due_days: int, ledger: ErasureLedger, actor: audit.Actor) -> ErasureReceipt:
    """Shred every record of the person that no legal hold protects (the one policy of
    services.erasure: held records stay, each with an open erasure request). Commits."""
    if category not in ERASURE_CATEGORIES:
        raise DeskError(_l("Choose why the data is erased."))
    # No details: anything sealed with the keys shredded below would be lost anyway.
    row = requests.log_request(session, person.anchor.public_id, "erase",
                               channel=requests.ADMIN, now=now, due_days=due_days,
                               fulfilled=not person.held)
    audit.record(session, actor, audit.REQUEST_LOGGED, now=now, subject=person.anchor.public_id,
                 detail=f"request={row.uid} kind=erase channel={requests.ADMIN} "
                        f"category={category} records={len(person.records)}")
    result = erasure.erase_records(session, list(person.records), reason=erasure.ADMIN_REQUEST,
                                   category=category, now=now, due_days=due_days,
                                   ledger=ledger, actor=actor)
    return ErasureReceipt(result.erased, result.held_back, now, category, row.uid)


def request_email_change(session: Session, keys: VaultKeys, person: Person, new_email: str, *,
                         now: datetime, lifetime_hours: int, secret_keys: Sequence[str],
                         due_days: int, actor: audit.Actor) -> identity.ChangeTicket:
    """A new address the person asked for by letter or phone. The officer's word is no
    proof that the address is the person's: the same rule as self-service holds, the
    change waits for the link mailed to the new address (the caller commits, then mails
    the ticket and the notice to the old address)."""
    ticket = identity.request_email_change(
        session, keys, person.anchor, new_email, now=now, lifetime_hours=lifetime_hours,
        secret_keys=secret_keys, requested_by=identity.ADMIN, actor=actor)
    if ticket is None:
        raise DeskError(_l("That is already the person's confirmed address: nothing to "
                           "change."))
    row = requests.log_request(session, person.anchor.public_id, "correct",
                               channel=requests.ADMIN, now=now, due_days=due_days,
                               fulfilled=True)
    audit.record(session, actor, audit.REQUEST_LOGGED, now=now, subject=person.anchor.public_id,
                 detail=f"request={row.uid} kind=correct channel={requests.ADMIN} "
                        "field=email pending-confirmation")
    return ticket


@dataclass(frozen=True)
class ExportFile:
    body: bytes
    filename: str
    media_type: str
    records: int


def export_person(session: Session, keys: VaultKeys, person: Person, fmt: str, recipient: str,
                  *, now: datetime, due_days: int, actor: audit.Actor) -> ExportFile:
    """Everything held on the person, logged as a fulfilled export request and audited
    per record (the person sees it on their page). The caller commits."""
    if fmt not in exports.EXPORT_FILENAMES:
        raise DeskError(_l("Choose JSON, CSV or ZIP."))
    if recipient not in EXPORT_RECIPIENTS:
        raise DeskError(_l("Choose who receives the export."))
    body = exports.render(session, keys, person.records, fmt, now=now)
    row = requests.log_request(session, person.anchor.public_id, "export",
                               channel=requests.ADMIN, now=now, due_days=due_days,
                               fulfilled=True)
    for record in person.records:
        audit.record(session, actor, audit.CANDIDATE_EXPORTED, now=now, subject=record.public_id,
                     detail=f"{fmt} to={recipient} request={row.uid}")
    return ExportFile(body, exports.download_filename(person.records, fmt, now=now),
                      exports.MEDIA_TYPES[fmt], len(person.records))


# --- audit trail browser ---------------------------------------------------------------


def audit_actions() -> list[str]:
    """Every action name the application records (the constants of services.audit)."""
    return sorted({value for name, value in vars(audit).items()
                   if name.isupper() and isinstance(value, str) and "." in value})


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_type: str | None = None
    subject: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    def clauses(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.action:
            where.append(AuditEvent.action == self.action)
        if self.actor_type:
            where.append(AuditEvent.actor_type == self.actor_type)
        if self.subject:
            where.append(AuditEvent.subject_public_id == self.subject)
        if self.date_from:
            where.append(AuditEvent.created_at >= datetime.combine(self.date_from, time(),
                                                                    tzinfo=UTC))
        if self.date_to:
            where.append(AuditEvent.created_at < datetime.combine(
                self.date_to + timedelta(days=1), time(), tzinfo=UTC))
        return where


def _audit_query(filters: AuditFilter) -> Select[tuple[AuditEvent]]:
    return select(AuditEvent).where(*filters.clauses())


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int


def audit_page(session: Session, filters: AuditFilter, *, page: int,
               page_size: int) -> AuditPage:
    """Newest first."""
    total = int(session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(*filters.clauses())) or 0)
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    events = list(session.scalars(_audit_query(filters).order_by(AuditEvent.id.desc())
                                  .offset((page - 1) * page_size).limit(page_size)))
    return AuditPage(events, total, page, pages)


AUDIT_CSV_HEADER = ("id", "created_at", "actor_type", "actor_id", "actor_role", "action",
                    "subject_public_id", "detail", "prev_hash", "hash")


def audit_events(session: Session, filters: AuditFilter) -> Iterator[AuditEvent]:
    """Oldest first, streamed in batches."""
    yield from session.scalars(_audit_query(filters).order_by(AuditEvent.id)
                               .execution_options(yield_per=1000))


def audit_csv(events: Iterable[AuditEvent]) -> Iterator[bytes]:
    """CSV lines; a cell a spreadsheet would read as a formula starts with a quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        chunk = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    writer.writerow(AUDIT_CSV_HEADER)
    yield "\ufeff".encode() + flush()  # byte-order mark: spreadsheets then read UTF-8
    for event in events:
        cells = (event.id, event.created_at.isoformat(), event.actor_type, event.actor_id,
                 event.actor_role, event.action, event.subject_public_id, event.detail,
                 event.prev_hash, event.hash)
        writer.writerow([exports.neutralise_cell("" if c is None else str(c)) for c in cells])
        yield flush()


def first_broken_link(session: Session) -> int | None:
    return audit.verify_chain(session)


def anchor_disagreement(session: Session, anchor_path: Path) -> str | None:
    """What the trail lacks against its anchors outside the database (None: nothing).
    A chain that verifies can still have lost its newest events; only this shows it."""
    found = audit_anchor.compare(session, audit_anchor.read(anchor_path))
    return None if found is None else found.message()


# --- staff accounts --------------------------------------------------------------------


def staff_accounts(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def find_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)
