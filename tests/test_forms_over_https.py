"""Every form of the application, submitted over HTTPS as Chromium submits it.

CSRF protection is on (the default test configuration turns it off), the app believes
it is served at https://vault.example, and each form is read from its rendered page
(token included) and posted with the headers the browser sends under the app's own
Referrer-Policy. The first release failed every one of these and no test noticed.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.browser import (
    BROWSER_CONFIG,
    BrowserLikeClient,
    apply_as_browser,
    personal_link,
    staff_browser,
)
from tests.conftest import STAFF_PASSWORD
from tests.journey import MARK_EMAIL, make_vacancy, outbox, text_of
from vault.extensions import db
from vault.models import (
    Candidate,
    DataRequest,
    ErasureRecord,
    User,
    Vacancy,
)

pytestmark = pytest.mark.app_config(**BROWSER_CONFIG)

# Every URL rule that accepts a POST (so every form), and the test below that submits it
# as a browser would: a new form fails the first test until it gets one here.
POSTED_BY = {
    "/apply": "test_spontaneous_application_is_accepted",
    "/apply/<slug>": "test_application_to_a_vacancy_is_accepted",
    "/my-data": "test_personal_link_request_is_accepted",
    "/my-data/<token>/correct": "test_self_service_correction_is_accepted",
    "/my-data/<token>/withdraw": "test_talent_pool_withdrawal_is_accepted",
    "/my-data/<token>/object": "test_objection_is_accepted",
    "/my-data/<token>/erase": "test_self_service_erasure_is_accepted",
    "/consent/renew/<token>": "test_consent_renewal_is_accepted",
    "/login": "test_login_and_logout_are_accepted",
    "/logout": "test_login_and_logout_are_accepted",
    "/candidates/<public_id>/status": "test_recruiter_status_and_note_forms_are_accepted",
    "/candidates/<public_id>/notes": "test_recruiter_status_and_note_forms_are_accepted",
    "/vacancies/new": "test_vacancy_create_edit_and_close_forms_are_accepted",
    "/vacancies/<slug>/edit": "test_vacancy_create_edit_and_close_forms_are_accepted",
    "/vacancies/<slug>/close": "test_vacancy_create_edit_and_close_forms_are_accepted",
    "/vacancies/<slug>/reopen": "test_vacancy_create_edit_and_close_forms_are_accepted",
    "/admin/requests/new": "test_request_log_and_resolve_forms_are_accepted",
    "/admin/requests/<uid>/resolve": "test_request_log_and_resolve_forms_are_accepted",
    "/admin/candidates/<public_id>/hold": "test_legal_hold_form_is_accepted",
    "/admin/users": "test_user_create_and_update_forms_are_accepted",
    "/admin/users/<int:user_id>": "test_user_create_and_update_forms_are_accepted",
    "/admin/candidates/<public_id>/erase": "test_officer_erasure_form_is_accepted",
    "/admin/candidates/<public_id>/email": "test_officer_email_change_form_is_accepted",
    "/my-data/confirm-email/<token>": "test_email_change_and_its_confirmation_are_accepted",
    "/login/second-factor": "test_login_and_logout_are_accepted",
    "/password/forgot": "test_password_reset_request_and_link_are_accepted",
    "/password/set/<token>": "test_password_reset_request_and_link_are_accepted",
    "/account/password": "test_password_change_and_ending_other_sessions_are_accepted",
    "/account/sessions/end-others": "test_password_change_and_ending_other_sessions_are_accepted",
    "/account/two-factor": "test_second_factor_enrolment_and_new_codes_are_accepted",
    "/account/recovery-codes": "test_second_factor_enrolment_and_new_codes_are_accepted",
    "/admin/users/<int:user_id>/second-factor": "test_officer_second_factor_reset_is_accepted",
    "/account/passkeys/options": "test_passkey_registration_and_login_are_accepted",
    "/account/passkeys": "test_passkey_registration_and_login_are_accepted",
    "/login/passkey/options": "test_passkey_registration_and_login_are_accepted",
    "/login/passkey": "test_passkey_registration_and_login_are_accepted",
    "/account/passwordless": "test_passkey_registration_and_login_are_accepted",
    "/account/passkeys/<int:passkey_id>/delete": "test_passkey_registration_and_login_are_accepted",
    "/admin/api-clients": "test_api_client_forms_are_accepted",
    "/admin/api-clients/<int:client_id>/webhook": "test_api_client_forms_are_accepted",
    "/admin/api-clients/<int:client_id>/webhook/secret": "test_api_client_forms_are_accepted",
    "/admin/api-clients/<int:client_id>/revoke": "test_api_client_forms_are_accepted",
    "/api/v1/applications": "test_api_application_is_accepted_on_its_bearer_token_alone",
}


def _redirected(response) -> None:
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_every_form_of_the_application_is_submitted_here(app):
    posting = {rule.rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    assert posting == set(POSTED_BY), (
        f"POST URLs without a browser test here: {sorted(posting - set(POSTED_BY))}; "
        f"listed but gone: {sorted(set(POSTED_BY) - posting)}")
    assert all(callable(globals().get(name)) for name in POSTED_BY.values())


def test_pages_ask_browsers_to_send_their_origin_on_form_posts(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/my-data", typed=True)
    # Under no-referrer, Chromium and Firefox send "Origin: null" and no Referer.
    assert browser.referrer_policy == "same-origin"


# Applicants ------------------------------------------------------------------------------

def test_api_application_is_accepted_on_its_bearer_token_alone(app, clock):
    """/api/v1 is exempt from the CSRF token and the origin check (vault.api): its calls
    come from servers with a bearer token, and carry no cookie for another site to use.
    Over HTTPS with CSRF on, a call with no cookie, token or Origin is accepted on its
    token; a browser's cross-site post without one is refused for the missing token (401),
    not let through."""
    import io

    from tests import files
    from tests.api.test_applications import fields
    from vault.services import api_clients, audit

    slug = make_vacancy(app)
    with app.app_context():
        from vault.appctx import vault_keys

        _client, token = api_clients.create_client(
            db.session, vault_keys().keyring, name="Board", company="Ingenium",
            scopes=["applications:write"], expires_at=None, created_by=None,
            companies=app.config["COMPANIES"], now=clock(), actor=audit.CLI)
        db.session.commit()
    server = app.test_client()

    def body():
        return {**fields(clock, vacancy=slug),
                "cv": (io.BytesIO(files.pdf_with_text()), "cv.pdf")}

    response = server.post("/api/v1/applications", data=body(),
                           content_type="multipart/form-data", base_url=BROWSER_CONFIG[
                               "PUBLIC_BASE_URL"],
                           headers={"Authorization": f"Bearer {token}",
                                    "Idempotency-Key": "k1"})
    assert response.status_code == 201, response.get_data(as_text=True)
    cross_site = server.post("/api/v1/applications", data=body(),
                             content_type="multipart/form-data",
                             base_url=BROWSER_CONFIG["PUBLIC_BASE_URL"],
                             headers={"Origin": "https://evil.example",
                                      "Sec-Fetch-Site": "cross-site", "Idempotency-Key": "k2"})
    assert cross_site.status_code == 401
    assert _count(app, Candidate) == 1
    # A web form posted the same way is still refused by the origin check.
    refused = server.post("/my-data", data={"email": MARK_EMAIL},
                          base_url=BROWSER_CONFIG["PUBLIC_BASE_URL"],
                          headers={"Origin": "https://evil.example",
                                   "Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403


def test_application_to_a_vacancy_is_accepted(app):
    slug = make_vacancy(app)
    apply_as_browser(app, slug)
    with app.app_context():
        assert db.session.scalar(select(Candidate.vacancy_id)) == db.session.scalar(
            select(Vacancy.id).where(Vacancy.slug == slug))


def test_spontaneous_application_is_accepted(app):
    apply_as_browser(app, consent_talent_pool="y")
    assert _count(app, Candidate, Candidate.vacancy_id.is_(None)) == 1


def test_personal_link_request_is_accepted(app):
    apply_as_browser(app)
    sent = len(outbox(app))
    browser = BrowserLikeClient(app.test_client())
    browser.open("/my-data", typed=True)
    response = browser.submit(fields={"email": MARK_EMAIL}, follow=True)
    assert response.status_code == 200 and b"we have sent a personal link" in response.data
    assert len(outbox(app)) == sent + 1


# Self-service through the personal link ----------------------------------------------------

def test_self_service_correction_is_accepted(app):
    browser, link = personal_link(app)
    page = browser.open(link, typed=True)
    correct = re.search(r'href="([^"]*/correct\?record=[^"]+)"', page.get_data(as_text=True))
    assert correct, "the data page links to the correction form"
    browser.open(correct.group(1).replace("&amp;", "&"))
    response = browser.submit(link + "/correct", {"phone": "+32 470 99 88 77"}, follow=True)
    assert b"Your data is corrected." in response.data
    assert b"+32 470 99 88 77" in response.data


def test_email_change_and_its_confirmation_are_accepted(app):
    from tests.candidate.test_email_change import _confirmation_link

    new_address = "ilse.moved4412@example.org"
    browser, link = personal_link(app)
    page = browser.open(link, typed=True)
    correct = re.search(r'href="([^"]*/correct\?record=[^"]+)"', page.get_data(as_text=True))
    browser.open(correct.group(1).replace("&amp;", "&"))
    response = browser.submit(link + "/correct", {"email": new_address}, follow=True)
    assert b"confirmation link" in response.data
    [mail] = [m for m in outbox(app) if m["To"] == new_address]
    confirm = _confirmation_link(mail)
    mailbox = BrowserLikeClient(app.test_client())  # opened from the new mailbox
    mailbox.open(confirm, typed=True)
    _redirected(mailbox.submit(confirm))
    assert _count(app, Candidate, Candidate.email_confirmed_at.is_not(None)) == 1


def test_talent_pool_withdrawal_is_accepted(app):
    browser, link = personal_link(app, consent_talent_pool="y")
    browser.open(link, typed=True)
    response = browser.submit(link + "/withdraw", follow=True)
    assert b"You have left the talent pool." in response.data
    assert _count(app, Candidate, Candidate.pool_consent_until.is_not(None)) == 0


def test_objection_is_accepted(app):
    browser, link = personal_link(app)
    browser.open(link, typed=True)
    response = browser.submit(link + "/object", {"reason": "No more\nmarketing calls"},
                              follow=True)
    assert b"Your objection is recorded." in response.data
    assert _count(app, DataRequest, DataRequest.kind == "object") == 1


def test_self_service_erasure_is_accepted(app):
    browser, link = personal_link(app)
    browser.open(link, typed=True)
    browser.open(link + "/erase")
    response = browser.submit()
    assert response.status_code == 200
    assert _count(app, Candidate) == 0 and _count(app, ErasureRecord) == 1


def test_consent_renewal_is_accepted(app, runner, clock):
    apply_as_browser(app, consent_talent_pool="y")
    with app.app_context():
        until = db.session.scalar(select(Candidate.pool_consent_until))
    clock.current = until - timedelta(days=30)
    assert runner.invoke(args=["vault", "retention"]).exit_code == 0
    body = text_of(outbox(app)[-1])
    link = re.search(r"https://vault\.example(/consent/renew/[A-Za-z0-9_.\-]+)", body).group(1)
    browser = BrowserLikeClient(app.test_client())
    browser.open(link, typed=True)
    response = browser.submit()
    assert response.status_code == 200 and b"/2030. We will remind you" in response.data
    with app.app_context():
        assert db.session.scalar(select(Candidate.pool_consent_until)) > until


# Staff ----------------------------------------------------------------------------------

def test_login_and_logout_are_accepted(app, make_user):
    browser = staff_browser(app, make_user(role="recruiter"))
    page = browser.open("/vacancies")
    assert page.status_code == 200
    _redirected(browser.submit("/logout"))
    assert browser.open("/vacancies").status_code == 302  # back to the login page


@pytest.fixture
def recruiter(app, make_user) -> BrowserLikeClient:
    return staff_browser(app, make_user(role="recruiter", company="Ingenium"))


def test_recruiter_status_and_note_forms_are_accepted(app, recruiter):
    slug = make_vacancy(app)
    apply_as_browser(app, slug)
    with app.app_context():
        public_id = db.session.scalar(select(Candidate.public_id))
    page = f"/candidates/{public_id}"
    recruiter.open(page)
    _redirected(recruiter.submit(f"{page}/status", {"status": "reviewing"}))
    recruiter.open(page)
    _redirected(recruiter.submit(f"{page}/notes", {"body": "Strong on Kafka"}))
    body = recruiter.open(page).get_data(as_text=True)
    assert "Strong on Kafka" in body
    assert _count(app, Candidate, Candidate.status == "reviewing") == 1


def test_vacancy_create_edit_and_close_forms_are_accepted(app, recruiter):
    recruiter.open("/vacancies/new")
    _redirected(recruiter.submit(fields={"title": "Platform engineer", "location": "Ghent"}))
    with app.app_context():
        slug = db.session.scalar(select(Vacancy.slug))
    recruiter.open(f"/vacancies/{slug}/edit")
    _redirected(recruiter.submit(fields={"location": "Antwerp"}))
    # Closing is a question first (a page of its own), then the confirmed form.
    recruiter.open(f"/vacancies/{slug}/close")
    _redirected(recruiter.submit(f"/vacancies/{slug}/close"))
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy))
        assert (vacancy.location, vacancy.status) == ("Antwerp", "closed")
    recruiter.open(f"/vacancies/{slug}")
    _redirected(recruiter.submit(f"/vacancies/{slug}/reopen"))
    with app.app_context():
        assert db.session.scalar(select(Vacancy.status)) == "open"


# The privacy officer's desk --------------------------------------------------------------

@pytest.fixture
def officer(app, make_user) -> BrowserLikeClient:
    return staff_browser(app, make_user(role="admin"))


@pytest.fixture
def public_id(app) -> str:
    apply_as_browser(app, make_vacancy(app))
    with app.app_context():
        return db.session.scalar(select(Candidate.public_id))


def test_request_log_and_resolve_forms_are_accepted(app, officer, public_id):
    officer.open("/admin/requests")
    _redirected(officer.submit("/admin/requests/new", {"public_id": public_id, "kind": "access"}))
    with app.app_context():
        uid = db.session.scalar(select(DataRequest.uid).where(DataRequest.kind == "access",
                                                              DataRequest.status == "open"))
    assert uid
    officer.open("/admin/requests")
    _redirected(officer.submit(f"/admin/requests/{uid}/resolve"))
    assert _count(app, DataRequest, DataRequest.uid == uid, DataRequest.status == "open") == 0


def test_legal_hold_form_is_accepted(app, officer, public_id):
    officer.open(f"/admin/candidates/{public_id}")
    _redirected(officer.submit(f"/admin/candidates/{public_id}/hold",
                            {"action": "place", "reason": "Pending court case"}))
    assert _count(app, Candidate, Candidate.legal_hold.is_(True)) == 1


def test_user_create_and_update_forms_are_accepted(app, officer):
    officer.open("/admin/users")
    _redirected(officer.submit("/admin/users", {"email": "new.recruiter@group.example",
                                             "display_name": "Nina Recruiter",
                                             "role": "recruiter", "company": "Ingenium"}))
    with app.app_context():
        new_id = db.session.scalar(select(User.id).where(
            User.email == "new.recruiter@group.example"))
    officer.open("/admin/users")
    _redirected(officer.submit(f"/admin/users/{new_id}", {"active": "no"}))
    with app.app_context():
        assert db.session.get(User, new_id).active is False


def test_officer_erasure_form_is_accepted(app, officer, public_id):
    officer.open(f"/admin/candidates/{public_id}")
    officer.open(f"/admin/candidates/{public_id}/erase")
    response = officer.submit(fields={"category": "subject-request"})
    assert response.status_code == 200, response.get_data(as_text=True)[-800:]
    assert _count(app, Candidate) == 0 and _count(app, ErasureRecord) == 1


def test_officer_email_change_form_is_accepted(app, officer, public_id):
    officer.open(f"/admin/candidates/{public_id}")
    _redirected(officer.submit(f"/admin/candidates/{public_id}/email",
                               {"new_email": "asked.by.letter@example.org"}))
    assert [m for m in outbox(app) if m["To"] == "asked.by.letter@example.org"]


def test_api_client_forms_are_accepted(app, officer):
    from vault.models import ApiClient, WebhookEndpoint

    officer.open("/admin/api-clients")
    created = officer.submit("/admin/api-clients", {
        "name": "Job board", "company": "Hoptimize", "scopes": "vacancies:read",
        "expires_on": "2026-12-31"})
    assert created.status_code == 200 and b"vlt_" in created.data
    with app.app_context():
        client_id = db.session.scalar(select(ApiClient.id))
    page = f"/admin/api-clients/{client_id}"
    officer.open(page)
    shown = officer.submit(f"{page}/webhook", {"webhook_url": "https://board.example/hook"})
    assert shown.status_code == 200 and b"whsec_" in shown.data
    officer.open(page)
    rotated = officer.submit(f"{page}/webhook/secret")
    assert rotated.status_code == 200 and b"whsec_" in rotated.data
    officer.open(f"{page}/revoke")
    _redirected(officer.submit(f"{page}/revoke"))
    with app.app_context():
        assert db.session.get(ApiClient, client_id).revoked_at is not None
        assert db.session.get(WebhookEndpoint, client_id).url == "https://board.example/hook"


# A staff member's own account ------------------------------------------------------------

NEW_PASSWORD = "lantern orchard quibble saxophone"


def test_password_reset_request_and_link_are_accepted(app, make_user):
    make_user(email="reset.me@group.example")
    browser = BrowserLikeClient(app.test_client())
    browser.open("/login", typed=True)
    browser.open("/password/forgot")
    _redirected(browser.submit(fields={"email": "reset.me@group.example"}))
    [mail] = [m for m in outbox(app) if m["To"] == "reset.me@group.example"]
    link = re.search(r"https://vault\.example(/password/set/[A-Za-z0-9_\-]+)",
                     mail.get_payload(decode=True).decode()).group(1)
    mailbox = BrowserLikeClient(app.test_client())
    mailbox.open(link, typed=True)
    _redirected(mailbox.submit(fields={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}))
    mailbox.open("/login")
    response = mailbox.submit("/login", {"email": "reset.me@group.example",
                                         "password": NEW_PASSWORD})
    assert response.headers["Location"] == "/login/second-factor"


def test_password_change_and_ending_other_sessions_are_accepted(app, make_user):
    uid = make_user()
    elsewhere = staff_browser(app, uid)
    browser = staff_browser(app, uid)
    browser.open("/account")
    _redirected(browser.submit("/account/sessions/end-others"))
    assert elsewhere.open("/account").status_code == 302
    browser.open("/account/password")
    _redirected(browser.submit(fields={"current": STAFF_PASSWORD, "password": NEW_PASSWORD,
                                       "confirm": NEW_PASSWORD}))
    assert browser.open("/account").status_code == 200


def test_second_factor_enrolment_and_new_codes_are_accepted(app, make_user):
    from tests.auth.test_two_factor import current_code

    browser = staff_browser(app, make_user(second_factor=False))
    page = browser.open("/account/two-factor")
    response = browser.submit(fields={"code": current_code(app, page)})
    assert response.status_code == 200 and b"Recovery codes" in response.data
    browser.open("/account")
    response = browser.submit("/account/recovery-codes")
    assert response.status_code == 200 and len(re.findall(rb"<li><code>", response.data)) == 10


def test_officer_second_factor_reset_is_accepted(app, officer, make_user):
    uid = make_user()
    officer.open("/admin/users")
    _redirected(officer.submit(f"/admin/users/{uid}/second-factor"))
    with app.app_context():
        assert db.session.get(User, uid).totp_enabled_at is None


def _fetch(browser: BrowserLikeClient, path: str, body: dict | None = None):
    """A same-origin fetch() from the current page, as static/passkeys.js makes it."""
    page = browser.response.get_data(as_text=True)
    csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)
    return browser.client.post(
        "https://vault.example" + path, json=body or {},
        headers={"Origin": "https://vault.example", "Referer": browser.page_url,
                 "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors",
                 "Sec-Fetch-Dest": "empty", "X-CSRFToken": csrf})


def test_passkey_registration_and_login_are_accepted(app, make_user):
    from soft_webauthn import SoftWebauthnDevice

    from tests.auth.test_passkeys import VerifyingDevice, _as_browser_json
    from vault.services.passkeys import decode

    uid = make_user(second_factor=False)
    browser = staff_browser(app, uid)
    browser.open("/account/two-factor")  # enrolment first: a passkey instead of an app
    device = VerifyingDevice()
    options = _fetch(browser, "/account/passkeys/options").get_json()
    options["challenge"] = decode(options["challenge"])
    options["user"]["id"] = decode(options["user"]["id"])
    created = device.create({"publicKey": options}, "https://vault.example")
    answer = _fetch(browser, "/account/passkeys", {"credential": _as_browser_json(created),
                                                   "name": "Phone"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    browser.open("/account")
    _redirected(browser.submit("/account/passwordless", {"passwordless": "on"}))
    _redirected(browser.submit("/logout"))
    # Passwordless, from the login page.
    browser.open("/login")
    options = _fetch(browser, "/login/passkey/options").get_json()
    options["challenge"] = decode(options["challenge"])
    assertion = device.get({"publicKey": options}, "https://vault.example")
    answer = _fetch(browser, "/login/passkey", {"credential": _as_browser_json(assertion)})
    assert answer.status_code == 200 and answer.get_json()["redirect"] == "/candidates"
    page = browser.open("/account")
    assert page.status_code == 200
    passkey_id = re.search(r"/account/passkeys/(\d+)/delete", page.get_data(as_text=True))
    _redirected(browser.submit(f"/account/passkeys/{passkey_id.group(1)}/delete"))
    assert SoftWebauthnDevice  # the plain device is the one the other tests use
