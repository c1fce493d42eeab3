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
from typing import Literal

from sqlalchemy import BindParameter, ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from vault.models import Candidate, User, Vacancy

Viewer = Literal["all", "recruiter", "nobody"]


def viewer_kind(user: User) -> Viewer:
    if not user.active:
        return "nobody"
    if user.role == "admin":
        return "all"
    if user.role == "recruiter":
        return "recruiter"
    return "nobody"


def recruiter_clause(company: str | BindParameter[str],
                     now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """What a recruiter of `company` sees at `now` (values, or bound parameters for a
    statement built once and run for many recruiters)."""
    own_vacancies = select(Vacancy.id).where(Vacancy.company == company)
    return or_(Candidate.vacancy_id.in_(own_vacancies), Candidate.pool_consent_until > now)


def visible_clause(user: User, now: datetime) -> ColumnElement[bool]:
    kind = viewer_kind(user)
    if kind == "all":
        return true()
    if kind == "recruiter":
        return recruiter_clause(user.company, now)
    return false()


def visible_candidate(session: Session, user: User, public_id: str,
                      now: datetime) -> Candidate | None:
    return session.scalar(select(Candidate).where(Candidate.public_id == public_id,
                                                  visible_clause(user, now)))


def can_see(session: Session, user: User, candidate: Candidate, now: datetime) -> bool:
    return session.scalar(select(Candidate.id).where(Candidate.id == candidate.id,
                                                     visible_clause(user, now))) is not None
