from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import STAFF_PASSWORD, totp_code
from vault.auth.redirects import safe_next
from vault.extensions import db
from vault.models import AuditEvent, StaffSession, User
from vault.services import audit, staff_sessions


def _csrf_free(body: bytes) -> bytes:
    import re

    body = re.sub(rb'name="csrf_token"[^>]*>', b"", body)
    return re.sub(rb'data-csrf="[^"]*"', b"", body)  # the passkey button's copy


def test_login_with_the_right_password_starts_a_session(client, make_user, login):
    uid = make_user()
    response = login(client, uid)
    assert response.status_code == 302
    with client.session_transaction() as sess:
        token = sess["_user_id"]
    with client.application.app_context():
        record = db.session.scalar(select(StaffSession).where(
            StaffSession.token_hash == staff_sessions.token_hash(token)))
        # Only the token's hash is stored: a copy of the database logs nobody in.
        assert record.user_id == uid and record.ended_at is None and token not in str(
            record.token_hash)


def test_login_clears_what_was_in_the_session_before(client, make_user, login):
    uid = make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    login(client, uid)
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_wrong_email_and_wrong_password_get_the_same_answer(client, make_user):
    uid = make_user(email="real@group.example")
    wrong_password = client.post("/login", data={"email": "real@group.example",
                                                 "password": "not the password"})
    wrong_email = client.post("/login", data={"email": "nobody@group.example",
                                              "password": STAFF_PASSWORD})
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert _csrf_free(wrong_password.data) .replace(b"real@group.example", b"X") == \
        _csrf_free(wrong_email.data).replace(b"nobody@group.example", b"X")
    assert b"not correct" in wrong_email.data
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    assert uid


def test_disabled_user_cannot_log_in(client, make_user, login):
    uid = make_user(active=False)
    assert login(client, uid).status_code == 401


def test_disabling_a_user_ends_their_session(app, client, make_user, login):
    from vault.services.users import set_active

    uid = make_user()
    admin = make_user(role="admin")
    login(client, uid)
    with app.app_context():
        set_active(db.session, db.session.get(User, uid), False, now=app.config["CLOCK"](),
                   actor=audit.Actor("user", admin, "admin"))
        db.session.commit()
    response = client.post("/logout")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_makes_the_old_cookie_worthless(app, client, make_user, login):
    uid = make_user()
    login(client, uid)
    stolen = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.post("/logout")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_is_post_only(client, make_user, login):
    login(client, make_user())
    assert client.get("/logout").status_code == 405


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example",
    "http:/evil.example", "/\t/evil.example", "javascript:alert(1)", "evil.example", "",
])
def test_next_never_leads_off_the_site(client, make_user, login, target):
    uid = make_user()
    with client.application.app_context():
        email = db.session.get(User, uid).email
    response = client.post("/login", data={"email": email, "password": STAFF_PASSWORD,
                                           "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location


def test_next_leads_to_a_local_page_after_the_second_factor(app, client, make_user):
    uid = make_user()
    with client.application.app_context():
        email = db.session.get(User, uid).email
    response = client.post("/login", data={"email": email, "password": STAFF_PASSWORD,
                                           "next": "/candidates?q=python"})
    assert response.headers["Location"] == "/login/second-factor"
    response = client.post("/login/second-factor", data={"code": totp_code(app, uid)})
    assert response.headers["Location"] == "/candidates?q=python"


def test_safe_next_accepts_paths_only():
    assert safe_next("/admin/requests") == "/admin/requests"
    assert safe_next("//evil.example") is None
    assert safe_next("/\\evil.example") is None
    assert safe_next("https://evil.example/") is None
    assert safe_next(None) is None


@pytest.mark.app_config(LOGIN_MAX_FAILURES=3, LOGIN_LOCK_MINUTES=15)
def test_failed_logins_lock_the_account_for_a_while(client, make_user, login, clock):
    uid = make_user()
    for _ in range(3):
        assert login(client, uid, password="wrong wrong wrong").status_code == 401
    locked = login(client, uid)
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.data
    clock.advance(minutes=16)
    assert login(client, uid).status_code == 302


@pytest.mark.app_config(LOGIN_MAX_FAILURES=2)
def test_unknown_addresses_lock_out_like_known_ones(client):
    for _ in range(2):
        client.post("/login", data={"email": "ghost@group.example", "password": "x" * 12})
    response = client.post("/login", data={"email": "ghost@group.example", "password": "x" * 12})
    assert response.status_code == 429


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
def test_failed_logins_are_throttled_per_client(client):
    codes = [client.post("/login", data={"email": f"a{i}@group.example",
                                         "password": "y" * 12}).status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_logins_are_audited_without_the_typed_address(app, client, make_user, login):
    uid = make_user(email="audited@group.example")
    login(client, uid, password="a wrong password")
    client.post("/login", data={"email": "typo-person@group.example", "password": "z" * 12})
    login(client, uid)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_([audit.LOGIN_FAILED, audit.LOGIN_SUCCEEDED]))).all()
        assert [e.action for e in events] == [audit.LOGIN_FAILED, audit.LOGIN_FAILED,
                                              audit.LOGIN_SUCCEEDED]
        assert events[0].actor_id == uid and events[1].actor_id is None
        for event in events:
            assert "@" not in event.detail and "typo" not in event.detail


def test_missing_fields_are_a_clear_form_error(client):
    response = client.post("/login", data={"email": ""})
    assert response.status_code == 400
    assert b"This field is required" in response.data


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_login_without_csrf_token_is_refused(client, make_user):
    uid = make_user()
    with client.application.app_context():
        email = db.session.get(User, uid).email
    response = client.post("/login", data={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 400
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_unknown_address_costs_one_password_verification_too(client, make_user, monkeypatch):
    from vault.auth import passwords

    make_user(email="known@group.example")
    calls = []

    class CountingHasher:
        def verify(self, hash_, password):
            calls.append(hash_)
            return real.verify(hash_, password)

    real = passwords._hasher
    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    client.post("/login", data={"email": "known@group.example", "password": "w" * 12})
    client.post("/login", data={"email": "unknown@group.example", "password": "w" * 12})
    assert len(calls) == 2 and calls[1] == passwords._DUMMY_HASH
