"""The form never loses a CV: after an error it is held, sealed, for this browser only."""

from __future__ import annotations

import io

import pytest
from lxml import html as lxml_html
from sqlalchemy import func, select

from tests import files
from tests.browser import BROWSER_CONFIG, BrowserLikeClient, Form, parse_page
from tests.forensics import find_markers
from tests.journey import MARK_CV, application, make_vacancy
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import Candidate, HeldUpload
from vault.services.candidates import open_candidate, open_document

pytestmark = pytest.mark.app_config(**BROWSER_CONFIG)

CV_NAME = "Qheldname-cv.pdf"


def _cv_bytes() -> bytes:
    return files.pdf_with_text(f"{MARK_CV} Python Kafka")


def _held_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(HeldUpload))


def _candidates(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Candidate))


def _fields(**overrides: object) -> dict[str, str | None]:
    data = application(**overrides)
    data.pop("cv", None)
    return {k: None if v is None else str(v) for k, v in data.items()}


def _page_form(browser: BrowserLikeClient, response) -> Form:
    """The form of the page a response shows (400 included, as a browser shows it)."""
    forms, _policy = parse_page(response.get_data(as_text=True), browser.page_url)
    [form] = [f for f in forms if f.method == "post"]
    return form


def _first_try(app, slug: str | None = None, content: bytes | None = None,
               **overrides: object) -> tuple[BrowserLikeClient, object]:
    """A browser sends the form with a CV and a mistake elsewhere (no name by default)."""
    browser = BrowserLikeClient(app.test_client())
    browser.open(f"/apply/{slug}" if slug else "/apply", typed=True)
    overrides = {"full_name": "", **overrides}
    response = browser.submit(fields=_fields(**overrides),
                              files={"cv": (io.BytesIO(content or _cv_bytes()), CV_NAME)})
    assert response.status_code == 400
    return browser, response


def test_cv_held_after_an_error_is_sent_again_without_choosing_it(app):
    slug = make_vacancy(app)
    browser, response = _first_try(app, slug)
    page = response.get_data(as_text=True)
    assert f"CV attached: <strong>{CV_NAME}</strong>" in page
    assert 'name="remove_cv"' in page
    form = _page_form(browser, response)
    assert form.value("held_cv")
    # Sent again with the name filled in and no file chosen (the browser sends an empty part).
    response = browser.submit(form=form, fields={"full_name": "Ilse Vrolijkheid"})
    assert response.status_code == 302, response.get_data(as_text=True)[-600:]
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        name, media_type, content = open_document(vault_keys(), candidate,
                                                  candidate.documents[0])
        assert (name, media_type, content) == (CV_NAME, "application/pdf", _cv_bytes())
        assert candidate.documents[0].has_text
    assert _held_count(app) == 0  # deleted with the application's transaction


def test_held_cv_is_sealed_neither_its_text_nor_its_name_readable_on_disk(app):
    _first_try(app)
    assert _held_count(app) == 1
    with app.app_context():
        row = db.session.scalar(select(HeldUpload))
        assert _cv_bytes() not in bytes(row.content) and b"Qheldname" not in bytes(row.filename)
    assert find_markers(app, [MARK_CV.encode(), b"Qheldname"]) == []


def test_another_session_cannot_use_a_held_cv_token(app):
    slug = make_vacancy(app)
    owner, response = _first_try(app, slug)
    form = _page_form(owner, response)
    token = form.value("held_cv")
    # Another browser (its own session cookie) sends the token it learnt, without a file.
    thief = BrowserLikeClient(app.test_client())
    thief.open(f"/apply/{slug}", typed=True)
    stolen = thief.submit(fields={**_fields(), "held_cv": token})
    assert stolen.status_code == 400
    page = stolen.get_data(as_text=True)
    assert "is no longer held" in page and CV_NAME not in page
    assert _candidates(app) == 0 and _held_count(app) == 1
    # The owner's session still opens it.
    assert owner.submit(form=form, fields={"full_name": "Ilse Vrolijkheid"}).status_code == 302
    assert _candidates(app) == 1 and _held_count(app) == 0


