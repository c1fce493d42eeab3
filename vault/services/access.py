"""Who may see which candidate: purpose limitation, written once, used in every query.

- The admin (privacy officer) sees every record.
- A recruiter sees the applications to their own company's vacancies (the purpose
  the person applied for), whatever their talent-pool consent says.
- A recruiter sees any other record only through the group talent pool, so only
  while that record's pool consent is live. A spontaneous application without pool
  consent is therefore seen by the admin only.
- Anyone else (disabled or unknown role) sees nothing.

Callers answer 404 for an invisible record, never 403, so public ids cannot be probed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from vault.models import Candidate, User, Vacancy


def visible_clause(user: User, now: datetime) -> ColumnElement[bool]:
    if not user.active:
        return false()
    if user.role == "admin":
        return true()
    if user.role == "recruiter":
        own_vacancies = select(Vacancy.id).where(Vacancy.company == user.company)
        return or_(Candidate.vacancy_id.in_(own_vacancies), Candidate.pool_consent_until > now)
    return false()


def visible_candidate(session: Session, user: User, public_id: str,
                      now: datetime) -> Candidate | None:
    return session.scalar(select(Candidate).where(Candidate.public_id == public_id,
                                                  visible_clause(user, now)))


def can_see(session: Session, user: User, candidate: Candidate, now: datetime) -> bool:
    return session.scalar(select(Candidate.id).where(Candidate.id == candidate.id,
                                                     visible_clause(user, now))) is not None
