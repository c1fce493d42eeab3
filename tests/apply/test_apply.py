from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import func, select

from tests import files
from tests.conftest import TEST_REDIS
from tests.forensics import find_markers
from tests.journey import (
    MARK_CV,
    MARK_EMAIL,
    MARK_NAME,
    apply,
    link_in,
    make_vacancy,
    outbox,
    text_of,
)
from vault.appctx import vault_keys
from vault.extensions import db
from vault.messages import message
from vault.models import Candidate, CandidateCompany, Consent, Document
from vault.privacy import NOTICE_VERSION
from vault.services.candidates import open_candidate, open_document
from vault.services.indexing import word_tokens


def _count(app, model=Candidate) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_form_shows_the_contract_field_names(app, client):
    slug = make_vacancy(app)
    page = client.get(f"/apply/{slug}").data.decode()
    for name in ("full_name", "email", "phone", "cv", "education-0-degree",
                 "education-0-field", "education-0-institution", "education-0-year",
                 "consent_application", "consent_talent_pool", "csrf_token"):
        assert f'name="{name}"' in page
    assert 'name="consent_talent_pool" type="checkbox" value="y">' in page  # unticked
    # The position sought is the vacancy's; only a spontaneous application asks for it.
    assert 'name="position"' not in page
    assert 'name="position"' in client.get("/apply").data.decode()


def test_application_to_a_vacancy_seeks_the_vacancys_position(app, client):
    slug = make_vacancy(app, title="Data engineer")
    assert apply(client, slug, position="Something else").status_code == 302
    with app.app_context():
        opened = open_candidate(vault_keys(), db.session.scalar(select(Candidate)))
        assert opened.position == "Data engineer"


def test_spontaneous_form_asks_which_company_among_the_configured_ones(client):
    page = client.get("/apply").data.decode()
    assert page.count('name="companies" type="checkbox"') == 2
    assert 'value="Ingenium"' in page and 'value="Hoptimize"' in page


def test_form_of_a_vacancy_asks_for_no_company(app, client):
    slug = make_vacancy(app)
    assert 'name="companies"' not in client.get(f"/apply/{slug}").data.decode()


def test_spontaneous_application_is_stored_for_the_companies_it_names(app, client):
    response = apply(client, companies=["Ingenium", "Hoptimize", "Ingenium"])
    assert response.status_code == 302
    done = client.get("/applied").data.decode()
    assert "with the recruiters of <strong>Hoptimize and Ingenium</strong>" in done
    [mail] = outbox(app)
    body = text_of(mail)
    assert "spontaneous application to Hoptimize and Ingenium." in body
    assert "the recruiters of Hoptimize and Ingenium see it" in body
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        assert candidate.companies == ("Hoptimize", "Ingenium")
        assert candidate.vacancy_id is None and candidate.source == "spontaneous"


def test_spontaneous_application_for_one_company_names_only_that_one(app, client):
    apply(client, companies="Hoptimize")
    done = client.get("/applied").data.decode()
    assert "with the recruiters of <strong>Hoptimize</strong>" in done
    body = text_of(outbox(app)[0])
    assert "spontaneous application to Hoptimize." in body and "Ingenium and" not in body
    with app.app_context():
        assert db.session.scalar(select(Candidate)).companies == ("Hoptimize",)


def test_application_to_a_vacancy_is_for_the_vacancys_company_whatever_is_posted(app, client):
    slug = make_vacancy(app, company="Hoptimize")
    assert apply(client, slug, companies="Ingenium").status_code == 302
    assert "at Hoptimize is with our recruiters" in client.get("/applied").data.decode()
    with app.app_context():
        assert db.session.scalar(select(Candidate)).companies == ("Hoptimize",)
    assert _count(app, CandidateCompany) == 0


