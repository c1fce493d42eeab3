"""Staff sessions end: idle and absolute limits on the server, logout, log out everywhere,
disabling; the cookie names a session, whose token is stored only hashed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from vault.config import DEFAULTS
from vault.extensions import db
from vault.models import StaffSession, User
from vault.services import audit

# The defaults, which the test configuration relaxes for tests that move the clock by days.
LIMITS = pytest.mark.app_config(SESSION_IDLE_MINUTES=30, SESSION_ABSOLUTE_HOURS=12)


def test_the_defaults_are_thirty_minutes_idle_and_twelve_hours_in_all():
    assert (DEFAULTS["SESSION_IDLE_MINUTES"], DEFAULTS["SESSION_ABSOLUTE_HOURS"]) == (30, 12)


@LIMITS
def test_a_session_idle_for_thirty_minutes_ends(client, make_user, login, clock):
    login(client, make_user())
    clock.advance(minutes=29)
    assert client.get("/candidates").status_code == 200
    clock.advance(minutes=29)  # used a moment ago: still alive
    assert client.get("/candidates").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/candidates")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    clock.advance(minutes=-31)  # a clock set back does not revive it either
    assert client.get("/candidates").status_code == 302


@LIMITS
def test_a_session_ends_twelve_hours_after_login_however_busy(client, make_user, login,
                                                            clock):
    login(client, make_user())
    for _ in range(11 * 4):
        clock.advance(minutes=15)
        assert client.get("/candidates").status_code == 200
    clock.advance(hours=1, minutes=1)
    assert client.get("/candidates").status_code == 302


@pytest.mark.app_config(SESSION_IDLE_MINUTES=5, SESSION_ABSOLUTE_HOURS=1)
def test_the_limits_are_configuration(client, make_user, login, clock):
    login(client, make_user())
    clock.advance(minutes=6)
    assert client.get("/candidates").status_code == 302


def test_logout_ends_only_this_browser_s_session(app, make_user, login):
    uid = make_user()
    here, there = app.test_client(), app.test_client()
    login(here, uid)
    login(there, uid)
    here.post("/logout")
    assert here.get("/candidates").status_code == 302
    assert there.get("/candidates").status_code == 200


def test_the_account_page_lists_live_sessions_and_logs_out_everywhere_else(app, make_user,
                                                                        login):
    uid = make_user()
    here, there = app.test_client(), app.test_client()
    login(here, uid)
    there.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0")
    login(there, uid)
    page = here.get("/account").get_data(as_text=True)
    assert "Firefox / Windows" in page and "this browser" in page
    assert "Mozilla/5.0" not in page  # a summary, not the whole header
    assert here.post("/account/sessions/end-others").status_code == 302
    assert there.get("/candidates").status_code == 302
    assert here.get("/candidates").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffSession).where(
            StaffSession.user_id == uid, StaffSession.ended_at.is_(None))) == 1


def test_disabling_a_user_ends_every_session_at_once(app, client, make_user, login):
    uid = make_user()
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        login(browser, uid)
    login(client, make_user(role="admin"))
    assert client.post(f"/admin/users/{uid}", data={"role": "recruiter",
                                                    "active": "no"}).status_code == 302
    for browser in browsers:
        assert browser.get("/candidates").status_code == 302


def test_a_stolen_cookie_of_an_ended_session_stays_worthless(app, client, make_user, login):
    login(client, make_user())
    stolen = client.get_cookie("session").value
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/candidates").status_code == 302


def test_exports_still_need_a_fresh_login(app, client, make_user, login, clock):
    login(client, make_user(role="admin"))
    clock.advance(minutes=20)
    response = client.get("/admin/candidates/unknown-id/export.json")
    assert response.status_code == 302 and "reauth=1" in response.headers["Location"]


def test_successful_logins_are_audited_with_the_factor(app, client, make_user, login):
    uid = make_user()
    login(client, uid)
    with app.app_context():
        from vault.models import AuditEvent

        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == audit.LOGIN_SUCCEEDED))
        assert event.actor_id == uid and event.detail == "factor=totp"
        assert db.session.get(User, uid).last_login_at is not None


def test_logging_in_again_replaces_the_browser_s_session(app, client, make_user, login):
    uid = make_user()
    login(client, uid)
    login(client, uid)  # a re-authentication before an export
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffSession).where(
            StaffSession.user_id == uid, StaffSession.ended_at.is_(None))) == 1
    assert client.get("/candidates").status_code == 200
