from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.forensics import find_markers
from tests.journey import MARK_CV, MARK_EMAIL, MARK_NAME
from vault.extensions import db
from vault.models import AuditEvent, Candidate, CandidateKey, DataRequest, ErasureRecord
from vault.services import audit, erasure_ledger


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _hold(client, public_id, reason="Pending tribunal case Zyxwhold"):
    return client.post(f"/admin/candidates/{public_id}/hold",
                       data={"action": "place", "reason": reason})


def test_confirmation_page_counts_every_record_of_the_person(client, person, admin):
    page = client.get(f"/admin/candidates/{person[1]}/erase")
    assert page.status_code == 200
    assert b"<strong>2 records</strong>" in page.data
    assert all(pid.encode() in page.data for pid in person)


def test_erase_on_request_shreds_every_record_of_the_person(
        app, client, person, other_record, admin, runner):
    response = client.post(f"/admin/candidates/{person[0]}/erase",
                           data={"category": "subject-request"})
    assert response.status_code == 200 and b"Erasure receipt" in response.data
    assert all(pid.encode() in response.data for pid in person)
    assert _count(app, Candidate) == 1  # the other person is untouched
    assert _count(app, CandidateKey) == 1
    assert _count(app, Candidate, Candidate.public_id == other_record) == 1
    with app.app_context():
        records = db.session.scalars(select(ErasureRecord).order_by(ErasureRecord.id)).all()
        assert [(r.public_id, r.reason) for r in records] == [(p, "admin-request") for p in person]
        request = db.session.scalar(select(DataRequest))
        assert (request.kind, request.channel, request.status, request.details) == (
            "erase", "admin", "fulfilled", None)
        erased = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == audit.CANDIDATE_ERASED)).all()
        assert {e.subject_public_id for e in erased} == set(person)
        assert all((e.actor_id, e.actor_role) == (admin, "admin") for e in erased)
        logged = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == audit.REQUEST_LOGGED))
        assert "category=subject-request" in logged.detail and "records=2" in logged.detail
    ledger = erasure_ledger.read(Path(app.config["ERASURE_LEDGER"]))
    assert {e.public_id for e in ledger} == set(person)
    assert find_markers(app, [MARK_NAME.encode(), MARK_EMAIL.encode(), MARK_CV.encode()]) == []
    assert client.get(f"/admin/candidates/{person[0]}").status_code == 404
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 0, result.output


@pytest.mark.app_config(FRESH_LOGIN_MINUTES=15)
def test_erasure_needs_a_fresh_login(app, client, person, admin, login, clock):
    clock.advance(minutes=16)
    page = client.get(f"/admin/candidates/{person[0]}/erase")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"] and "reauth=1" in page.headers["Location"]
    posted = client.post(f"/admin/candidates/{person[0]}/erase",
                         data={"category": "subject-request"})
    assert posted.status_code == 302 and "reauth=1" in posted.headers["Location"]
    assert _count(app, Candidate) == 3
    assert client.get("/admin/").status_code == 200  # still logged in, just not fresh
    login(client, admin)
    assert client.get(f"/admin/candidates/{person[0]}/erase").status_code == 200


def test_erasure_needs_a_reason_category(app, client, person, admin):
    for data in ({}, {"category": ""}, {"category": "because I say so"}):
        response = client.post(f"/admin/candidates/{person[0]}/erase", data=data)
        assert response.status_code == 400
    assert _count(app, Candidate) == 3
    assert _count(app, DataRequest) == 0
    assert client.get("/admin/candidates/no-such-reference/erase").status_code == 404


def test_legal_hold_keeps_a_record_from_desk_erasure_and_leaves_it_queued(
        app, client, person, admin):
    assert _hold(client, person[1]).status_code == 302
    dashboard = client.get("/admin/").data.decode()
    assert re.search(r'id="count-holds">1<', dashboard)
    retention = client.get("/admin/retention").data.decode()
    assert person[1] in retention and "Zyxwhold" in retention
    assert find_markers(app, [b"Zyxwhold"]) == []  # the reason is sealed
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == audit.LEGAL_HOLD_SET))
        assert (event.subject_public_id, event.detail) == (person[1], "placed")

    confirm = client.get(f"/admin/candidates/{person[0]}/erase")
    assert b"legal hold" in confirm.data
    # One policy for every entry point: the free record goes, the held one stays with
    # an open erasure request that waits for the hold to be lifted.
    done = client.post(f"/admin/candidates/{person[0]}/erase",
                       data={"category": "subject-request"})
    assert done.status_code == 200
    assert b'id="held-back"' in done.data and person[1].encode() in done.data
    assert _count(app, Candidate) == 2 and _count(app, CandidateKey) == 2
    assert _count(app, Candidate, Candidate.public_id == person[1]) == 1
    assert _count(app, ErasureRecord) == 1
    assert _count(app, DataRequest, DataRequest.subject_public_id == person[1],
                  DataRequest.kind == "erase", DataRequest.status == "open") == 1
    assert _count(app, AuditEvent, AuditEvent.action == audit.ERASURE_HELD_BACK) == 1

    client.post(f"/admin/candidates/{person[1]}/hold", data={"action": "lift"})
    assert re.search(r'id="count-holds">0<', client.get("/admin/").data.decode())
    done = client.post(f"/admin/candidates/{person[1]}/erase",
                       data={"category": "legal-obligation"})
    assert done.status_code == 200
    assert _count(app, Candidate) == 1
    # The erasure answered the request the hold had kept open.
    assert _count(app, DataRequest, DataRequest.status == "open") == 0


def test_a_hold_needs_a_reason(app, client, person, admin):
    for reason in ("", "   ", "x" * 501):
        response = _hold(client, person[0], reason)
        assert response.status_code == 400
    assert b"needs a reason" in _hold(client, person[0], "").data
    with app.app_context():
        assert db.session.scalar(select(Candidate).where(
            Candidate.public_id == person[0])).legal_hold is False
    assert _count(app, AuditEvent, AuditEvent.action == audit.LEGAL_HOLD_SET) == 0
    assert client.post("/admin/candidates/no-such-reference/hold",
                       data={"action": "place", "reason": "x"}).status_code == 404
