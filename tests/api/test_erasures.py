"""GET /api/v1/erasures?since=… (erasures:read): public ids and times from the erasure
ledger, paged by a cursor, for clients that poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import bearer
from tests.journey import MARK_EMAIL, apply, make_vacancy
from vault.appctx import erasure_ledger
from vault.extensions import db
from vault.models import Candidate
from vault.services import audit, erasure
from vault.services.erasure_ledger import LedgerEntry

ERASURES = "/api/v1/erasures"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _ledger(app, *entries: tuple[str, datetime]) -> None:
    with app.app_context():
        erasure_ledger().append([LedgerEntry(pid, at, "self-service") for pid, at in entries])


def test_lists_the_ids_erased_since_a_time_oldest_first_without_reasons(app, client, make_client):
    _ledger(
        app,
        ("old", T0 - timedelta(days=1)),
        ("b", T0 + timedelta(hours=1)),
        ("a", T0),
        ("c", T0 + timedelta(hours=1)),
    )
    _, token = make_client(["erasures:read"])
    response = client.get(f"{ERASURES}?since=2026-03-01T08:00:00Z", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body == {
        "erasures": [
            {"public_id": "a", "erased_at": "2026-03-01T08:00:00+00:00"},
            {"public_id": "b", "erased_at": "2026-03-01T09:00:00+00:00"},
            {"public_id": "c", "erased_at": "2026-03-01T09:00:00+00:00"},
        ],
        "next_after": None,
        "next": None,
    }
    assert "self-service" not in response.get_data(as_text=True)


def test_a_real_erasure_is_listed(app, client, clock, make_client):
    apply(client, make_vacancy(app))
    with app.app_context():
        record = db.session.scalar(db.select(Candidate))
        public_id = record.public_id
        erasure.erase_records(
            db.session,
            [record],
            reason=erasure.SELF_SERVICE,
            now=clock(),
            ledger=erasure_ledger(),
            actor=audit.CLI,
        )
    _, token = make_client(["erasures:read"])
    response = client.get(f"{ERASURES}?since=2026-03-02T00:00:00%2B01:00", headers=bearer(token))
    assert response.get_json()["erasures"] == [
        {"public_id": public_id, "erased_at": "2026-03-02T09:00:00+00:00"}
    ]
    assert MARK_EMAIL not in response.get_data(as_text=True)


def test_pages_follow_the_cursor_without_losing_ties(app, client, make_client):
    # Five erasures at one moment (a person with five records) and two later.
    _ledger(
        app,
        *((f"p{n}", T0) for n in range(5)),
        ("q1", T0 + timedelta(seconds=1)),
        ("q2", T0 + timedelta(seconds=2)),
    )
    _, token = make_client(["erasures:read"])
    seen, url = [], f"{ERASURES}?since=2026-03-01T08:00:00Z&limit=3"
    pages = 0
    while url:
        body = client.get(url, headers=bearer(token)).get_json()
        seen += [e["public_id"] for e in body["erasures"]]
        url, pages = body["next"], pages + 1
        # An erasure written while paging is listed once, at the end.
        if pages == 1:
            _ledger(app, ("late", T0 + timedelta(minutes=5)))
    assert seen == ["p0", "p1", "p2", "p3", "p4", "q1", "q2", "late"]
    assert pages == 3


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?since=yesterday",
        "?since=2026-03-01T08:00:00",
        "?since=2026-03-01T08:00:00Z&limit=0",
        "?since=2026-03-01T08:00:00Z&limit=1001",
        "?since=2026-03-01T08:00:00Z&after=nonsense",
        "?since=2026-03-01T08:00:00Z&after=2026-13-01~x",
        # Valid ISO times with no UTC equivalent (found by the OpenAPI fuzz test).
        "?since=0001-01-01T00%3A00%3A00.0%2B00%3A01",
        "?since=9999-12-31T23%3A59%3A59-00%3A01",
        "?since=2026-03-01T08:00:00Z&after=0001-01-01T00%3A00%3A00%2B00%3A01~x",
    ],
)
def test_bad_queries_get_a_problem_document_not_a_500(client, make_client, query):
    _, token = make_client(["erasures:read"])
    response = client.get(ERASURES + query, headers=bearer(token))
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


def test_the_scope_is_required(client, make_client):
    _, token = make_client(["vacancies:read", "candidates:read", "applications:write"])
    response = client.get(f"{ERASURES}?since=2026-03-01T08:00:00Z", headers=bearer(token))
    assert response.status_code == 403
    assert client.get(f"{ERASURES}?since=2026-03-01T08:00:00Z").status_code == 401


def test_revoked_and_expired_tokens_are_refused(app, client, clock, make_client):
    from vault.services import api_clients

    revoked_id, revoked = make_client(["erasures:read"])
    _, expiring = make_client(["erasures:read"], expires_at=clock() + timedelta(days=1))
    with app.app_context():
        api_clients.revoke_client(db.session, revoked_id, now=clock(), actor=audit.CLI)
        db.session.commit()
    query = f"{ERASURES}?since=2026-03-01T08:00:00Z"
    assert client.get(query, headers=bearer(revoked)).status_code == 401
    assert client.get(query, headers=bearer(expiring)).status_code == 200
    clock.advance(days=2)
    assert client.get(query, headers=bearer(expiring)).status_code == 401


def test_the_operation_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/erasures"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"since", "after", "limit"}
    assert operation["security"] == [{"bearerToken": ["erasures:read"]}]
