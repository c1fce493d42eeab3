"""Who wrote each note, for staff pages: the author's name (their display name, else
their address), role and company. Candidates never see this; they read role and
company only (vault.services.plain_words)."""

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
    name: str


def note_authors(session: Session, notes: Iterable[OpenedNote]) -> dict[int, NoteAuthor]:
    """The authors of these notes by account id, in one query. A note whose author
    account is gone has no entry (the page says "staff")."""
    ids = {n.author_id for n in notes if n.author_id is not None}
    if not ids:
        return {}
    users = session.scalars(select(User).where(User.id.in_(ids)))
    return {u.id: NoteAuthor(u.id, u.role, u.company, u.label) for u in users}