def test_application_is_stored_sealed_with_its_consents(app, client):
    slug = make_vacancy(app)
    cv = files.pdf_with_text(f"{MARK_CV} Python Kafka")
    response = apply(client, slug, consent_talent_pool="y",
                     cv=lambda: (io.BytesIO(cv), "Qfilenamemarker-cv.pdf"))
    assert response.status_code == 302 and response.headers["Location"] == "/applied"
    done = client.get("/applied")
    assert b"Data engineer" in done.data and b"talent pool until 02/03/2028" in done.data
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        opened = open_candidate(vault_keys(), candidate)
        assert (opened.full_name, opened.email, opened.age, opened.gender) == (
            f"Ilse {MARK_NAME}", MARK_EMAIL, "29", "female")
        assert [(e.degree, e.institution) for e in opened.education] == [
            ("Master of Science", "Ghent University")]
        name, media_type, content = open_document(vault_keys(), candidate,
                                                  candidate.documents[0])
        assert (name, media_type) == ("Qfilenamemarker-cv.pdf", "application/pdf")
        assert content == cv
        events = [(c.purpose, c.event, c.notice_version, c.source)
                  for c in db.session.scalars(select(Consent))]
        assert events == [("application", "granted", NOTICE_VERSION, "apply-form"),
                          ("talent_pool", "granted", NOTICE_VERSION, "apply-form")]
        tokens = candidate.index_row.tokens.split()
        keys = vault_keys()
        assert word_tokens(keys.blind_index, MARK_CV.lower()) & set(tokens)
        assert word_tokens(keys.blind_index, MARK_NAME.lower()) & set(tokens)
    assert find_markers(app, [MARK_NAME.encode(), MARK_EMAIL.encode(), MARK_CV.encode(),
                              b"Qfilenamemarker", b"Ghent University"]) == []


def test_pool_consent_is_optional_and_off_by_default(app, client):
    apply(client)
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        assert candidate.pool_consent_until is None and candidate.source == "spontaneous"
        assert [c.purpose for c in candidate.consents] == ["application"]


def test_confirmation_mail_carries_a_working_personal_link(app, client):
    slug = make_vacancy(app)
    apply(client, slug)
    [mail] = outbox(app)
    assert mail["To"] == MARK_EMAIL
    body = text_of(mail)
    assert "180 days" in body and "did not join the talent pool" in body
    page = client.get(link_in(mail))
    assert page.status_code == 200 and MARK_NAME.encode() in page.data


def test_mailed_links_ignore_a_forged_host_header(app, client):
    apply(client, headers=None)
    client.post("/my-data", data={"email": MARK_EMAIL},
                headers={"Host": "evil.example"})
    for mail in outbox(app):
        body = text_of(mail)
        assert "evil.example" not in body and "http://127.0.0.1:5000/my-data/" in body


def test_a_second_application_never_changes_the_first(app, client):
    apply(client)
    apply(client, full_name="Someone Else", position="Impostor")
    with app.app_context():
        first, second = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        assert open_candidate(vault_keys(), first).full_name == f"Ilse {MARK_NAME}"
        assert open_candidate(vault_keys(), second).full_name == "Someone Else"
        assert first.email_index == second.email_index
        assert first.public_id != second.public_id


@pytest.mark.parametrize("overrides, expected", [
    ({"consent_application": None}, b"We need your consent"),
    ({"email": "not-an-email"}, b"valid e-mail address"),
    ({"full_name": ""}, b"Enter your full name."),
    ({"cv": None}, b"Attach your CV: a PDF or Word file (.docx)."),
    ({"education-0-degree": "", "education-0-field": "", "education-0-institution": "",
      "education-0-year": ""}, b"Enter at least one education entry"),
    ({"education-0-institution": ""},
     b"Enter the institution, or leave this whole education entry empty."),
    ({"age": "7"}, b"Enter an age from 16 to 99, or leave it empty."),
    ({"gender": "robot"}, b"Not a valid choice"),
    ({"phone": "<script>"}, b"Digits, spaces"),
    ({**{f"education-{i}-degree": "BSc" for i in range(11)},
      **{f"education-{i}-field": "Maths" for i in range(11)},
      **{f"education-{i}-institution": "VUB" for i in range(11)}}, b"At most 10 education"),
    ({"cv": lambda: (io.BytesIO(files.pdf_with_javascript()), "cv.pdf")}, b"scripts"),
    ({"cv": lambda: (io.BytesIO(files.docx_zip_bomb()), "cv.docx")}, b"too much data"),
    ({"cv": lambda: (io.BytesIO(files.html_named_pdf()), "cv.pdf")},
     b"cv.pdf is not a PDF or Word file (.docx). Upload a PDF or Word file (.docx) of at "
     b"most 10 MB."),
    ({"cv": lambda: (io.BytesIO(files.pdf_with_text()), "cv.pdf.exe")},
     b"cv.pdf.exe is not a PDF or Word file (.docx)."),
    ({"companies": None}, b"Please choose the company (or companies) your application is for"),
    ({"companies": ""}, b"Please choose the company (or companies) your application is for"),
    ({"companies": "Acme"}, b"Please choose among the companies listed"),
    ({"companies": ["Ingenium", "Acme"]}, b"Please choose among the companies listed"),
])
def test_bad_input_is_a_clear_form_error_and_stores_nothing(app, client, overrides, expected):
    response = apply(client, **overrides)
    assert response.status_code == 400
    assert expected in response.data
    assert _count(app) == 0 and _count(app, Consent) == 0 and _count(app, Document) == 0
    assert _count(app, CandidateCompany) == 0
    assert outbox(app) == []


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_missing_or_invalid_csrf_token_stores_nothing(app, client):
    assert apply(client).status_code == 400
    assert apply(client, csrf_token="forged").status_code == 400
    assert _count(app) == 0


