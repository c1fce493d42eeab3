"""A hired candidate's file, taken by the HR system of the company that hired them.

Which records: those with status "hired" for the client's company: an application to
one of its vacancies, or a spontaneous application naming it that one of its own
recruiters marked hired (the audit trail says who set the status). Anything else (other
companies' candidates, candidates not hired, erased ones) is not there for the client.

"Once": the HR system takes the file into its own records. The first fetch (the JSON
file or the CV) starts the transfer and records it in the audit trail, where the
person's own page shows it ("Ingenium's HR system took your file on ..."). For
TRANSFER_WINDOW after that, the company's clients may fetch the file and the CV again (a
retry, the CV after the JSON) without another transfer being recorded; after it the
file is refused: a recruitment vault does not serve as the HR system's second copy.
"Once" is per company, not per client: a company may hold several clients (a new token
beside the old one, a second system), and a new client must not open the window again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.models import ApiClient, AuditEvent, Candidate, CandidateCompany, Vacancy
from vault.services import audit, staff_names

TRANSFER_WINDOW = timedelta(hours=24)
HIRED = "hired"


def _hired_for(session: Session, company: str, public_id: str | None = None) -> list[Candidate]:
    query = (
        select(Candidate)
        .where(Candidate.status == HIRED)
        .where(
            Candidate.vacancy_id.in_(select(Vacancy.id).where(Vacancy.company == company))
            | Candidate.id.in_(
                select(CandidateCompany.candidate_id).where(CandidateCompany.company == company)
            )
        )
    )
    if public_id is not None:
        query = query.where(Candidate.public_id == public_id)
    found = list(session.scalars(query.order_by(Candidate.status_changed_at, Candidate.id)))
    spontaneous = [c for c in found if c.vacancy_id is None]
    hirers = _hiring_companies(session, spontaneous)
    return [c for c in found if c.vacancy_id is not None or hirers.get(c.public_id) == company]


def _hiring_companies(session: Session, records: list[Candidate]) -> dict[str, str | None]:
    """For spontaneous applications (which may name several companies): the company of
    the recruiter who last set the status to hired."""
    if not records:
        return {}
    events = session.execute(
        select(AuditEvent.subject_public_id, AuditEvent.actor_id)
        .where(
            AuditEvent.action == audit.STATUS_CHANGED,
            AuditEvent.detail == HIRED,
            AuditEvent.actor_type == "user",
            AuditEvent.subject_public_id.in_([r.public_id for r in records]),
        )
        .order_by(AuditEvent.id)
    ).all()
    last = {subject: actor for subject, actor in events}  # the latest wins
    employers = staff_names.companies(session, last.values())
    return {subject: employers.get(actor) if actor else None for subject, actor in last.items()}


def hired_candidates(session: Session, company: str) -> list[Candidate]:
    return _hired_for(session, company)


def hired_candidate(session: Session, company: str, public_id: str) -> Candidate | None:
    # Public ids are 22 URL-safe characters; anything else matches nothing and is not
    # sent to the database (PostgreSQL refuses a NUL byte with an error).
    if not (0 < len(public_id) <= 32) or not all(c.isalnum() or c in "-_" for c in public_id):
        return None
    found = _hired_for(session, company, public_id)
    return found[0] if found else None


def transfers_of(session: Session, client: ApiClient, public_ids: list[str]) -> dict[str, datetime]:
    """When the transfer of each record to this client's company started, by whichever
    of the company's clients took it (records the company has not taken are left out)."""
    if not public_ids:
        return {}
    # Every client of the company, revoked and expired ones too: a transfer one of them
    # took counts for all, so a new token does not make the file available again.
    company_clients = select(ApiClient.id).where(ApiClient.company == client.company)
    rows = session.execute(
        select(AuditEvent.subject_public_id, AuditEvent.created_at)
        .where(
            AuditEvent.action == audit.CANDIDATE_TRANSFERRED,
            AuditEvent.actor_type == audit.API_ACTOR,
            AuditEvent.actor_id.in_(company_clients),
            AuditEvent.subject_public_id.in_(public_ids),
        )
        .order_by(AuditEvent.id.desc())
    ).all()
    return {subject: at for subject, at in rows if subject is not None}


HR_SYSTEM_ROLE = "hr_system"


class TransferClosed(Exception):
    """The client's company took this file more than TRANSFER_WINDOW ago."""

    def __init__(self, started_at: datetime) -> None:
        super().__init__("transfer closed")
        self.started_at = started_at


def take(session: Session, client: ApiClient, candidate: Candidate, *, now: datetime) -> datetime:
    """Record the transfer on the first fetch; allow fetches within the window; refuse
    later ones (TransferClosed). Returns when the transfer started. The caller commits."""
    started = transfers_of(session, client, [candidate.public_id]).get(candidate.public_id)
    if started is None:
        audit.record(
            session,
            audit.Actor(audit.API_ACTOR, client.id, HR_SYSTEM_ROLE),
            audit.CANDIDATE_TRANSFERRED,
            now=now,
            subject=candidate.public_id,
            detail=f"key {client.key_id} company {client.company}",
        )
        return now
    if now - started > TRANSFER_WINDOW:
        raise TransferClosed(started)
    return started


def client_companies(session: Session, client_ids: list[int | None]) -> dict[int, str]:
    """The company of each API client (for the person's history of transfers)."""
    wanted = {i for i in client_ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(ApiClient.id, ApiClient.company).where(ApiClient.id.in_(wanted)))
    return {client_id: company for client_id, company in rows}
