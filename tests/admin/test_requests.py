from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.forensics import find_markers
from vault.extensions import db
from vault.models import AuditEvent, DataRequest
from vault.services import audit


def _events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()


def _requests(app):
    with app.app_context():
        return db.session.scalars(select(DataRequest).order_by(DataRequest.id)).all()


def _row(body: str, uid: str) -> str:
    match = re.search(rf'<tr id="request-{uid}"[^>]*>.*?</tr>', body, re.S)
    assert match, "request not in the queue"
    return match.group(0)


def test_request_received_by_mail_is_queued_with_four_weeks_and_sealed_details(
        app, client, person, admin):
    response = client.post("/admin/requests/new", data={
        "public_id": person[0], "kind": "access",
        "details": "Letter from Mrs Quixotrelle asking for a copy"})
    assert response.status_code == 302
    [row] = _requests(app)
    assert (row.kind, row.channel, row.status) == ("access", "admin", "open")
    assert row.due_at - row.received_at == timedelta(days=28)
    assert row.details is not None
    assert find_markers(app, [b"Quixotrelle"]) == []
    [event] = _events(app, audit.REQUEST_LOGGED)
    assert event.subject_public_id == person[0] and "Quixotrelle" not in event.detail
    page = client.get("/admin/requests").data.decode()
    assert "28" in _row(page, row.uid)
    assert f'href="/admin/candidates/{person[0]}"' in _row(page, row.uid)


def test_queue_shows_days_left_and_marks_overdue_requests(app, client, person, admin, clock):
    client.post("/admin/requests/new", data={"public_id": person[0], "kind": "correct"})
    clock.advance(days=10)
    client.post("/admin/requests/new", data={"public_id": person[1], "kind": "object"})
    first, second = _requests(app)
    page = client.get("/admin/requests").data.decode()
    assert '<td class="days-left">18' in _row(page, first.uid)
    assert '<td class="days-left">28' in _row(page, second.uid)
    assert 'class="overdue"' not in page
    # The queue is sorted by due date: the older request comes first.
    assert page.index(f"request-{first.uid}") < page.index(f"request-{second.uid}")

    clock.advance(days=19)
    page = client.get("/admin/requests").data.decode()
    assert f'<tr id="request-{first.uid}" class="overdue">' in page
    assert '<td class="days-left">-1' in _row(page, first.uid)
    assert 'class="overdue"' not in _row(page, second.uid)
    dashboard = client.get("/admin/").data.decode()
    assert re.search(r'id="count-open">2<', dashboard)
    assert re.search(r'id="count-overdue">1<', dashboard)


def test_resolving_a_request_closes_it_and_is_audited(app, client, person, admin, clock):
    client.post("/admin/requests/new", data={"public_id": person[0], "kind": "access"})
    [row] = _requests(app)
    clock.advance(days=3)
    response = client.post(f"/admin/requests/{row.uid}/resolve", data={"status": "fulfilled"})
    assert response.status_code == 302
    [row] = _requests(app)
    assert row.status == "fulfilled" and row.fulfilled_at == clock()
    [event] = _events(app, audit.REQUEST_RESOLVED)
    assert (event.actor_id, event.actor_role, event.subject_public_id) == (
        admin, "admin", person[0])
    assert "status=fulfilled" in event.detail
    assert f"request-{row.uid}" not in client.get("/admin/requests").data.decode()
    assert f"request-{row.uid}" in client.get("/admin/requests?status=all").data.decode()
    # Resolving twice is refused and changes nothing.
    again = client.post(f"/admin/requests/{row.uid}/resolve", data={"status": "rejected"})
    assert again.status_code == 400 and b"already resolved" in again.data
    assert _requests(app)[0].status == "fulfilled"


def test_bad_request_input_changes_nothing(app, client, person, admin):
    cases = [
        {"public_id": person[0], "kind": "nonsense"},
        {"public_id": "", "kind": "access"},
        {"public_id": "unknown-reference-1234", "kind": "access"},
        {"public_id": person[0], "kind": "access", "details": "x" * 2001},
    ]
    for data in cases:
        response = client.post("/admin/requests/new", data=data)
        assert response.status_code == 400, data
    assert b"No record has that reference" in client.post(
        "/admin/requests/new", data=cases[2]).data
    assert _requests(app) == []
    assert _events(app, audit.REQUEST_LOGGED) == []
    client.post("/admin/requests/new", data={"public_id": person[0], "kind": "access"})
    [row] = _requests(app)
    assert client.post(f"/admin/requests/{row.uid}/resolve",
                       data={"status": "lost"}).status_code == 400
    assert client.post("/admin/requests/ffffffffffffffff/resolve",
                       data={"status": "fulfilled"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataRequest).where(
            DataRequest.status == "open")) == 1


def test_open_requests_of_an_erased_person_are_closed_by_the_erasure(
        app, client, person, admin, runner, clock):
    client.post("/admin/requests/new", data={"public_id": person[0], "kind": "object",
                                             "details": "Phoned in"})
    result = runner.invoke(args=["vault", "erase", person[0]])
    assert result.exit_code == 0, result.output
    [row] = _requests(app)
    assert row.details is None  # sealed with a shredded key: gone with it
    assert (row.status, row.fulfilled_at) == ("fulfilled", clock())
    assert f'id="request-{row.uid}"' not in client.get("/admin/requests").data.decode()
