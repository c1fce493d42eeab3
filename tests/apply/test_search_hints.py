"""What the form says is searchable is what indexing makes searchable.

Each field's hint is read from the page (the element its aria-describedby names), and
compared with what the real path does: the form's data (ApplicationForm.candidate_input)
stored by create_candidate, whose blind-index tokens and exact e-mail index are what
recruiters' search looks up. A field is searchable when changing only its value changes
the record's tokens. Change the indexing, and this test says which hint is now wrong.
"""

from __future__ import annotations

from lxml import html as lxml_html

from vault.appctx import vault_keys
from vault.apply.forms import (
    NOT_SEARCHABLE,
    SEARCHABLE,
    SEARCHABLE_EXACT,
    SpontaneousApplicationForm,
)
from vault.extensions import db
from vault.services.candidates import DocumentInput, create_candidate

BASE = {
    "full_name": "Ilse Basisnaam", "email": "basis@example.org", "phone": "+32 470 11 22 33",
    "position": "Gardener", "education-0-degree": "Bachelor", "education-0-field": "History",
    "education-0-institution": "Artevelde", "education-0-year": "2001", "age": "30",
    "gender": "female", "interests": "knitting", "companies": "Ingenium",
    "consent_application": "y", "cv": "Tuinaanleg en snoeiwerk",
}
# One value per field, sharing no word with BASE.
CHANGED = {
    "full_name": "Ilse Qzyxnaam", "email": "qzyx@example.net", "phone": "+32 499 87 65 43",
    "position": "Qzyxfunctie", "education-0-degree": "Qzyxgraad",
    "education-0-field": "Qzyxrichting", "education-0-institution": "Qzyxschool",
    "education-0-year": "1987", "age": "57", "gender": "non-binary",
    "interests": "Qzyxhobby", "cv": "Qzyxervaring",
}


def _indexed(app, values: dict[str, str]) -> tuple[frozenset[str], str]:
    """The record's tokens and e-mail index, for a form sent with these values."""
    data = {k: v for k, v in values.items() if k != "cv"}
    with app.test_request_context("/apply", method="POST", data=data):
        form = SpontaneousApplicationForm()
        form.companies.choices = [(c, c) for c in app.config["COMPANIES"]]
        cv = DocumentInput(content=b"%PDF-1.4", filename="cv.pdf", media_type="application/pdf",
                           extension="pdf", text=values["cv"], has_text=True)
        candidate = create_candidate(db.session, vault_keys(), form.candidate_input(cv),
                                     now=app.config["CLOCK"]())
        found = frozenset(candidate.index_row.tokens.split()), candidate.email_index
        db.session.rollback()
        return found


def _page_hints(client) -> dict[str, str]:
    """Each form field's search hint, as the page ties it to the field."""
    tree = lxml_html.fromstring(client.get("/apply").data.decode())
    hints = {}
    for control in tree.xpath("//form//*[self::input or self::select or self::textarea]"):
        name = control.get("name")
        for ref in (control.get("aria-describedby") or "").split():
            [described] = tree.xpath(f"//*[@id='{ref}']")
            if "search-hint" in (described.get("class") or ""):
                hints[name] = described.text_content().strip()
    return hints


def test_every_search_hint_says_what_indexing_really_does(app, client):
    hints = _page_hints(client)
    assert set(hints) == set(CHANGED), "a field without a search hint, or one too many"
    base_tokens, base_email = _indexed(app, BASE)
    truth = {}
    for name, value in CHANGED.items():
        tokens, email = _indexed(app, {**BASE, name: value})
        truth[name] = (str(SEARCHABLE) if tokens != base_tokens
                       else str(SEARCHABLE_EXACT) if email != base_email
                       else str(NOT_SEARCHABLE))
    assert hints == truth


def test_skills_and_interests_are_not_said_to_be_never_searchable(client):
    page = client.get("/apply").data.decode().lower()
    assert "never searchable" not in page
