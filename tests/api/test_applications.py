"""POST /api/v1/applications: the web form's pipeline, idempotency, nothing written on
error, no personal data in plaintext."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import files
from tests.api.conftest import bearer
from tests.forensics import find_markers
from tests.journey import MARK_CV, MARK_EMAIL, MARK_NAME, link_in, make_vacancy, outbox
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import (
    ApiIdempotency,
    AuditEvent,
    Candidate,
    Consent,
    Document,
    MailMessage,
)
from vault.privacy import NOTICE_VERSION
from vault.services.candidates import open_candidate, open_document
from vault.services.consent import add_months
from vault.services.indexing import word_tokens

URL = "/api/v1/applications"


def fields(clock, **overrides):
    given = (clock() - timedelta(minutes=3)).isoformat()
    data = {
        "full_name": f"Ilse {MARK_NAME}",
        "email": MARK_EMAIL,
        "phone": "+32 470 11 22 33",
        "education-0-degree": "Master of Science",
        "education-0-field": "Computer Science",
        "education-0-institution": "Ghent University",
        "education-0-year": "2019",
        "consent_application": "true",
        "consent_application_given_at": given,
        "consent_application_notice_version": NOTICE_VERSION,
        "language": "nl",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, token, data, key="key-1", cv=None, name="Qfilenamemarker-cv.pdf"):
    body = dict(data)
    content = cv if cv is not None else files.pdf_with_text(f"{MARK_CV} Python Kafka")
    if content is not False:
        body["cv"] = (io.BytesIO(content), name)
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(URL, data=body, headers=headers, content_type="multipart/form-data")


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Candidate, Consent, Document, MailMessage, ApiIdempotency)
        }


NOTHING = {"Candidate": 0, "Consent": 0, "Document": 0, "MailMessage": 0, "ApiIdempotency": 0}


@pytest.fixture
def board(make_client):
    return make_client(["applications:write", "vacancies:read"], name="Jobs board")


def test_an_application_goes_through_the_web_forms_pipeline(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    cv = files.pdf_with_text(f"{MARK_CV} Python Kafka")
    given = clock() - timedelta(minutes=3)
    pool_given = clock() - timedelta(minutes=2)
    response = post(
        client,
        token,
        fields(
            clock,
            vacancy=slug,
            consent_talent_pool="true",
            consent_talent_pool_given_at=pool_given.isoformat(),
            consent_talent_pool_notice_version=NOTICE_VERSION,
        ),
        cv=cv,
    )
    assert response.status_code == 201, response.get_json()
    receipt = response.get_json()
    assert receipt["vacancy"] == slug and receipt["companies"] == ["Ingenium"]
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        assert candidate.public_id == receipt["public_id"]
        assert (candidate.source, candidate.language) == ("apply", "nl")
        opened = open_candidate(vault_keys(), candidate)
        assert (opened.full_name, opened.email, opened.position) == (
            f"Ilse {MARK_NAME}",
            MARK_EMAIL,
            "Data engineer",
        )
        name, media_type, content = open_document(vault_keys(), candidate, candidate.documents[0])
        assert (name, media_type, content) == ("Qfilenamemarker-cv.pdf", "application/pdf", cv)
        # The consent ledger holds the moment and notice version the board sent.
        events = [
            (c.purpose, c.notice_version, c.source[:4], c.created_at)
            for c in db.session.scalars(select(Consent).order_by(Consent.id))
        ]
        assert events == [
            ("application", NOTICE_VERSION, "api:", given),
            ("talent_pool", NOTICE_VERSION, "api:", pool_given),
        ]
        # The pool period runs from when consent was given.
        assert candidate.pool_consent_until == add_months(pool_given, 24)
        tokens = set(candidate.index_row.tokens.split())
        assert word_tokens(vault_keys().blind_index, MARK_CV.lower()) & tokens
        created = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "candidate.created")
        )
        assert created.subject_public_id == candidate.public_id
    assert (
        find_markers(
            app,
            [
                MARK_NAME.encode(),
                MARK_EMAIL.encode(),
                MARK_CV.encode(),
                b"Qfilenamemarker",
                b"Ghent University",
                b"Computer Science",
            ],
        )
        == []
    )
    mails = outbox(app)
    assert len(mails) == 1 and mails[0]["To"] == MARK_EMAIL
    # The personal link opens the person's own page, in the language sent.
    page = client.get(link_in(mails[0]))
    assert page.status_code == 200 and MARK_NAME.encode() in page.data


def test_a_spontaneous_application_names_companies_and_position(app, client, clock, board):
    _, token = board
    response = post(
        client, token, fields(clock, companies="Hoptimize", position="Backend developer")
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["companies"] == ["Hoptimize"]
    assert response.get_json()["vacancy"] is None
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        assert candidate.source == "spontaneous"
        assert open_candidate(vault_keys(), candidate).position == "Backend developer"


def test_a_retry_with_the_same_key_and_body_returns_the_first_answer(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    data = fields(clock, vacancy=slug)
    first = post(client, token, data, key="retry-me")
    again = post(client, token, data, key="retry-me")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts(app) == {
        "Candidate": 1,
        "Consent": 1,
        "Document": 1,
        "MailMessage": 1,
        "ApiIdempotency": 1,
    }


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    assert post(client, token, fields(clock, vacancy=slug), key="k").status_code == 201
    before = counts(app)
    other = post(client, token, fields(clock, vacancy=slug, phone="+32 2 000 00 00"), key="k")
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert other.get_json()["type"].endswith("idempotency-key-reused")
    other_cv = post(
        client,
        token,
        fields(clock, vacancy=slug),
        key="k",
        cv=files.pdf_with_text("Someone else entirely"),
    )
    assert other_cv.status_code == 422
    assert counts(app) == before


def test_a_race_on_one_key_stores_one_application_and_tells_the_other_to_retry(
    app, client, clock, board, monkeypatch
):
    _, token = board
    slug = make_vacancy(app)
    data = fields(clock, vacancy=slug)
    assert post(client, token, data, key="race").status_code == 201
    # The second request looked before the first one committed: it saw no record.
    from vault.services import idempotency

    monkeypatch.setattr(idempotency, "earlier_outcome", lambda *a, **k: None)
    second = post(client, token, data, key="race")
    assert second.status_code == 409 and second.headers["Retry-After"] == "1"
    assert second.get_json()["type"].endswith("idempotency-key-in-use")
    assert counts(app) == {
        "Candidate": 1,
        "Consent": 1,
        "Document": 1,
        "MailMessage": 1,
        "ApiIdempotency": 1,
    }
    monkeypatch.undo()
    assert post(client, token, data, key="race").headers["Idempotent-Replayed"] == "true"


def test_the_same_key_from_another_client_is_another_application(
    app, client, clock, make_client, board
):
    _, token = board
    _, other = make_client(["applications:write"], name="Other board")
    slug = make_vacancy(app)
    assert post(client, token, fields(clock, vacancy=slug), key="k").status_code == 201
    assert post(client, other, fields(clock, vacancy=slug), key="k").status_code == 201
    assert counts(app)["Candidate"] == 2


def test_a_key_is_forgotten_after_a_day(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    assert post(client, token, fields(clock, vacancy=slug), key="k").status_code == 201
    clock.advance(hours=24, seconds=1)
    assert post(client, token, fields(clock, vacancy=slug), key="k").status_code == 201
    assert counts(app)["Candidate"] == 2
    assert counts(app)["ApiIdempotency"] == 1  # the expired record was dropped


def test_the_idempotency_record_holds_no_personal_data(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    key = "Qidemkeymarker-123"
    assert post(client, token, fields(clock, vacancy=slug), key=key).status_code == 201
    with app.app_context():
        record = db.session.scalar(select(ApiIdempotency))
        stored = " ".join((record.key_hash, record.request_hash, record.response_body))
    for marker in (MARK_NAME, MARK_EMAIL, MARK_CV, key, "Ghent"):
        assert marker not in stored
    assert find_markers(app, [key.encode(), MARK_EMAIL.encode()]) == []


@pytest.mark.parametrize("key", [None, "", "x" * 201, "caf\u00e9"])
def test_an_idempotency_key_is_required(app, client, clock, board, key):
    _, token = board
    slug = make_vacancy(app)
    headers = bearer(token)
    body = {**fields(clock, vacancy=slug), "cv": (io.BytesIO(files.pdf_with_text()), "cv.pdf")}
    if key is not None:
        headers["Idempotency-Key"] = key.encode().decode("latin-1")
    response = client.post(URL, data=body, headers=headers, content_type="multipart/form-data")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert counts(app) == NOTHING


BAD_BODIES = {
    "no name": {"full_name": None},
    "bad e-mail": {"email": "not-an-address"},
    "no application consent": {"consent_application": None},
    "consent time without offset": {"consent_application_given_at": "2026-11-27T10:00:00"},
    "consent time not a time": {"consent_application_given_at": "yesterday"},
    "unknown notice version": {"consent_application_notice_version": "1999-01-01"},
    "pool consent without its time": {"consent_talent_pool": "true"},
    "no education": {
        "education-0-degree": None,
        "education-0-field": None,
        "education-0-institution": None,
        "education-0-year": None,
    },
    "half an education entry": {"education-0-field": ""},
    "unknown vacancy": {"vacancy": "no-such-vacancy"},
    "slug with a NUL byte": {"vacancy": "a\x00b"},
    "spontaneous without company": {"vacancy": None, "position": "Anything"},
    "unknown company": {"vacancy": None, "companies": "Elsewhere", "position": "x"},
    "bad language": {"language": "de"},
    "bad age": {"age": "7"},
    "bad gender": {"gender": "robot"},
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_a_malformed_application_is_a_problem_and_writes_nothing(app, client, clock, board, case):
    _, token = board
    slug = make_vacancy(app)
    overrides = {"vacancy": slug, **BAD_BODIES[case]}
    response = post(client, token, fields(clock, **overrides))
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json(force=True)
    assert response.mimetype == "application/problem+json"
    assert body["errors"], body
    assert counts(app) == NOTHING
    # Read as an attacker with the disk would: nothing of the refused request anywhere.
    assert (
        find_markers(
            app, [MARK_NAME.encode(), MARK_EMAIL.encode(), MARK_CV.encode(), b"Qfilenamemarker"]
        )
        == []
    )


def test_a_consent_given_too_long_ago_or_in_the_future_is_refused(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    for moment in (clock() - timedelta(days=8), clock() + timedelta(hours=1)):
        response = post(
            client,
            token,
            fields(clock, vacancy=slug, consent_application_given_at=moment.isoformat()),
        )
        assert response.status_code == 422
        assert "consent_application_given_at" in response.get_json()["errors"]
    assert counts(app) == NOTHING


@pytest.mark.parametrize(
    "cv,name",
    [
        (False, None),
        (b"", "cv.pdf"),
        (b"MZ\x90\x00 not a cv", "cv.pdf"),
        (files.pdf_with_javascript(), "cv.pdf"),
        (files.pdf_with_text(), "cv.exe"),
    ],
)
def test_a_refused_cv_is_a_problem_and_writes_nothing(app, client, clock, board, cv, name):
    _, token = board
    slug = make_vacancy(app)
    response = post(client, token, fields(clock, vacancy=slug), cv=cv, name=name or "cv.pdf")
    assert response.status_code == 422 and "cv" in response.get_json()["errors"]
    assert counts(app) == NOTHING


def test_a_cv_without_text_needs_the_applicants_say_so(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    scan = files.pdf_scan()
    refused = post(client, token, fields(clock, vacancy=slug), cv=scan, key="a")
    assert refused.status_code == 422 and "cv" in refused.get_json()["errors"]
    assert counts(app) == NOTHING
    sent = post(
        client, token, fields(clock, vacancy=slug, cv_without_text="true"), cv=scan, key="a"
    )
    assert sent.status_code == 201


def test_a_closed_vacancy_takes_no_applications(app, client, clock, board):
    from vault.models import Vacancy
    from vault.services.vacancies import close_vacancy

    _, token = board
    slug = make_vacancy(app)
    with app.app_context():
        close_vacancy(db.session.scalar(select(Vacancy)), now=clock())
        db.session.commit()
    response = post(client, token, fields(clock, vacancy=slug))
    assert response.status_code == 422 and "vacancy" in response.get_json()["errors"]
    assert counts(app) == NOTHING


def test_applications_need_the_write_scope(app, client, clock, make_client):
    _, token = make_client(["vacancies:read", "candidates:read", "erasures:read"])
    slug = make_vacancy(app)
    response = post(client, token, fields(clock, vacancy=slug))
    assert response.status_code == 403
    assert counts(app) == NOTHING


def test_an_unauthenticated_post_reads_nothing_and_writes_nothing(app, client, clock):
    slug = make_vacancy(app)
    response = client.post(
        URL,
        data={**fields(clock, vacancy=slug), "cv": (io.BytesIO(files.pdf_with_text()), "cv.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 401
    assert counts(app) == NOTHING


@pytest.mark.app_config(MAX_CONTENT_LENGTH=20_000)
def test_a_body_over_the_size_limit_is_a_413_problem(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    response = post(client, token, fields(clock, vacancy=slug), cv=b"%PDF-1.4" + b"0" * 40_000)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert counts(app) == NOTHING


def test_no_personal_data_reaches_the_logs(app, client, clock, board, caplog):
    caplog.set_level(logging.DEBUG)
    _, token = board
    slug = make_vacancy(app)
    post(client, token, fields(clock, vacancy=slug), key="a")
    post(client, token, fields(clock, vacancy=slug, email="bad"), key="b")
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    for marker in (MARK_NAME, MARK_EMAIL, MARK_CV, "Qfilenamemarker", token):
        assert marker not in logged


@pytest.mark.parametrize(
    "value", ["false", "False", "0", "no", "NO", "off", "n", "f", "", "maybe", "2"]
)
def test_consent_false_is_refused(app, client, clock, board, value):
    _, token = board
    slug = make_vacancy(app)
    response = post(client, token, fields(clock, vacancy=slug, consent_application=value))
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith("#problem-invalid-application")
    assert any("consent" in m and "required" in m for m in body["errors"]["consent_application"])
    assert counts(app) == NOTHING


def test_consent_sent_twice_is_refused(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    body = fields(clock, vacancy=slug, consent_application=None)
    body["consent_application"] = ["false", "true"]
    response = post(client, token, body)
    assert response.status_code == 422
    assert "consent_application" in response.get_json()["errors"]
    assert counts(app) == NOTHING


@pytest.mark.parametrize("value", ["true", "1", "yes", "on", "Y"])
def test_consent_true_in_any_of_its_spellings_is_accepted(app, client, clock, board, value):
    _, token = board
    slug = make_vacancy(app)
    response = post(client, token, fields(clock, vacancy=slug, consent_application=value))
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("value", ["false", "0", "no", "off", ""])
def test_talent_pool_consent_false_is_not_granted(app, client, clock, board, value):
    _, token = board
    slug = make_vacancy(app)
    response = post(
        client,
        token,
        fields(
            clock,
            vacancy=slug,
            consent_talent_pool=value,
            consent_talent_pool_given_at=(clock() - timedelta(minutes=2)).isoformat(),
            consent_talent_pool_notice_version=NOTICE_VERSION,
        ),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["talent_pool_until"] is None
    with app.app_context():
        assert db.session.scalar(select(Candidate.pool_consent_until)) is None
        purposes = db.session.scalars(select(Consent.purpose)).all()
    assert purposes == ["application"]


def test_talent_pool_consent_that_is_not_a_yes_or_no_is_refused(app, client, clock, board):
    _, token = board
    slug = make_vacancy(app)
    response = post(client, token, fields(clock, vacancy=slug, consent_talent_pool="perhaps"))
    assert response.status_code == 422
    assert "consent_talent_pool" in response.get_json()["errors"]
    assert counts(app) == NOTHING


@pytest.mark.parametrize("value", ["0", "false", "no", "off"])
def test_cv_without_text_false_does_not_send_an_unsearchable_cv(app, client, clock, board, value):
    _, token = board
    slug = make_vacancy(app)
    response = post(
        client, token, fields(clock, vacancy=slug, cv_without_text=value), cv=files.pdf_scan()
    )
    assert response.status_code == 422 and "cv" in response.get_json()["errors"]
    assert counts(app) == NOTHING


def test_an_integrity_error_other_than_the_keys_is_not_called_key_in_use(
    app, client, clock, board, monkeypatch
):
    """Only a clash on the Idempotency-Key itself is "in use, retry": any other constraint
    that fails is a server error, and nothing is stored."""
    from sqlalchemy import insert

    from vault.models import CandidateCompany
    from vault.services import idempotency

    _, token = board
    slug = make_vacancy(app)
    remember = idempotency.remember

    def remember_then_clash(session, *args, **kwargs):
        remember(session, *args, **kwargs)
        newest = session.scalar(select(Candidate.id).order_by(Candidate.id.desc()))
        row = {"candidate_id": newest, "company": "Ingenium"}
        session.execute(insert(CandidateCompany), [row, row])  # the same primary key twice

    monkeypatch.setattr(idempotency, "remember", remember_then_clash)
    response = post(client, token, fields(clock, vacancy=slug), key="fresh")
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert "idempotency" not in response.get_json()["type"]
    assert counts(app) == NOTHING
