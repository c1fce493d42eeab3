"""What a staff member's screens show, assembled from records they may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from vault.keys import VaultKeys
from vault.models import Candidate, Consent, User, Vacancy
from vault.services import consent
from vault.services.access import may_write, note_reader, visible_clause
from vault.services.candidates import OpenedCandidate, open_candidate, records_of_person
from vault.services.sealing import records_opened


@dataclass(frozen=True)
class ConsentStatus:
    application: Consent | None
    pool: Consent | None
    pool_live: bool
    pool_until: datetime | None


@dataclass(frozen=True)
class CandidateView:
    record: Candidate
    opened: OpenedCandidate  # with only the notes this user may read
    consent: ConsentStatus
    other_records: list[Candidate]
    can_set_status: bool


def candidate_view(session: Session, keys: VaultKeys, user: User, record: Candidate,
                   now: datetime) -> CandidateView:
    others = [r for r in records_of_person(session, record) if r.id != record.id]
    if others:
        visible = set(session.scalars(select(Candidate.id).where(
            Candidate.id.in_([r.id for r in others]), visible_clause(user, now))))
        others = [r for r in others if r.id in visible]
    return CandidateView(
        record=record, opened=open_candidate(keys, record, note_filter=note_reader(user)),
        consent=ConsentStatus(consent.latest(record, consent.APPLICATION),
                              consent.latest(record, consent.TALENT_POOL),
                              consent.pool_consent_live(record, now), record.pool_consent_until),
        other_records=others,
        can_set_status=may_write(session, user, record, "status", now))


def _managed(user: User) -> Select[tuple[Vacancy]]:
    query = select(Vacancy).order_by(Vacancy.status.desc(), Vacancy.company, Vacancy.title)
    if user.role != "admin":
        query = query.where(Vacancy.company == user.company)
    return query


def managed_vacancies(session: Session, user: User) -> list[Vacancy]:
    """The vacancies a user manages (the admin: all), for a filter: no counts, so a page
    that only lists them reads the vacancy table, not every candidate."""
    return list(session.scalars(_managed(user)))


def company_vacancies(session: Session, user: User) -> list[tuple[Vacancy, int]]:
    """The vacancies a user manages (the admin: all), with their applicant counts."""
    vacancies = managed_vacancies(session, user)
    # Counted for these vacancies only, from the vacancy_id index: a million candidates
    # in the pool, most without a vacancy or for another company's, are not grouped.
    counts: dict[int, int] = dict.fromkeys((v.id for v in vacancies), 0)
    if counts:
        for vacancy_id, n in session.execute(
                select(Candidate.vacancy_id, func.count())
                .where(Candidate.vacancy_id.in_(list(counts)))
                .group_by(Candidate.vacancy_id)):
            counts[vacancy_id] = int(n)
    return [(vacancy, counts[vacancy.id]) for vacancy in vacancies]


def managed_vacancy(session: Session, user: User, slug: str) -> Vacancy | None:
    """A vacancy this user may manage; None (then 404) for another company's."""
    query = select(Vacancy).where(Vacancy.slug == slug)
    if user.role != "admin":
        query = query.where(Vacancy.company == user.company)
    return session.scalar(query)


def applicants(session: Session, keys: VaultKeys, vacancy: Vacancy
               ) -> list[tuple[Candidate, str]]:
    """A vacancy's applicants with their names (opened for this page only)."""
    records = session.scalars(select(Candidate).where(Candidate.vacancy_id == vacancy.id)
                              .options(selectinload(Candidate.key))
                              .order_by(Candidate.created_at.desc())).all()
    with records_opened(keys, records):  # every key in one call to the KEK backend
        return [(r, open_candidate(keys, r, with_notes=False).full_name) for r in records]
