"""How staff members are named: by name to the privacy officer and colleagues, by role
and company to candidates (who learn which company looked, never which person)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.models import User


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    role: str  # recruiter | admin
    company: str | None
    name: str  # the display name, else the e-mail address (User.label)


def members(session: Session, user_ids: Iterable[int | None]) -> dict[int, StaffMember]:
    """These staff members by account id, in one query. An account that is gone has no
    entry (pages then say "staff")."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    users = session.scalars(select(User).where(User.id.in_(wanted)))
    return {u.id: StaffMember(u.id, u.role, u.company, u.label) for u in users}


def labels(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Staff names (the e-mail address when no name was given), by user id."""
    return {uid: m.name for uid, m in members(session, user_ids).items()}


def companies(session: Session, user_ids: Iterable[int | None]) -> dict[int, str | None]:
    """The company each staff member works for, by user id."""
    return {uid: m.company for uid, m in members(session, user_ids).items()}
