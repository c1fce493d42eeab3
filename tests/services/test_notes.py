from __future__ import annotations

import pytest

from tests.services.test_candidates import get, make
from vault.appctx import vault_keys
from vault.extensions import db
from vault.services import audit
from vault.services.candidates import open_candidate
from vault.services.notes import add_note

AUTHOR = audit.Actor("user", None, "recruiter")


def test_a_note_keeps_the_company_it_belongs_to_and_is_sealed(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        candidate = get(public_id)
        note = add_note(db.session, vault_keys(), candidate, "  Calm under pressure  ",
                        author=AUTHOR, company="Hoptimize", now=clock())
        db.session.commit()
        assert note.company == "Hoptimize"
        assert b"Calm" not in note.body
        assert [n.body for n in open_candidate(vault_keys(), get(public_id)).notes] == [
            "Calm under pressure"]


def test_notes_a_reader_may_not_read_are_left_out(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        candidate = get(public_id)
        for company in ("Ingenium", "Hoptimize", None):
            add_note(db.session, vault_keys(), candidate, f"by {company}", author=AUTHOR,
                     company=company, now=clock())
        db.session.commit()
        opened = open_candidate(vault_keys(), get(public_id),
                                note_filter=lambda n: n.company == "Ingenium")
        assert [n.body for n in opened.notes] == ["by Ingenium"]


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_an_empty_or_overlong_note_changes_nothing(app, clock, text):
    public_id = make(app, clock)
    with app.app_context():
        with pytest.raises(ValueError):
            add_note(db.session, vault_keys(), get(public_id), text, author=AUTHOR,
                     company="Ingenium", now=clock())
        db.session.rollback()
        assert get(public_id).notes == []
