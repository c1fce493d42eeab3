"""What a personal link opens: the person's records, found from the token alone.

The token names one record (its public id); the person is every record sharing that
record's confirmed e-mail address (services.identity). A token outlives nothing: once
the records are erased it opens nothing, whatever its signature says, and once a newer
link was issued to the person (or their address changed) an older one opens nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.models import Candidate, DataRequest, ErasureRecord
from vault.services import audit, consent, erasure, identity, links, requests
from vault.services import history as history_lines
from vault.services.candidates import (
    Correction,
    EducationInput,
    OpenedCandidate,
    correct_candidate,
    open_candidate,
    records_of_person,
)
from vault.services.erasure_ledger import ErasureLedger


class NothingHeld(Exception):
    """The token was valid, but every record it pointed to has been erased."""

    def __init__(self, erased_at: datetime | None) -> None:
        super().__init__("nothing held")
        self.erased_at = erased_at


@dataclass
class Person:
    anchor: Candidate  # the record the token names
    records: list[Candidate]

    @property
    def public_ids(self) -> list[str]:
        return [r.public_id for r in self.records]

    def record(self, public_id: str | None) -> Candidate | None:
        """One of this person's records; None for any id that is not theirs."""
        if not public_id:
            return self.anchor
        return next((r for r in self.records if r.public_id == public_id), None)


def resolve(session: Session, token: str, *, purpose: str, secret_keys: Sequence[str],
            max_age_days: int, clock: Callable[[], datetime]) -> Person:
    """The person a token opens; LinkError for bad tokens, NothingHeld after erasure."""
    public_id, generation = links.read_link(secret_keys, purpose, token,
                                            max_age_days=max_age_days, clock=clock)
    anchor = session.scalar(select(Candidate).where(Candidate.public_id == public_id))
    if anchor is None:
        erased_at = session.scalar(select(ErasureRecord.erased_at).where(
            ErasureRecord.public_id == public_id))
        raise NothingHeld(erased_at)
    records = records_of_person(session, anchor)
    # A newer link was issued to this person (on request, or after their address
    # changed): this one is revoked, whoever holds it.
    if generation < identity.link_generation(records):
        raise links.LinkError(links.LinkProblem.REVOKED)
    return Person(anchor, records)


# Looking and downloading change nothing: one row per day and kind keeps the right of
# access on record without a row per page view. (Two first views at the same instant
# may both write one: harmless, and bounded by the clients, unlike a row per view.)
ONCE_A_DAY = ("access", "export")


def log_fulfilled(session: Session, person: Person, kind: str, *, now: datetime,
                  due_days: int) -> DataRequest | None:
    """Self-service requests are fulfilled the moment they are made. Views and downloads
    are logged once per day (UTC) and kind: None when today's row exists already."""
    if kind in ONCE_A_DAY:
        day_start = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
        logged_today = session.scalar(select(DataRequest.id).where(
            DataRequest.subject_public_id.in_(person.public_ids), DataRequest.kind == kind,
            DataRequest.channel == requests.SELF_SERVICE,
            DataRequest.received_at >= day_start,
            DataRequest.received_at < day_start + timedelta(days=1)).limit(1))
        if logged_today is not None:
            return None
    return requests.log_request(session, person.anchor.public_id, kind,
                                channel=requests.SELF_SERVICE, now=now, due_days=due_days,
                                fulfilled=True)


def history(session: Session, person: Person) -> list[history_lines.HistoryLine]:
    """The person's requests in plain words, grouped by kind (services.history)."""
    return history_lines.group_requests(session.scalars(select(DataRequest).where(
        DataRequest.subject_public_id.in_(person.public_ids))))


def correct(session: Session, keys: VaultKeys, person: Person, record: Candidate,
            correction: Correction, *, now: datetime, due_days: int,
            secret_keys: Sequence[str], change_hours: int) -> identity.ChangeTicket | None:
    """Correct one record. A new e-mail address is not applied: it waits, sealed, for the
    link mailed to it (the ticket returned; the caller commits, then mails), so nobody
    can join another person's records by typing their address."""
    ticket = None
    if correction.email is not None:
        ticket = identity.request_email_change(
            session, keys, record, correction.email, now=now, lifetime_hours=change_hours,
            secret_keys=secret_keys, requested_by=identity.SELF_SERVICE, actor=audit.CANDIDATE)
        if ticket is not None:
            correction = replace(correction, email=None)
        # Otherwise it is the same address (another spelling): corrected like any field.
    before = open_candidate(keys, record, with_notes=False)
    correct_candidate(session, keys, record, correction, now=now)
    audit.record(session, audit.CANDIDATE, audit.CANDIDATE_CORRECTED, now=now,
                 subject=record.public_id, detail=correction_detail(before, correction))
    log_fulfilled(session, person, "correct", now=now, due_days=due_days)
    return ticket


