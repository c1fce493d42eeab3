"""Why a CV was refused, in the applicant's language: the sandboxed child answers with a
code, the web worker words it (vault/upload_reasons.py)."""

from __future__ import annotations

import html
import io

from sqlalchemy import func, select

from tests import files
from tests.journey import application, make_vacancy
from vault.extensions import db
from vault.models import Candidate


def _apply_with(app, client, build, name: str, language: str):
    slug = make_vacancy(app)
    return client.post(f"/apply/{slug}?lang={language}",
                       data=application(cv=lambda: (io.BytesIO(build()), name)),
                       content_type="multipart/form-data")


def test_refusal_reason_is_shown_in_french_for_a_french_request(app, client):
    response = _apply_with(app, client, files.pdf_with_javascript, "cv.pdf", "fr")
    page = html.unescape(response.data.decode())
    assert response.status_code == 400
    # The message names the refused file (what the applicant chose), then says why.
    assert ("cv.pdf n'a pas pu être accepté : les fichiers PDF contenant des scripts, "
            "des actions qui ouvrent d'autres fichiers ou programmes, ou des pièces jointes "
            "ne sont pas acceptés") in page
    assert "are not accepted" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 0


def test_refusal_reason_follows_accept_language_in_dutch(app, client):
    slug = make_vacancy(app)
    response = client.post(
        f"/apply/{slug}", data=application(cv=lambda: (io.BytesIO(files.docx_with_macros()),
                                                        "cv.docx")),
        content_type="multipart/form-data", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    page = html.unescape(response.data.decode())
    assert "cv.docx kon niet worden aanvaard:" in page and "macro's" in page


def test_a_refused_name_is_worded_in_french_too(app, client):
    response = _apply_with(app, client, files.pdf_with_text, "cv.pdf.exe", "fr")
    # A wrong type gets the message that says what to do, in French (it fell back to the
    # bare reason while the reason was compared in English).
    assert "cv.pdf.exe n'est pas un fichier PDF ou Word (.docx). Envoyez un fichier PDF" \
        in html.unescape(response.data.decode())


def test_a_wrong_type_says_what_to_do_in_dutch_too(app, client):
    response = _apply_with(app, client, files.pdf_with_text, "cv.exe", "nl")
    page = html.unescape(response.data.decode())
    assert response.status_code == 400
    assert "cv.exe is geen pdf- of Word-bestand (.docx). Laad een pdf- of Word-" in page
