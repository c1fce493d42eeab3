from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select, text

from tests.journey import MARK_EMAIL, MARK_NAME
from vault.extensions import db
from vault.models import AuditEvent
from vault.services import audit


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    # One charset, said once (a repeated parameter is a malformed header).
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit.csv"'
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _busy_desk(client, person):
    """A day at the desk that touches personal data in every way the trail records."""
    client.get(f"/candidates/{person[0]}")
    client.get(f"/candidates/{person[0]}/cv")
    client.post("/admin/requests/new", data={"public_id": person[0], "kind": "access",
                                             "details": f"Letter from {MARK_NAME}"})
    client.post(f"/admin/candidates/{person[1]}/hold",
                data={"action": "place", "reason": f"Case of {MARK_NAME}"})
    client.get(f"/admin/candidates/{person[0]}/export.json")
    client.post("/admin/users", data={"email": "fresh.recruiter@group.example",
                                      "password": "correct horse battery staple",
                                      "role": "recruiter", "company": "Ingenium"})


def test_audit_csv_has_a_header_and_no_personal_data(app, client, person, admin):
    _busy_desk(client, person)
    rows = _csv(client.get("/admin/audit.csv"))
    assert rows[0] == ["id", "created_at", "actor_type", "actor_id", "actor_role", "action",
                       "subject_public_id", "detail", "prev_hash", "hash"]
    actions = {r[5] for r in rows[1:]}
    assert {audit.CANDIDATE_VIEWED, audit.CV_DOWNLOADED, audit.REQUEST_LOGGED,
            audit.LEGAL_HOLD_SET, audit.CANDIDATE_EXPORTED, audit.USER_CREATED,
            audit.LOGIN_SUCCEEDED} <= actions
    flat = "\n".join(",".join(r) for r in rows)
    for marker in (MARK_NAME, MARK_EMAIL, "Ilse", "+32 470", "fresh.recruiter", "group.example"):
        assert marker.lower() not in flat.lower(), marker


def test_audit_filters_narrow_page_and_csv(app, client, person, admin, clock):
    client.get(f"/candidates/{person[0]}")
    clock.advance(days=2)
    client.get(f"/candidates/{person[1]}")
    client.get(f"/candidates/{person[0]}/cv")

    viewed = _csv(client.get(f"/admin/audit.csv?action={audit.CANDIDATE_VIEWED}"))[1:]
    assert [r[6] for r in viewed] == person
    by_subject = _csv(client.get(f"/admin/audit.csv?subject={person[0]}"
                                 f"&actor_type=user"))[1:]
    assert [r[5] for r in by_subject] == [audit.CANDIDATE_VIEWED, audit.CV_DOWNLOADED]
    later = _csv(client.get("/admin/audit.csv?actor_type=user&date_from=2026-03-04"))[1:]
    assert [r[5] for r in later] == [audit.CANDIDATE_VIEWED, audit.CV_DOWNLOADED]
    earlier = _csv(client.get("/admin/audit.csv?date_to=2026-03-02&actor_type=candidate"))[1:]
    assert earlier and all(r[1].startswith("2026-03-02") for r in earlier)

    page = client.get(f"/admin/audit?action={audit.CV_DOWNLOADED}").data.decode()
    assert "1 event ·" in page and audit.CV_DOWNLOADED in page
    assert f"<td>{audit.CANDIDATE_VIEWED}</td>" not in page

    for bad in ("action=drop.table", "actor_type=ghost", "date_from=yesterday",
                "date_from=2026-03-05&date_to=2026-03-01", "page=0"):
        assert client.get(f"/admin/audit?{bad}").status_code == 400, bad
        assert client.get(f"/admin/audit.csv?{bad}").status_code == 400, bad


def test_audit_page_is_paginated(app, client, admin):
    with app.app_context():
        for _ in range(60):
            audit.record(db.session, audit.SYSTEM, audit.RETENTION_RUN, now=app.config["CLOCK"]())
        db.session.commit()
    first = client.get("/admin/audit").data.decode()
    assert "page 1 of 2" in first and "page=2" in first
    second = client.get("/admin/audit?page=2").data.decode()
    assert "page 2 of 2" in second
    assert client.get("/admin/audit?page=99").status_code == 200  # clamped to the last page


def test_formula_cells_are_neutralised_in_the_csv(app, client, admin):
    with app.app_context():
        for detail in ("=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "plain"):
            audit.record(db.session, audit.SYSTEM, audit.RETENTION_RUN,
                         now=app.config["CLOCK"](), detail=detail)
        db.session.commit()
    rows = _csv(client.get(f"/admin/audit.csv?action={audit.RETENTION_RUN}"))
    details = [r[7] for r in rows[1:]]
    assert details == ["'=HYPERLINK(\"http://evil\")", "'+1+1", "'-2", "'@SUM(A1)", "plain"]


def test_a_tampered_row_breaks_the_chain_and_the_page_says_where(app, client, person, admin):
    page = client.get("/admin/audit").data.decode()
    assert "Hash chain verified" in page
    with app.app_context():
        target = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]
        db.session.execute(text("UPDATE audit_event SET detail = 'rewritten' WHERE id = :id"),
                           {"id": target})
        db.session.commit()
    page = client.get("/admin/audit").data.decode()
    assert re.search(rf"Hash chain broken at event {target}\b", page)
    assert "Hash chain verified" not in page
    csv_page = client.get("/admin/audit.csv")
    assert csv_page.status_code == 200  # the trail can still be taken out for inspection


def test_events_cut_from_the_end_after_an_anchor_show_on_the_page(app, client, person, admin,
                                                                  runner):
    assert runner.invoke(args=["vault", "anchor-audit"]).exit_code == 0
    with app.app_context():
        head = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
        db.session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": head - 1})
        db.session.commit()
    page = client.get("/admin/audit").data.decode()
    assert "Hash chain verified" not in page
    assert f"Hash chain holds, but the audit trail ends at event {head - 2}" in page