def test_held_cv_expires_and_the_retention_job_deletes_it(app, clock, runner):
    browser, response = _first_try(app)
    form = _page_form(browser, response)
    clock.advance(minutes=31)
    late = browser.submit(form=form, fields={"full_name": "Ilse Vrolijkheid"})
    assert late.status_code == 400
    assert "is no longer held (we keep it for 30 minutes)" in late.get_data(as_text=True)
    assert _candidates(app) == 0 and _held_count(app) == 1  # expired, not yet purged
    result = runner.invoke(args=["vault", "retention"])
    assert result.exit_code == 0 and "expired held CVs deleted: 1" in result.output
    assert _held_count(app) == 0


def test_dry_run_of_retention_counts_expired_held_cvs_and_keeps_them(app, clock, runner):
    _first_try(app)
    clock.advance(minutes=31)
    result = runner.invoke(args=["vault", "retention", "--dry-run"])
    assert "expired held CVs due for deletion: 1" in result.output
    assert _held_count(app) == 1


def test_removing_the_held_cv_deletes_it_and_asks_for_a_file_again(app):
    browser, response = _first_try(app)
    form = _page_form(browser, response)
    removed = browser.submit(form=form, fields={"remove_cv": "1"})
    assert removed.status_code == 200
    page = removed.get_data(as_text=True)
    assert "CV attached" not in page and _held_count(app) == 0
    cv_input = lxml_html.fromstring(page).get_element_by_id("cv")
    assert cv_input.get("aria-required") == "true" and cv_input.get("required") is not None
    again = browser.submit(form=browser.form(), fields={"full_name": "Ilse Vrolijkheid"})
    assert again.status_code == 400 and b"Attach your CV" in again.data
    assert _candidates(app) == 0


def test_a_new_file_replaces_the_held_cv(app):
    browser, response = _first_try(app)
    other = files.docx_with_text("Rust and Go")
    response = browser.submit(form=_page_form(browser, response), fields={"email": "bad"},
                              files={"cv": (io.BytesIO(other), "second.docx")})
    assert response.status_code == 400
    assert "CV attached: <strong>second.docx</strong>" in response.get_data(as_text=True)
    assert _held_count(app) == 1
    ok = browser.submit(form=_page_form(browser, response),
                        fields={"full_name": "Ilse Vrolijkheid", "email": "ilse@example.org"})
    assert ok.status_code == 302
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        assert open_document(vault_keys(), candidate, candidate.documents[0])[2] == other


