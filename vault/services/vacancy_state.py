"""Closing a vacancy and undoing it, by its company's recruiters, in the audit trail.

Closing starts the retention clock of everyone who applied (vault.services.retention);
reopening stops it again. Both are recorded with the vacancy's slug only (no personal
data in the trail)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vault.models import User, Vacancy
from vault.services import audit
from vault.services.users import staff_actor
from vault.services.vacancies import close_vacancy, reopen_vacancy


class NotYourVacancy(PermissionError):
    """Only recruiters of the vacancy's company may reopen it."""


def may_reopen(user: User, vacancy: Vacancy) -> bool:
    # Reopening restarts the hiring of one company: its own recruiters decide it, not
    # another company's, and not the privacy officer (who never recruits).
    return user.role == "recruiter" and user.company == vacancy.company


def close(session: Session, user: User, vacancy: Vacancy, *, now: datetime) -> bool:
    """Close an open vacancy; False (nothing done) when it was closed already."""
    if not vacancy.is_open:
        return False
    close_vacancy(vacancy, now=now)
    audit.record(session, staff_actor(user), audit.VACANCY_CLOSED, now=now,
                 detail=f"vacancy={vacancy.slug}")
    return True


def reopen(session: Session, user: User, vacancy: Vacancy, *, now: datetime) -> bool:
    """Reopen a closed vacancy; False (nothing done) when it is open already."""
    if not may_reopen(user, vacancy):
        raise NotYourVacancy(vacancy.slug)
    if vacancy.is_open:
        return False
    reopen_vacancy(vacancy)
    audit.record(session, staff_actor(user), audit.VACANCY_REOPENED, now=now,
                 detail=f"vacancy={vacancy.slug}")
    return True
