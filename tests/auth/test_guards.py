from __future__ import annotations

import pytest

from vault.auth.guards import admin_required, fresh_login_required, staff_required


@pytest.fixture
def guarded(app):
    @app.get("/t/staff")
    @staff_required
    def staff_page():
        return "staff"

    @app.get("/t/admin")
    @admin_required
    def admin_page():
        return "admin"

    @app.get("/t/fresh")
    @fresh_login_required
    def fresh_page():
        return "fresh"

    return app


def test_anonymous_users_are_sent_to_login(guarded, client):
    for path in ("/t/staff", "/t/admin", "/t/fresh"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_recruiters_cannot_reach_admin_pages(guarded, client, make_user, login):
    login(client, make_user(role="recruiter"))
    assert client.get("/t/staff").data == b"staff"
    assert client.get("/t/admin").status_code == 403


def test_admins_reach_admin_pages(guarded, client, make_user, login):
    login(client, make_user(role="admin"))
    assert client.get("/t/admin").data == b"admin"


@pytest.mark.app_config(FRESH_LOGIN_MINUTES=15)
def test_stale_login_must_confirm_the_password(guarded, client, make_user, login, clock):
    uid = make_user()
    login(client, uid)
    assert client.get("/t/fresh").data == b"fresh"
    clock.advance(minutes=16)
    response = client.get("/t/fresh")
    assert response.status_code == 302 and "reauth=1" in response.headers["Location"]
    assert client.get("/t/staff").data == b"staff"  # still logged in, just not fresh
    login(client, uid)
    assert client.get("/t/fresh").data == b"fresh"