CORRECTABLE = ("full_name", "email", "phone", "position", "age", "gender", "interests")


def correction_detail(before: OpenedCandidate, correction: Correction) -> str:
    """What a correction changed, for the audit trail: field names and counts only,
    never a value (the trail is not sealed per person and outlives an erasure)."""
    changed = [name for name in CORRECTABLE
               if getattr(correction, name) is not None
               and getattr(correction, name) != getattr(before, name)]
    removed = 0
    if correction.education is not None:
        kept = Counter(correction.education)
        old = Counter(EducationInput(e.degree, e.field, e.institution, e.year)
                      for e in before.education)
        removed = sum((old - kept).values())
        if kept != old:
            changed.append("education")
    detail = "self-service"
    if changed:
        detail += " changed=" + ",".join(changed)
    if removed:
        detail += f" education_removed={removed}"
    return detail


def withdraw_pool(session: Session, person: Person, *, notice_version: str, now: datetime,
                  due_days: int) -> int:
    """Withdraw talent-pool consent on every record; the count of records it ended on."""
    withdrawn = 0
    for record in person.records:
        if consent.withdraw_pool_consent(session, record, notice_version=notice_version,
                                         source="self-service", now=now) is not None:
            withdrawn += 1
            audit.record(session, audit.CANDIDATE, audit.CONSENT_WITHDRAWN, now=now,
                         subject=record.public_id, detail=consent.TALENT_POOL)
    log_fulfilled(session, person, "withdraw", now=now, due_days=due_days)
    return withdrawn


def object_to_processing(session: Session, keys: VaultKeys, person: Person, reason: str, *,
                         now: datetime, due_days: int) -> DataRequest:
    """An objection goes to the privacy officer's queue: it needs a human decision."""
    from vault.services.sealing import record_sealer

    request = requests.log_request(
        session, person.anchor.public_id, "object", channel=requests.SELF_SERVICE, now=now,
        due_days=due_days, details=reason or None,
        sealer=record_sealer(keys, person.anchor) if reason else None)
    audit.record(session, audit.CANDIDATE, audit.REQUEST_LOGGED, now=now,
                 subject=person.anchor.public_id, detail="object")
    return request


def erase(session: Session, person: Person, *, now: datetime, ledger: ErasureLedger,
          due_days: int) -> erasure.ErasureResult:
    """Shred every record of the person; a record under a legal hold stays, with an open
    erasure request for the privacy officer (services.erasure's one policy). Commits."""
    for record in person.records:
        if not record.legal_hold:
            requests.log_request(session, record.public_id, "erase",
                                 channel=requests.SELF_SERVICE, now=now, due_days=due_days,
                                 fulfilled=True)
    return erasure.erase_records(session, person.records, reason=erasure.SELF_SERVICE,
                                 now=now, due_days=due_days, ledger=ledger,
                                 actor=audit.CANDIDATE)


@dataclass(frozen=True)
class RenewalResult:
    renewed: list[Candidate]
    until: datetime | None


def renewable(person: Person) -> list[Candidate]:
    """Records whose pool consent may be renewed: granted once and never withdrawn
    (an explicit withdrawal is not undone by an old reminder's link)."""
    result = []
    for record in person.records:
        last = consent.latest(record, consent.TALENT_POOL)
        if last is not None and last.event != consent.WITHDRAWN:
            result.append(record)
    return result


def renew_pool(session: Session, person: Person, *, months: int, notice_version: str,
               now: datetime, due_days: int) -> RenewalResult:
    records = renewable(person)
    until = None
    for record in records:
        event = consent.renew_pool_consent(session, record, months=months,
                                           notice_version=notice_version,
                                           source="self-service", now=now)
        until = event.expires_at
        audit.record(session, audit.CANDIDATE, audit.CONSENT_RENEWED, now=now,
                     subject=record.public_id, detail=consent.TALENT_POOL)
    if records:
        log_fulfilled(session, person, "renew", now=now, due_days=due_days)
    return RenewalResult(records, until)