def test_a_refused_file_is_named_and_never_held(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/apply", typed=True)
    response = browser.submit(fields=_fields(full_name=""),
                              files={"cv": (io.BytesIO(_cv_bytes()), "cv.exe")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ("cv.exe is not a PDF or Word file (.docx). Upload a PDF or Word file (.docx) of "
            "at most 10 MB.") in page
    assert _held_count(app) == 0


def test_held_file_name_is_shown_escaped(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/apply", typed=True)
    response = browser.submit(fields=_fields(full_name=""),
                              files={"cv": (io.BytesIO(_cv_bytes()), "<i>cv.pdf")})
    page = response.get_data(as_text=True)
    assert "CV attached: <strong>&lt;i&gt;cv.pdf</strong>" in page and "<i>cv" not in page


@pytest.mark.app_config(UPLOAD_OCR=False)
def test_cv_without_text_is_held_and_sent_once_the_box_is_ticked(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/apply", typed=True)
    response = browser.submit(fields=_fields(), files={"cv": (io.BytesIO(files.pdf_scan()),
                                                               "scan.pdf")})
    assert response.status_code == 400 and _candidates(app) == 0
    assert 'name="cv_without_text"' in response.get_data(as_text=True)
    ok = browser.submit(form=_page_form(browser, response), fields={"cv_without_text": "y"})
    assert ok.status_code == 302
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        assert candidate.documents[0].has_text is False
        assert open_document(vault_keys(), candidate, candidate.documents[0])[2] == \
            files.pdf_scan()


def test_education_entries_are_added_and_removed_without_javascript(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/apply", typed=True)
    page = browser.response.get_data(as_text=True)
    assert 'name="education-0-degree"' in page and 'name="education-1-degree"' not in page
    # "Add another education", with the CV chosen: nothing is lost, the CV is held.
    added = browser.submit(fields={**_fields(), "add_education": "1"},
                           files={"cv": (io.BytesIO(_cv_bytes()), CV_NAME)})
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    assert 'value="Ghent University"' in page and 'name="education-1-degree"' in page
    assert f"CV attached: <strong>{CV_NAME}</strong>" in page
    assert "error-summary" not in page  # the form is not checked yet
    tree = lxml_html.fromstring(page)
    assert tree.get_element_by_id("education-1-degree").get("autofocus") is not None
    legends = [legend.text_content() for legend in tree.xpath(
        "//fieldset[@class='education-row']/legend")]
    assert legends == ["Education 1", "Education 2"]
    second = {"education-1-degree": "Bachelor", "education-1-field": "Physics",
              "education-1-institution": "KU Leuven", "education-1-year": "2015"}
    added = browser.submit(fields={**second, "add_education": "1"})
    assert 'name="education-2-degree"' in added.get_data(as_text=True)
    third = {"education-2-degree": "Secondary", "education-2-field": "Sciences",
             "education-2-institution": "Sint-Barbara", "education-2-year": ""}
    # "Remove education 1": the others move up, keeping what they hold.
    removed = browser.submit(fields={**third, "remove_education": "0"})
    assert removed.status_code == 200
    page = removed.get_data(as_text=True)
    assert "Ghent University" not in page and 'name="education-2-degree"' not in page
    assert browser.form().value("education-0-institution") == "KU Leuven"
    assert browser.form().value("education-1-institution") == "Sint-Barbara"
    sent = browser.submit()
    assert sent.status_code == 302, sent.get_data(as_text=True)[-600:]
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        opened = open_candidate(vault_keys(), candidate)
        assert [(e.degree, e.institution) for e in opened.education] == [
            ("Bachelor", "KU Leuven"), ("Secondary", "Sint-Barbara")]
        assert open_document(vault_keys(), candidate, candidate.documents[0])[2] == _cv_bytes()
    assert _held_count(app) == 0


def test_removing_the_only_education_entry_leaves_an_empty_one(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/apply", typed=True)
    response = browser.submit(fields={**_fields(), "remove_education": "0"})
    assert response.status_code == 200
    assert browser.form().value("education-0-degree") == ""


def test_adding_stops_at_ten_education_entries(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/apply", typed=True)
    for _ in range(12):
        response = browser.submit(fields={"add_education": "1"})
    page = response.get_data(as_text=True)
    assert 'name="education-9-degree"' in page and 'name="education-10-degree"' not in page
    assert 'name="add_education"' not in page


def test_enter_in_a_field_sends_the_form_not_remove(app):
    """Implicit submission uses the form's first submit button: it must be the send one."""
    browser = BrowserLikeClient(app.test_client())
    page = browser.open("/apply", typed=True).get_data(as_text=True)
    first = lxml_html.fromstring(page).xpath(
        "//form[@method='post']//*[(self::button or self::input) and @type='submit']")[0]
    assert first.get("name") is None and "Send my application" in first.text_content()


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_APPLY="2 per hour")
def test_adding_entries_does_not_count_as_an_application(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/apply", typed=True)
    for _ in range(4):
        assert browser.submit(fields={"add_education": "1"}).status_code == 200
    assert browser.submit(fields=_fields(), files={"cv": (io.BytesIO(_cv_bytes()), CV_NAME)}
                          ).status_code == 302
