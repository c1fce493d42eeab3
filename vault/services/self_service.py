"""What a personal link opens: the person's records, found from the token alone.

The token names one record (its public id); the person is every record sharing that
record's e-mail blind index. A token outlives nothing: once the records are erased it
opens nothing, whatever its signature says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.models import Candidate, DataRequest, ErasureRecord
from vault.services import audit, consent, erasure, links, requests
from vault.services.candidates import (
    Correction,
    correct_candidate,
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
    public_id = links.read_link_token(secret_keys, purpose, token, max_age_days=max_age_days,
                                      clock=clock)
    anchor = session.scalar(select(Candidate).where(Candidate.public_id == public_id))
    if anchor is None:
        erased_at = session.scalar(select(ErasureRecord.erased_at).where(
            ErasureRecord.public_id == public_id))
        raise NothingHeld(erased_at)
    return Person(anchor, records_of_person(session, anchor))


def log_fulfilled(session: Session, person: Person, kind: str, *, now: datetime,
                  due_days: int) -> DataRequest:
    """Self-service requests are fulfilled the moment they are made."""
    return requests.log_request(session, person.anchor.public_id, kind,
                                channel=requests.SELF_SERVICE, now=now, due_days=due_days,
                                fulfilled=True)


def correct(session: Session, keys: VaultKeys, person: Person, record: Candidate,
            correction: Correction, *, now: datetime, due_days: int) -> None:
    """Correct one record; a new e-mail address goes to every record of the person, so
    the records stay linked and the personal link keeps covering all of them."""
    correct_candidate(session, keys, record, correction, now=now)
    if correction.email is not None:
        for other in person.records:
            if other is not record:
                correct_candidate(session, keys, other, Correction(email=correction.email),
                                  now=now)
    for changed in person.records if correction.email is not None else [record]:
        audit.record(session, audit.CANDIDATE, audit.CANDIDATE_CORRECTED, now=now,
                     subject=changed.public_id, detail="self-service")
    log_fulfilled(session, person, "correct", now=now, due_days=due_days)


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
