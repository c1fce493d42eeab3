"""The application form in Debian's Chromium: focus on the error summary, Enter sends the
form, and a CV chosen once is sent after an error without choosing it again."""

from __future__ import annotations

from sqlalchemy import select

from tests import files
from tests.journey import MARK_CV, make_vacancy
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import Candidate, HeldUpload
from vault.services.candidates import open_candidate, open_document


def test_chromium_focuses_the_summary_and_sends_the_held_cv(app, page, served, tmp_path):
    base = served
    slug = make_vacancy(app)
    cv = tmp_path / "Qchromium-cv.pdf"
    cv.write_bytes(files.pdf_with_text(f"{MARK_CV} Python"))
    page.goto(f"{base}/apply/{slug}")
    page.fill("#email", "ilse@example.org")
    page.fill("#education-0-degree", "Master of Science")
    page.fill("#education-0-field", "Computer Science")
    page.fill("#education-0-institution", "Ghent University")
    page.check("#consent_application")
    page.set_input_files("#cv", str(cv))
    with page.expect_navigation():
        page.click(".actions button[type=submit]")
    # The name was left empty: the summary has the focus and links to the field.
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "CV attached: Qchromium-cv.pdf" in page.inner_text("#cv-section")
    page.click("#error-summary a[href='#full_name']")
    assert page.evaluate("document.activeElement.id") == "full_name"
    page.fill("#full_name", "Ilse Vrolijkheid")
    # Enter in a text field sends the form (not "Remove education 1").
    with page.expect_navigation():
        page.press("#full_name", "Enter")
    assert page.url.endswith("/applied")
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        assert open_candidate(vault_keys(), candidate).full_name == "Ilse Vrolijkheid"
        assert [e.degree for e in open_candidate(vault_keys(), candidate).education] == [
            "Master of Science"]
        assert open_document(vault_keys(), candidate, candidate.documents[0])[2] == \
            cv.read_bytes()
        assert db.session.scalar(select(HeldUpload)) is None
