from __future__ import annotations

import pytest

ROUTES = ["/candidates/{id}", "/candidates/{id}/cv", "/candidates/{id}/export.json"]
RECORDS = ["own", "other", "pool", "spontaneous", "spontaneous_own", "spontaneous_pool"]
# The recruiter is Ingenium's: a spontaneous application naming Ingenium is seen like an
# application to its vacancy, one naming only Hoptimize only through the live pool.
RECRUITER_SEES = {"own", "pool", "spontaneous_own", "spontaneous_pool"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("record", RECORDS)
def test_recruiter_sees_own_applicants_and_the_live_pool_only(app, records, make_user, login,
                                                              route, record):
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Ingenium"))
    response = client.get(route.format(id=records[record]))
    assert response.status_code == (200 if record in RECRUITER_SEES else 404)


@pytest.mark.parametrize("record", RECORDS)
def test_recruiter_cannot_change_what_they_cannot_see(app, records, make_user, login, record):
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Ingenium"))
    status = client.post(f"/candidates/{records[record]}/status", data={"status": "rejected"})
    note = client.post(f"/candidates/{records[record]}/notes", data={"body": "x"})
    # Seeing the pool record gives a note of one's own, never its application's status.
    assert status.status_code == {"own": 302, "spontaneous_own": 302, "pool": 403,
                                  "spontaneous_pool": 403}.get(record, 404)
    assert note.status_code == (302 if record in RECRUITER_SEES else 404)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("record", RECORDS)
def test_admin_sees_everyone(app, records, make_user, login, route, record):
    client = app.test_client()
    login(client, make_user(role="admin"))
    assert client.get(route.format(id=records[record])).status_code == 200


@pytest.mark.parametrize("route", [*ROUTES, "/candidates", "/vacancies", "/vacancies/new"])
def test_anonymous_users_reach_nothing(app, records, route):
    response = app.test_client().get(route.format(id=records["own"]))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_unknown_public_id_is_404(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user(role="admin"))
    assert client.get("/candidates/does-not-exist").status_code == 404
