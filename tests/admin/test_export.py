from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from tests.browser import BROWSER_CONFIG, apply_as_browser, staff_browser
from tests.csv_tables import read_tables
from tests.journey import MARK_EMAIL, make_vacancy
from vault.extensions import db
from vault.models import AuditEvent, Candidate, DataRequest
from vault.services import audit


def _exported(app):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == audit.CANDIDATE_EXPORTED).order_by(AuditEvent.id)).all()


def test_export_returns_every_record_of_the_person_and_is_audited(
        app, client, person, other_record, admin):
    response = client.get(f"/admin/candidates/{person[0]}/export.json?to=organisation")
    assert response.status_code == 200 and response.mimetype == "application/json"
    # Both records are the person's applications to Ingenium: the file is named for it.
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="ingenium-my-data-2026-03-02.json"'
    assert response.headers["Cache-Control"] == "no-store"
    document = json.loads(response.data)
    assert [r["public_id"] for r in document["records"]] == person
    assert document["records"][0]["contact"]["email"] == MARK_EMAIL
    assert other_record.encode() not in response.data
    events = _exported(app)
    assert [e.subject_public_id for e in events] == person
    assert all(e.actor_role == "admin" and "to=organisation" in e.detail and
               e.detail.startswith("json") for e in events)
    assert MARK_EMAIL not in " ".join(e.detail for e in events)
    with app.app_context():
        request = db.session.scalar(select(DataRequest))
        assert (request.kind, request.channel, request.status, request.subject_public_id) == (
            "export", "admin", "fulfilled", person[0])


def test_csv_and_zip_exports_hold_the_files(client, person, admin):
    as_csv = client.get(f"/admin/candidates/{person[0]}/export.csv")
    assert as_csv.status_code == 200
    assert as_csv.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    tables = read_tables(as_csv.data)
    assert [row["public_id"] for row in tables["Your details"].rows] == person
    assert {row["public_id"] for table in tables.values() for row in table.rows} == set(person)
    as_zip = client.get(f"/admin/candidates/{person[0]}/export.zip?to=person")
    assert as_zip.status_code == 200 and as_zip.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(as_zip.data)) as archive:
        names = archive.namelist()
        assert {"README.txt", "export.json", "export.csv"} <= set(names)
        cvs = [n for n in names if n.startswith("cv/")]
        assert len(cvs) == 2
        assert all(archive.read(name).startswith(b"%PDF-") for name in cvs)


def test_bad_export_requests_change_nothing(app, client, person, admin):
    assert client.get(f"/admin/candidates/{person[0]}/export.xml").status_code == 404
    assert client.get(f"/admin/candidates/{person[0]}/export.json?to=press").status_code == 400
    assert client.get("/admin/candidates/no-such-reference/export.json").status_code == 404
    assert _exported(app) == []
    with app.app_context():
        assert db.session.scalars(select(DataRequest)).all() == []


@pytest.mark.app_config(FRESH_LOGIN_MINUTES=15)
def test_export_needs_a_fresh_login(app, client, person, admin, login, clock):
    clock.advance(minutes=16)
    response = client.get(f"/admin/candidates/{person[0]}/export.zip")
    assert response.status_code == 302 and "reauth=1" in response.headers["Location"]
    assert _exported(app) == []
    login(client, admin)
    assert client.get(f"/admin/candidates/{person[0]}/export.zip").status_code == 200


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_officer_page_offers_json_resume_beside_the_other_exports_and_audits_it(
        app, make_user):
    from tests.services.test_json_resume import resume_errors

    apply_as_browser(app, make_vacancy(app))
    with app.app_context():
        person = [db.session.scalar(select(Candidate.public_id))]
    officer = staff_browser(app, make_user(role="admin"))
    page = officer.open(f"/admin/candidates/{person[0]}").get_data(as_text=True)
    links = re.findall(r'href="([^"]*/export\.resume\.json\?to=[a-z]+)"', page)
    # One per recipient, beside the JSON, CSV and ZIP buttons of the same row.
    assert len(links) == 2 and all("/export.json?to=" in page for _ in links)
    response = officer.open(links[0].replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="ingenium-my-data-2026-03-02.resume.json"'
    resume = json.loads(response.data)
    assert resume_errors(resume) == []
    assert resume["basics"]["email"] == MARK_EMAIL
    events = _exported(app)
    assert [e.subject_public_id for e in events] == person
    assert all(e.detail.startswith("resume.json to=") for e in events)
    with app.app_context():
        request = db.session.scalar(select(DataRequest))
        assert (request.kind, request.status) == ("export", "fulfilled")
