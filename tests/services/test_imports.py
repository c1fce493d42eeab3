from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import files
from tests.services.test_exports import CV_BYTES, make_person, person, person_input
from vault.appctx import secret_keys, vault_keys
from vault.extensions import db
from vault.models import AuditEvent, Candidate, CandidateCompany, Consent
from vault.privacy import NOTICE_VERSION
from vault.services import audit, consent, exports, identity
from vault.services.candidates import (
    MAX_EDUCATION,
    create_candidate,
    open_candidate,
    open_document,
)
from vault.services.imports import ImportReport, import_jsonl

POOL_MONTHS = 24


def good(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "public_id": "from-the-other-system",
        "contact": {"full_name": "Jan Peeters", "email": "jan.peeters@example.org",
                    "phone": "+32 9 123 45 67"},
        "position": "Backend developer",
        "personal": {"age": "41", "gender": "male"},
        "interests": "chess, Go",
        "education": [{"degree": "BSc", "field": "Informatics", "institution": "KU Leuven",
                       "year": "2006"}],
    }
    record.update(overrides)
    return record


def run(app, clock, lines: list[str | bytes], **kwargs: Any) -> ImportReport:
    with app.app_context():
        report = import_jsonl(db.session, vault_keys(), lines, now=clock(),
                              pool_months=POOL_MONTHS, notice_version=NOTICE_VERSION, **kwargs)
        if report.rejected:
            db.session.rollback()
        else:
            db.session.commit()
        return report


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Candidate))


def imported(app) -> list[Candidate]:
    return list(db.session.scalars(select(Candidate).order_by(Candidate.id)))


def with_cv(content: bytes = CV_BYTES, filename: str = "jan-cv.pdf") -> dict[str, Any]:
    return good(documents=[{"filename": filename,
                            "content": base64.b64encode(content).decode()}])


def test_good_lines_are_imported_and_open_to_what_they_said(app, clock):
    lines = [json.dumps(with_cv()),
             json.dumps(good(contact={"full_name": "Sofie Maes",
                                      "email": "sofie@example.org"}, personal={"age": 29}))]
    report = run(app, clock, lines)
    assert (report.imported, report.rejected) == (2, [])
    with app.app_context():
        first, second = imported(app)
        opened = open_candidate(vault_keys(), first)
        assert (opened.full_name, opened.email, opened.phone) == (
            "Jan Peeters", "jan.peeters@example.org", "+32 9 123 45 67")
        assert (opened.position, opened.age, opened.gender, opened.interests) == (
            "Backend developer", "41", "male", "chess, Go")
        assert [(e.degree, e.field, e.institution, e.year) for e in opened.education] == [
            ("BSc", "Informatics", "KU Leuven", "2006")]
        assert first.source == "import" and first.status == "new"
        assert first.public_id != "from-the-other-system"
        name, media_type, content = open_document(vault_keys(), first, first.documents[0])
        assert (name, media_type, content) == ("jan-cv.pdf", "application/pdf", CV_BYTES)
        assert first.documents[0].has_text
        assert open_candidate(vault_keys(), second).age == "29"
        assert second.documents == []
        [event] = first.consents
        assert (event.purpose, event.event, event.source, event.notice_version) == (
            consent.APPLICATION, consent.GRANTED, "import", NOTICE_VERSION)
        assert first.pool_consent_until is None
        created = db.session.scalars(select(AuditEvent.subject_public_id).where(
            AuditEvent.action == audit.CANDIDATE_CREATED)).all()
        assert set(created) == {first.public_id, second.public_id}


def test_one_bad_line_in_many_imports_nothing_and_names_the_line(app, clock):
    lines = [json.dumps(good(contact={"full_name": f"Person {n}",
                                      "email": f"p{n}@example.org"})) for n in range(20)]
    lines[13] = json.dumps(good(contact={"full_name": "Bad Mail", "email": "bad@@example"}))
    report = run(app, clock, lines)
    assert report.imported == 0
    assert report.rejected == [(14, "contact.email is not a valid e-mail address")]
    assert count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Consent)) == 0