@pytest.mark.app_config(MAX_CONTENT_LENGTH=64 * 1024)
def test_oversized_upload_gets_413_and_stores_nothing(app, client):
    big = files.pdf_with_text("x" * 10) + b"%" + b"0" * (128 * 1024)
    response = apply(client, cv=(io.BytesIO(big), "cv.pdf"))
    assert response.status_code == 413
    assert b"too large" in response.data
    assert _count(app) == 0


@pytest.mark.app_config(UPLOAD_OCR=False)
def test_cv_without_text_comes_back_with_a_warning_and_stores_nothing(app, client):
    response = apply(client, cv=(io.BytesIO(files.pdf_scan()), "scan.pdf"))
    assert response.status_code == 400
    page = response.data.decode()
    assert message("cv_without_text") in page.replace("&#39;", "'")
    assert 'name="cv_without_text"' in page
    assert _count(app) == 0 and _count(app, Document) == 0 and outbox(app) == []


@pytest.mark.app_config(UPLOAD_OCR=False)
def test_cv_without_text_is_stored_and_marked_once_the_applicant_confirms(app, client):
    response = apply(client, cv=(io.BytesIO(files.pdf_scan()), "scan.pdf"),
                     cv_without_text="y")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Document)).has_text is False


@pytest.mark.app_config(UPLOAD_INSPECT_SECONDS=0.05)
def test_upload_past_the_inspection_limits_is_a_clear_form_error(app, client):
    response = apply(client, cv=(io.BytesIO(files.pdf_slow_to_read()), "cv.pdf"))
    assert response.status_code == 400
    assert message("upload_too_heavy") in response.data.decode().replace("&#39;", "'")
    assert _count(app) == 0 and _count(app, Document) == 0


def test_docx_cv_is_accepted(app, client):
    assert apply(client, cv=(io.BytesIO(files.docx_with_text("Go and Rust")), "cv.docx")
                 ).status_code == 302


def test_closed_or_unknown_vacancy_is_404(app, client, runner):
    slug = make_vacancy(app)
    assert runner.invoke(args=["vault", "close-vacancy", slug]).exit_code == 0
    assert client.get(f"/apply/{slug}").status_code == 404
    assert client.get("/apply/no-such-vacancy").status_code == 404
    assert apply(client, slug).status_code == 404
    assert _count(app) == 0


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_APPLY="2 per hour")
def test_applications_are_rate_limited_per_client(app, client):
    codes = [apply(client).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert _count(app) == 2


def test_done_page_without_an_application_goes_home(client):
    assert client.get("/applied").status_code == 302


def test_blank_education_rows_are_ignored(app, client):
    apply(client, **{"education-1-degree": "", "education-2-field": ""})
    with app.app_context():
        assert len(db.session.scalar(select(Candidate)).education) == 1


def test_application_form_carries_the_notice_version(client):
    assert NOTICE_VERSION.encode() in client.get("/apply").data


REDIS_PREFIX = f"vault-test-{os.getpid()}-{os.urandom(3).hex()}"


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_APPLY="1 per hour",
                        RATELIMIT_STORAGE_URI=TEST_REDIS, RATELIMIT_KEY_PREFIX=REDIS_PREFIX)
def test_rate_limits_can_live_in_redis(app, client, redis_url):
    import redis

    server = redis.Redis.from_url(redis_url)
    try:
        assert [apply(client).status_code for _ in range(2)] == [302, 429]
        assert list(server.scan_iter(f"*{REDIS_PREFIX}*"))
    finally:
        # Only this test's own keys, even on a server named by VAULT_TEST_REDIS_URL.
        for key in server.scan_iter(f"*{REDIS_PREFIX}*"):
            server.delete(key)
