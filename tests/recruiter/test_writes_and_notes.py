"""Writes and notes across companies: the pool record is a Hoptimize application that
an Ingenium recruiter can see through the talent pool (see conftest's records)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.journey import link_in, outbox
from vault.extensions import db
from vault.models import AuditEvent, Candidate, Note
from vault.services import audit

INGENIUM_NOTE = "Ingenium thinks: strong Kafka background"
HOPTIMIZE_NOTE = "Hoptimize thinks: second interview on Monday"


def _record(public_id: str) -> Candidate:
    return db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))


@pytest.fixture
def staff(app, make_user, login):
    """A logged-in client per staff member."""
    clients = {}
    for name, role, company in (("ingenium", "recruiter", "Ingenium"),
                                ("hoptimize", "recruiter", "Hoptimize"),
                                ("officer", "admin", "Ingenium")):
        client = app.test_client()
        login(client, make_user(role=role, company=company,
                                email=f"{name}@group.example"))
        clients[name] = client
    return clients


def test_other_companys_recruiter_cannot_set_the_status_of_a_pool_record(app, records, staff):
    pool = records["pool"]
    response = staff["ingenium"].post(f"/candidates/{pool}/status",
                                      data={"status": "rejected"})
    assert response.status_code == 403
    assert "Only recruiters of the company this application was made to" in (
        response.data.decode())
    with app.app_context():
        record = _record(pool)
        # Nothing changed: no status, no retention clock started.
        assert (record.status, record.status_changed_at, record.application_ended_at) == (
            "new", None, None)
        events = db.session.execute(select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.subject_public_id == pool,
            AuditEvent.action.in_([audit.STATUS_CHANGED, audit.WRITE_REFUSED]))).all()
        assert events == [(audit.WRITE_REFUSED, "status")]


def test_recruiter_of_the_vacancys_company_sets_its_status(app, records, staff, clock):
    pool = records["pool"]
    response = staff["hoptimize"].post(f"/candidates/{pool}/status",
                                       data={"status": "rejected"})
    assert response.status_code == 302
    with app.app_context():
        record = _record(pool)
        assert record.status == "rejected" and record.application_ended_at == clock()


def test_recruiter_of_the_named_company_sets_a_spontaneous_applications_status(
        app, records, staff, clock):
    spontaneous = records["spontaneous"]  # for Hoptimize, without pool consent
    page = staff["hoptimize"].get(f"/candidates/{spontaneous}").data.decode()
    assert "Spontaneous application for Hoptimize" in page and "Set status" in page
    response = staff["hoptimize"].post(f"/candidates/{spontaneous}/status",
                                       data={"status": "reviewing"})
    assert response.status_code == 302
    with app.app_context():
        assert _record(spontaneous).status == "reviewing"


def test_other_company_cannot_set_a_spontaneous_applications_status_seen_in_the_pool(
        app, records, staff):
    spontaneous = records["spontaneous_pool"]  # for Hoptimize, with pool consent
    page = staff["ingenium"].get(f"/candidates/{spontaneous}").data.decode()
    assert "Set status" not in page
    response = staff["ingenium"].post(f"/candidates/{spontaneous}/status",
                                      data={"status": "rejected"})
    assert response.status_code == 403
    with app.app_context():
        record = _record(spontaneous)
        assert (record.status, record.application_ended_at) == ("new", None)


@pytest.mark.parametrize("record", ["own", "pool", "spontaneous"])
def test_the_officer_does_not_decide_applications(app, records, staff, record):
    response = staff["officer"].post(f"/candidates/{records[record]}/status",
                                     data={"status": "hired"})
    assert response.status_code == 403
    with app.app_context():
        assert _record(records[record]).status == "new"


def test_status_form_is_shown_only_to_who_may_use_it(records, staff):
    pool = records["pool"]
    assert "Set status" in staff["hoptimize"].get(f"/candidates/{pool}").data.decode()
    page = staff["ingenium"].get(f"/candidates/{pool}").data.decode()
    assert "Set status" not in page and "set by the recruiters of the company" in page


@pytest.fixture
def noted(app, records, staff):
    """One note by each company on the pool record."""
    pool = records["pool"]
    for who, body in (("ingenium", INGENIUM_NOTE), ("hoptimize", HOPTIMIZE_NOTE)):
        assert staff[who].post(f"/candidates/{pool}/notes",
                               data={"body": body}).status_code == 302
    return pool


def test_notes_record_the_company_that_wrote_them(app, noted):
    with app.app_context():
        rows = db.session.execute(select(Note.company).join(Candidate)
                                  .where(Candidate.public_id == noted).order_by(Note.id)).all()
    assert [r.company for r in rows] == ["Ingenium", "Hoptimize"]


@pytest.mark.parametrize(("who", "sees", "hidden"), [
    ("ingenium", [INGENIUM_NOTE], [HOPTIMIZE_NOTE]),
    ("hoptimize", [HOPTIMIZE_NOTE], [INGENIUM_NOTE]),
    ("officer", [INGENIUM_NOTE, HOPTIMIZE_NOTE], []),
])
def test_staff_read_and_export_only_their_companys_notes(noted, staff, who, sees, hidden):
    page = staff[who].get(f"/candidates/{noted}").data.decode()
    exported = staff[who].get(f"/candidates/{noted}/export.json")
    assert exported.status_code == 200
    notes = [n["body"] for n in json.loads(exported.data)["records"][0]["notes"]]
    assert notes == sees
    csv = staff[who].get(f"/candidates/{noted}/export.csv").data.decode("utf-8-sig")
    for text in sees:
        assert text in page and text in csv
    for text in hidden:
        assert text not in page and text not in csv


def test_the_candidate_reads_every_note_on_their_page_and_export(app, noted):
    mail = next(m for m in outbox(app) if m["To"] == "pool@example.org")
    link = link_in(mail)
    client = app.test_client()
    page = client.get(link).data.decode()
    exported = json.loads(client.get(f"{link}/export.json").data)
    notes = [n["body"] for r in exported["records"] for n in r["notes"]]
    assert sorted(notes) == sorted([INGENIUM_NOTE, HOPTIMIZE_NOTE])
    assert INGENIUM_NOTE in page and HOPTIMIZE_NOTE in page
