"""Second factor: TOTP enrolment by QR code, codes used once, recovery codes, policy."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager

import pyotp
import pytest
from sqlalchemy import event, select, update

from tests.conftest import STAFF_PASSWORD, totp_code
from tests.journey import outbox
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import AuditEvent, RecoveryCode, User
from vault.services import audit, recovery_codes
from vault.services import totp as totp_service


def current_code(app, page) -> str:
    """The code an authenticator app shows now for the secret on the enrolment page."""
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', page.get_data(as_text=True))
    assert secret, "the enrolment page shows the key"
    return pyotp.TOTP(secret.group(1)).at(app.config["CLOCK"]())


def _email(app, uid) -> str:
    with app.app_context():
        return db.session.get(User, uid).email


def _password_step(app, client, uid):
    return client.post("/login", data={"email": _email(app, uid), "password": STAFF_PASSWORD})


def test_enrolment_shows_a_qr_code_drawn_here_as_svg(app, client, make_user, login):
    login(client, make_user(second_factor=False))
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    # Enrolment by app needs no script: the only one is the passkey offer's own file.
    qr = body[body.index('<figure class="totp-qr">'):body.index("</figure>")]
    assert "<svg" in qr and "<script" not in qr
    assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/passkeys.js">']
    # The QR code is drawn on the server: no image from any other site.
    assert not re.search(r'src="https?://', body)


def test_reloading_the_enrolment_page_keeps_the_scanned_secret(app, client, make_user,
                                                                login):
    uid = make_user(second_factor=False)
    login(client, uid)
    first = client.get("/account/two-factor")
    client.get("/account/two-factor?lang=nl")  # a reload, in another language
    response = client.post("/account/two-factor", data={"code": current_code(app, first)})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(User, uid).totp_enabled_at is not None


def test_enrolment_needs_a_first_code_from_the_app(app, client, make_user, login):
    uid = make_user(second_factor=False)
    login(client, uid)
    client.get("/account/two-factor")
    response = client.post("/account/two-factor", data={"code": "000000"})
    assert response.status_code == 400 and b"not correct" in response.data
    with app.app_context():
        assert db.session.get(User, uid).totp_enabled_at is None


def test_confirmed_enrolment_shows_ten_recovery_codes_stored_hashed(app, client, make_user,
                                                                     login):
    uid = make_user(second_factor=False)
    login(client, uid)
    page = client.get("/account/two-factor")
    response = client.post("/account/two-factor", data={"code": current_code(app, page)})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9\-]+)</code></li>", response.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        assert db.session.get(User, uid).totp_enabled_at is not None
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and not set(codes) & set(stored)
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == audit.SECOND_FACTOR_ENROLLED)) is not None
    # Only now: the page does not show them again.
    assert codes[0] not in client.get("/account").get_data(as_text=True)


def test_the_secret_is_sealed_at_rest(app, make_user):
    uid = make_user()
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.totp_secret and not re.fullmatch(rb"[A-Z2-7]+", user.totp_secret)


def test_a_password_alone_does_not_log_an_enrolled_user_in(app, client, make_user):
    uid = make_user()
    response = _password_step(app, client, uid)
    assert response.headers["Location"] == "/login/second-factor"
    assert client.get("/candidates").status_code == 302
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_the_right_code_completes_the_login(app, client, make_user):
    uid = make_user()
    _password_step(app, client, uid)
    response = client.post("/login/second-factor", data={"code": totp_code(app, uid)})
    assert response.status_code == 302
    assert client.get("/candidates").status_code == 200


def test_a_code_is_refused_the_second_time(app, make_user):
    uid = make_user()
    first, second = app.test_client(), app.test_client()
    _password_step(app, first, uid)
    _password_step(app, second, uid)
    code = totp_code(app, uid)
    assert first.post("/login/second-factor", data={"code": code}).status_code == 302
    replay = second.post("/login/second-factor", data={"code": code})
    assert replay.status_code == 401 and b"already used" in replay.data


def test_a_code_of_another_time_window_is_refused(app, client, make_user, clock):
    uid = make_user()
    old = totp_code(app, uid)
    clock.advance(minutes=2)
    _password_step(app, client, uid)
    assert client.post("/login/second-factor", data={"code": old}).status_code == 401


def test_a_recovery_code_logs_in_once(app, make_user, login):
    uid = make_user()
    client = app.test_client()
    login(client, uid)
    codes = re.findall(r"<li><code>([a-z0-9\-]+)</code></li>", client.post(
        "/account/recovery-codes").get_data(as_text=True))
    assert len(codes) == 10
    other = app.test_client()
    _password_step(app, other, uid)
    response = other.post("/login/second-factor", data={"code": codes[3].upper()},
                          follow_redirects=True)
    assert response.status_code == 200 and b"9 codes are left" in response.data
    again = app.test_client()
    _password_step(app, again, uid)
    assert again.post("/login/second-factor", data={"code": codes[3]}).status_code == 401


@pytest.mark.app_config(LOGIN_MAX_FAILURES=3)
def test_a_few_wrong_codes_send_the_browser_back_to_the_password(app, client, make_user):
    uid = make_user()
    _password_step(app, client, uid)
    for _ in range(2):
        assert client.post("/login/second-factor", data={"code": "123456"}).status_code == 401
    response = client.post("/login/second-factor", data={"code": "123456"})
    assert response.headers["Location"] == "/login"
    assert client.post("/login/second-factor",
                       data={"code": totp_code(app, uid)}).headers["Location"] == "/login"


def test_the_second_step_waits_only_a_few_minutes(app, client, make_user, clock):
    uid = make_user()
    _password_step(app, client, uid)
    clock.advance(minutes=6)
    response = client.post("/login/second-factor", data={"code": totp_code(app, uid)})
    assert response.headers["Location"] == "/login"


# Policy ----------------------------------------------------------------------------------

@pytest.mark.app_config(REQUIRE_2FA=False)
def test_the_officer_enrols_before_anything_else_even_with_2fa_off(app, client, make_user,
                                                                  login):
    login(client, make_user(role="admin", second_factor=False))
    for page in ("/admin/", "/candidates", "/admin/users", "/account"):
        response = client.get(page)
        assert response.headers["Location"] == "/account/two-factor", page
    assert client.get("/account/two-factor").status_code == 200


def test_recruiters_enrol_first_when_2fa_is_required(client, make_user, login):
    login(client, make_user(second_factor=False))
    assert client.get("/candidates").headers["Location"] == "/account/two-factor"


@pytest.mark.app_config(REQUIRE_2FA=False)
def test_recruiters_may_work_without_a_second_factor_when_2fa_is_off(client, make_user,
                                                                    login):
    login(client, make_user(second_factor=False))
    assert client.get("/candidates").status_code == 200


def test_the_officer_resets_a_second_factor_audited_and_mailed(app, client, make_user,
                                                               login):
    officer = make_user(role="admin")
    uid = make_user(email="lost.phone@group.example")
    victim_browser = app.test_client()
    login(victim_browser, uid)
    login(client, officer)
    response = client.post(f"/admin/users/{uid}/second-factor")
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, uid)
        assert user.totp_secret is None and user.totp_enabled_at is None
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == audit.SECOND_FACTOR_RESET))
        assert event.actor_id == officer and f"user={uid}" in event.detail
    assert victim_browser.get("/candidates").status_code == 302  # sessions ended
    [mail] = [m for m in outbox(app) if m["To"] == "lost.phone@group.example"]
    assert "second factor" in html.unescape(mail.get_payload(decode=True).decode())
    # The next login asks for a new enrolment.
    login(victim_browser, uid)
    assert victim_browser.get("/candidates").headers["Location"] == "/account/two-factor"


def test_a_recruiter_cannot_reset_second_factors(client, make_user, login):
    uid = make_user()
    login(client, make_user())
    assert client.post(f"/admin/users/{uid}/second-factor").status_code == 403


def test_totp_secrets_follow_a_kek_rotation_and_retirement(app, runner, client, make_user,
                                                           login):
    uid = make_user()
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code == 0, result.output
    assert login(client, uid).status_code == 302
    assert client.get("/candidates").status_code == 200


@pytest.mark.app_config(LOGIN_MAX_FAILURES=3)
def test_an_old_copy_of_the_pending_login_cookie_gets_no_fresh_tries(app, client, make_user):
    uid = make_user()
    _password_step(app, client, uid)
    saved = client.get_cookie("session")
    for _ in range(3):
        client.post("/login/second-factor", data={"code": "123456"})
    # The cookie from before the wrong codes still says "no tries yet"; the failures
    # counted on the server refuse it, even with the right code.
    client.set_cookie(saved.key, saved.value, domain=saved.domain, path=saved.path)
    response = client.post("/login/second-factor", data={"code": totp_code(app, uid)})
    assert response.status_code == 429
    assert client.get("/candidates").status_code != 200


@contextmanager
def _another_request_uses_it_first(table: str, use_up):
    """Just before this request's UPDATE of the table, another request (connection)
    uses the same code up: the race two simultaneous logins with one code run."""
    session = db.session()

    def race(state):
        if state.is_update and table in str(state.statement):
            with db.engine.begin() as other:
                use_up(other)

    event.listen(session, "do_orm_execute", race)
    try:
        yield
    finally:
        event.remove(session, "do_orm_execute", race)


def _racing_needs_postgresql(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite takes the write lock at BEGIN IMMEDIATE: two logins cannot "
                    "interleave there")


def test_a_recovery_code_raced_by_two_requests_logs_in_only_once(app, backend, make_user, login):
    _racing_needs_postgresql(backend)
    uid = make_user()
    client = app.test_client()
    login(client, uid)
    codes = re.findall(r"<li><code>([a-z0-9\-]+)</code></li>", client.post(
        "/account/recovery-codes").get_data(as_text=True))
    moment = app.config["CLOCK"]()
    with app.app_context():
        user = db.session.get(User, uid)
        with _another_request_uses_it_first("recovery_code", lambda other: other.execute(
                update(RecoveryCode).where(RecoveryCode.user_id == uid)
                .values(used_at=moment))):
            assert recovery_codes.use(db.session, user, codes[0], now=moment) is False


def test_a_totp_code_raced_by_two_requests_logs_in_only_once(app, backend, make_user):
    _racing_needs_postgresql(backend)
    uid = make_user()
    moment = app.config["CLOCK"]()
    code = totp_code(app, uid)
    with app.app_context():
        user = db.session.get(User, uid)
        # The other request accepted this very code a moment ago.
        step = int(moment.timestamp()) // 30
        with _another_request_uses_it_first("UPDATE \"user\"", lambda other: other.execute(
                update(User).where(User.id == uid).values(totp_last_step=step))):
            assert totp_service.verify(db.session, vault_keys(), user, code, now=moment) is False
        db.session.rollback()
        fresh = db.session.get(User, uid)
        assert totp_service.verify(db.session, vault_keys(), fresh, code, now=moment) is False