@pytest.mark.parametrize(("line", "reason"), [
    ("{not json", "not valid JSON"),
    (b'{"contact": "\xff"}', "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ('["a list"]', "a line must be one JSON object"),
    (json.dumps(good(contact={"full_name": "No Mail"})), "contact.email is required"),
    (json.dumps(good(contact={"email": "x@example.org"})), "contact.full_name is required"),
    (json.dumps(good(contact={"full_name": "A", "email": "secret-not-an-address"})),
     "contact.email is not a valid e-mail address"),
    (json.dumps(good(contact={"full_name": "A", "email": 42})), "contact.email must be a string"),
    (json.dumps(good(contact=["x"])), "contact must be an object"),
    (json.dumps(good(education=[{"degree": "d", "field": "f", "institution": "i"}] * 11)),
     f"more than {MAX_EDUCATION} education entries"),
    (json.dumps(good(education=[{"degree": "BSc"}])),
     "education[1] needs a degree, a field and an institution"),
    (json.dumps(good(education=[{"degree": "d", "field": "f", "institution": "i",
                                 "year": "1066"}])), "education[1].year must be a year"),
    (json.dumps(good(education="BSc")), "education must be a list of objects"),
    (json.dumps(good(interests="secret " * 1000)), "interests is longer than 2000 characters"),
    (json.dumps(good(contact={"full_name": "A" * 201, "email": "a@example.org"})),
     "contact.full_name is longer than 200 characters"),
    (json.dumps(good(contact={"full_name": "A", "email": "a@example.org",
                              "phone": "call 0470"})), "contact.phone may hold digits"),
    (json.dumps(good(personal={"age": "x1"})), "personal.age must be a whole number"),
    (json.dumps(good(personal={"age": 12})), "personal.age must be a whole number"),
    (json.dumps(good(personal={"gender": "secret"})), "personal.gender must be one of"),
    (json.dumps(good(talent_pool_until="next spring")), "talent_pool_until is not an ISO"),
    (json.dumps(good(companies=["Ingenium", "secret corp"])),
     "companies may name only Ingenium, Hoptimize"),
    (json.dumps(good(companies="Ingenium")), "companies must be a list of company names"),
    (json.dumps(good(companies=[{"name": "Ingenium"}])),
     "companies must be a list of company names"),
])
def test_bad_line_is_rejected_with_a_reason_that_does_not_echo_it(app, clock, line, reason):
    report = run(app, clock, [json.dumps(good()), line])
    assert report.imported == 0 and len(report.rejected) == 1
    number, text = report.rejected[0]
    assert number == 2 and text.startswith(reason)
    assert "secret" not in text and "Jan" not in text and "AAAA" not in text
    assert count(app) == 0


@pytest.mark.parametrize(("document", "reason"), [
    ({"filename": "cv.pdf", "content": base64.b64encode(files.pdf_with_javascript()).decode()},
     "documents.content refused"),
    ({"filename": "cv.docx", "content": base64.b64encode(files.docx_with_macros()).decode()},
     "documents.content refused"),
    ({"filename": "cv.pdf", "content": base64.b64encode(files.html_named_pdf()).decode()},
     "documents.content refused"),
    ({"filename": "../../etc/cv.pdf", "content": base64.b64encode(CV_BYTES).decode()},
     "documents.content refused: the file name contains a path"),
    ({"filename": "cv.pdf", "content": "%%% not base64"}, "documents.content is not valid"),
    ({"filename": "cv.pdf", "content": 17}, "documents.content must be a base64 string"),
    ({"content": base64.b64encode(CV_BYTES).decode()}, "documents.filename is required"),
])
def test_a_cv_that_fails_upload_inspection_rejects_the_line(app, clock, document, reason):
    report = run(app, clock, [json.dumps(good(documents=[document]))])
    assert report.imported == 0
    [(number, text)] = report.rejected
    assert number == 1 and text.startswith(reason)
    assert count(app) == 0


def test_a_cv_larger_than_allowed_rejects_the_line(app, clock):
    report = run(app, clock, [json.dumps(with_cv())], max_cv_bytes=len(CV_BYTES) - 1)
    assert report.rejected == [(1, f"documents.content is larger than {len(CV_BYTES) - 1} bytes")]


def test_two_documents_with_content_on_one_line_are_refused(app, clock):
    cv = with_cv()["documents"][0]
    report = run(app, clock, [json.dumps(good(documents=[cv, cv]))])
    assert report.rejected == [(1, "only one document per line may carry content")]


def test_documents_listed_without_content_are_read_over(app, clock):
    listed = {"kind": "cv", "filename": "old.pdf", "media_type": "application/pdf"}
    assert run(app, clock, [json.dumps(good(documents=[listed]))]).imported == 1
    with app.app_context():
        assert imported(app)[0].documents == []


def test_every_bad_line_is_reported_and_blank_lines_keep_the_numbering(app, clock):
    lines = [json.dumps(good()), "", "{", "   ", json.dumps(good(contact={})), json.dumps(good())]
    report = run(app, clock, lines)
    assert [number for number, _ in report.rejected] == [3, 5]
    assert count(app) == 0


def test_live_pool_consent_comes_along_with_its_own_end(app, clock):
    until = clock() + timedelta(days=200)
    report = run(app, clock, [json.dumps(good(talent_pool_until=until.isoformat()))])
    assert report.imported == 1
    with app.app_context():
        [record] = imported(app)
        assert record.pool_consent_until == until
        pool = consent.latest(record, consent.TALENT_POOL)
        assert (pool.event, pool.source, pool.expires_at) == ("granted", "import", until)


def test_pool_consent_is_never_longer_than_this_controllers_period(app, clock):
    far = datetime(2040, 1, 1, tzinfo=UTC)
    run(app, clock, [json.dumps(good(talent_pool_until=far.isoformat()))])
    with app.app_context():
        [record] = imported(app)
        assert record.pool_consent_until == consent.add_months(clock(), POOL_MONTHS)


def event(purpose: str, kind: str, expires_at: str | None, *,
          at: str = "2025-01-01T09:00:00+00:00", version: str = "2025-01") -> dict[str, Any]:
    return {"purpose": purpose, "event": kind, "at": at, "notice_version": version,
            "source": "apply", "expires_at": expires_at}


@pytest.mark.parametrize("events", [
    [],
    [event("talent_pool", "granted", "2020-01-01T00:00:00+00:00")],
    [event("talent_pool", "granted", "2027-06-01T00:00:00+00:00"),
     event("talent_pool", "withdrawn", None, at="2025-02-01T09:00:00+00:00")],
    [event("talent_pool", "granted", None)],
    [event("application", "granted", "2027-06-01T00:00:00+00:00")],
])
def test_no_live_pool_grant_means_no_pool_consent(app, clock, events):
    assert run(app, clock, [json.dumps(good(consents=events))]).imported == 1
    with app.app_context():
        [record] = imported(app)
        assert record.pool_consent_until is None
        # The ledger came along as it was; the import granted nothing of its own.
        pool = [(c.event, c.source) for c in record.consents
                if c.purpose == consent.TALENT_POOL]
        assert pool == [(e["event"], "apply") for e in events
                        if e["purpose"] == consent.TALENT_POOL]


def test_a_live_grant_in_the_consent_events_counts_without_talent_pool_until(app, clock):
    events = [event("talent_pool", "granted", "2026-01-01T00:00:00+00:00"),
              event("talent_pool", "renewed", "2027-06-01T00:00:00+00:00",
                    at="2025-12-01T09:00:00+00:00")]
    run(app, clock, [json.dumps(good(consents=events))])
    with app.app_context():
        [record] = imported(app)
        assert record.pool_consent_until == datetime(2027, 6, 1, tzinfo=UTC)
        # Nothing added to the pool's ledger: it already ends where it should.
        assert [c.source for c in record.consents] == ["apply", "apply", "import"]


def test_consent_events_keep_their_notice_version_date_and_source(app, clock):
    events = [event("application", "granted", None, version="2024-06"),
              event("talent_pool", "granted", "2027-06-01T00:00:00+00:00",
                    at="2025-03-04T10:11:12+00:00", version="2025-02")]
    run(app, clock, [json.dumps(good(consents=events))])
    with app.app_context():
        [record] = imported(app)
        assert [(c.purpose, c.event, c.created_at, c.notice_version, c.source, c.expires_at)
                for c in record.consents] == [
            ("application", "granted", datetime(2025, 1, 1, 9, tzinfo=UTC), "2024-06",
             "apply", None),
            ("talent_pool", "granted", datetime(2025, 3, 4, 10, 11, 12, tzinfo=UTC),
             "2025-02", "apply", datetime(2027, 6, 1, tzinfo=UTC))]


@pytest.mark.parametrize(("change", "reason"), [
    ({"purpose": "marketing"}, "consents[1].purpose must be one of"),
    ({"event": "forgotten"}, "consents[1].event must be one of"),
    ({"at": None}, "consents[1].at is not an ISO 8601 date-time"),
    ({"at": "2099-01-01T00:00:00+00:00"}, "consents[1].at is in the future"),
    ({"notice_version": ""}, "consents[1].notice_version is required"),
    ({"notice_version": "v" * 21}, "consents[1].notice_version is longer than 20"),
    ({"expires_at": "soon"}, "consents[1].expires_at is not an ISO 8601 date-time"),
])
def test_a_bad_consent_event_refuses_the_line(app, clock, change, reason):
    bad = {**event("talent_pool", "granted", None), **change}
    report = run(app, clock, [json.dumps(good(consents=[bad]))])
    assert report.imported == 0 and report.rejected[0][1].startswith(reason)
    assert count(app) == 0


def test_expired_talent_pool_until_is_not_imported(app, clock):
    past = (clock() - timedelta(seconds=1)).isoformat()
    run(app, clock, [json.dumps(good(talent_pool_until=past))])
    with app.app_context():
        assert imported(app)[0].pool_consent_until is None


def test_round_trip_export_then_import_gives_the_same_data(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        records = person(public_id)
        document = json.loads(exports.export_json(
            exports.build_export(db.session, vault_keys(), records, now=clock())))
        originals = [open_candidate(vault_keys(), r, with_notes=False) for r in records]
        cv = records[0].documents[0]
        _name, _type, cv_bytes = open_document(vault_keys(), records[0], cv)
    lines = []
    for record in document["records"]:
        for entry in record["documents"]:
            entry["content"] = base64.b64encode(cv_bytes).decode()
        lines.append(json.dumps(record, ensure_ascii=False).encode())
    report = run(app, clock, lines)
    assert (report.imported, report.rejected) == (1, [])
    with app.app_context():
        _original, copy = imported(app)
        assert copy.public_id != public_id and copy.source == "import"
        opened = open_candidate(vault_keys(), copy, with_notes=False)
        fields = ("full_name", "email", "phone", "position", "age", "gender", "interests")
        assert [getattr(opened, f) for f in fields] == [getattr(originals[0], f) for f in fields]
        assert [(e.degree, e.field, e.institution, e.year) for e in opened.education] == [
            (e.degree, e.field, e.institution, e.year) for e in originals[0].education]
        name, media_type, content = open_document(vault_keys(), copy, copy.documents[0])
        assert (name, media_type, content) == ("Els CV (2026).pdf", "application/pdf", CV_BYTES)
        # The live pool consent came along with its end date.
        assert copy.pool_consent_until == records[0].pool_consent_until
        # The copy joins the original's person only once its address confirms by link.
        assert [r.public_id for r in person(copy.public_id)] == [copy.public_id]
        assert [r.public_id for r in person(public_id)] == [public_id]
        ((_record, ticket),) = identity.ask_to_confirm(
            db.session, vault_keys(), [copy], now=clock(), lifetime_hours=24,
            secret_keys=secret_keys(), requested_by=identity.IMPORT, actor=audit.CLI)
        identity.confirm_email_change(db.session, vault_keys(), ticket.token,
                                      secret_keys=secret_keys(), now=clock(), max_age_hours=24)
        db.session.commit()
        again = exports.build_export(db.session, vault_keys(), person(copy.public_id),
                                     now=clock())
        assert [r["public_id"] for r in again["records"]] == [public_id, copy.public_id]
        assert again["records"][1]["contact"] == document["records"][0]["contact"]
        assert again["records"][1]["education"] == document["records"][0]["education"]


def test_the_companies_a_line_names_are_imported(app, clock):
    lines = [json.dumps(good(companies=["Ingenium", "Hoptimize"])),
             json.dumps(good(companies=[])), json.dumps(good())]
    assert run(app, clock, lines).imported == 3
    with app.app_context():
        assert [r.companies for r in imported(app)] == [("Hoptimize", "Ingenium"), (), ()]


def test_a_refused_company_imports_no_company_rows(app, clock):
    report = run(app, clock, [json.dumps(good(companies=["Hoptimize"])),
                              json.dumps(good(companies=["Acme"]))])
    assert report.imported == 0 and [n for n, _ in report.rejected] == [2]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CandidateCompany)) == 0


def test_round_trip_keeps_a_spontaneous_applications_companies(app, clock):
    with app.app_context():
        original = create_candidate(db.session, vault_keys(), person_input(), now=clock(),
                                    source="spontaneous", companies=("Hoptimize",))
        db.session.commit()
        document = exports.build_export(db.session, vault_keys(), [original], now=clock())
    [record] = document["records"]
    for entry in record["documents"]:
        entry.pop("zip_path")  # no content: read over
    assert run(app, clock, [json.dumps(record, ensure_ascii=False)]).imported == 1
    with app.app_context():
        _original, copy = imported(app)
        assert copy.source == "import" and copy.companies == ("Hoptimize",)
