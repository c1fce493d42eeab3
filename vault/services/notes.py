"""Staff notes on a candidate: sealed with that candidate's key, shredded with them.

Each note records the company it belongs to (vault.services.access.note_company), which
decides which staff can read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.models import Candidate, Note, new_uid
from vault.services import audit
from vault.services.sealing import record_sealer

MAX_NOTE = 5000


def add_note(session: Session, keys: VaultKeys, candidate: Candidate, text: str, *,
             author: audit.Actor, company: str | None, now: datetime) -> Note:
    body = text.strip()
    if not body or len(body) > MAX_NOTE:
        raise ValueError(f"a note has 1 to {MAX_NOTE} characters")
    note = Note(uid=new_uid(), author_id=author.id, company=company, created_at=now)
    note.body = record_sealer(keys, candidate).seal("note", "body", body, note.uid)
    candidate.notes.append(note)
    audit.record(session, author, audit.NOTE_ADDED, now=now, subject=candidate.public_id)
    session.flush()
    return note
