"""Who wrote each note, as far as the vault knows a staff member today: their role,
their company and their account number (staff display names come later)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.models import User
from vault.services.candidates import OpenedNote


@dataclass(frozen=True)
class NoteAuthor:
    user_id: int
    role: str  # recruiter | admin
    company: str | None


def note_authors(session: Session, notes: Iterable[OpenedNote]) -> dict[int, NoteAuthor]:
    """The authors of these notes by account id, in one query. A note whose author
    account is gone has no entry (the page says "staff")."""
    ids = {n.author_id for n in notes if n.author_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.role, User.company).where(User.id.in_(ids)))
    return {uid: NoteAuthor(uid, role, company) for uid, role, company in rows}
