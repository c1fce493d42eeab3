"""How staff members are named: by name to the privacy officer and colleagues, by role
and company to candidates (who learn which company looked, never which person)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.models import User


def labels(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Staff names (the e-mail address when no name was given), by user id."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.label for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def companies(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """The company each staff member works for, by user id."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.company).where(User.id.in_(wanted)))
                .tuples().all())
