"""The desk's API clients: created with a token shown once, revoked after a question, a
webhook with a signing secret shown once, and the delivery log of erasure notices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.browser import BROWSER_CONFIG, BrowserLikeClient, apply_as_browser, staff_browser
from tests.journey import make_vacancy
from tests.webhooks import receiver
from vault.appctx import erasure_ledger, vault_keys
from vault.extensions import db
from vault.models import ApiClient, AuditEvent, Candidate, WebhookDelivery, WebhookEndpoint
from vault.services import api_clients, audit, erasure, webhooks

pytestmark = pytest.mark.app_config(**BROWSER_CONFIG)

TOKEN = re.compile(r"vlt_[0-9a-f]{24}_[0-9a-f]{64}")
SECRET = re.compile(r"whsec_[A-Za-z0-9_\-]{43}")


@pytest.fixture
def officer(app, make_user) -> BrowserLikeClient:
    return staff_browser(app, make_user(role="admin"))


def _create(browser: BrowserLikeClient, **fields: str | None):
    browser.open("/admin/api-clients")
    data = {
        "name": "Workday Ingenium",
        "company": "Ingenium",
        "scopes": "erasures:read",
        "expires_on": "2026-12-31",
        "webhook_url": "",
    }
    data.update(fields)
    return browser.submit("/admin/api-clients", data)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _only_client(app) -> ApiClient:
    with app.app_context():
        client = db.session.scalar(select(ApiClient))
        db.session.expunge(client)
        return client


def _everything_stored(app) -> str:
    """Every text and blob of every table, to look for a secret in."""
    with app.app_context():
        tables = (
            db.session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            .scalars()
            .all()
            if db.engine.dialect.name == "sqlite"
            else db.session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public'")
            )
            .scalars()
            .all()
        )
        dump = []
        for table in tables:
            for row in db.session.execute(text(f'SELECT * FROM "{table}"')):
                dump.extend(
                    bytes(v).decode("latin-1") if isinstance(v, (bytes, memoryview)) else str(v)
                    for v in row
                )
        return "\n".join(dump)


def test_the_officer_creates_a_client_and_sees_its_token_and_secret_once(
    app, officer, clock, caplog
):
    response = _create(officer, webhook_url="https://hr.ingenium.example/hooks/vault")
    assert response.status_code == 200, response.get_data(as_text=True)[-800:]
    page = response.get_data(as_text=True)
    [token] = TOKEN.findall(page)
    [secret] = SECRET.findall(page)
    assert response.headers["Cache-Control"] == "no-store"
    client = _only_client(app)
    assert (client.name, client.company, client.scopes) == (
        "Workday Ingenium",
        "Ingenium",
        "erasures:read",
    )
    # Valid through 31 December in Belgium: until midnight there (23:00 UTC in winter).
    assert client.expires_at.isoformat() == "2026-12-31T23:00:00+00:00"
    with app.app_context():
        assert (
            api_clients.authenticate(db.session, vault_keys().keyring, token, now=clock()).id
            == client.id
        )
        endpoint = db.session.get(WebhookEndpoint, client.id)
        assert webhooks.open_secret(vault_keys(), endpoint) == secret
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        details = " ".join(db.session.scalars(select(AuditEvent.detail)))
    assert actions[-2:] == [api_clients.CLIENT_CREATED, audit.WEBHOOK_CHANGED]
    # Never again: not on the client's page, the list, in the session or in the database.
    for path in ("/admin/api-clients", f"/admin/api-clients/{client.id}"):
        shown = officer.open(path).get_data(as_text=True)
        assert token not in shown and secret not in shown
        assert "Workday Ingenium" in shown
    stored = _everything_stored(app)
    assert token[-64:] not in stored and secret not in stored and secret[6:] not in stored
    assert token[-64:] not in details
    cookies = " ".join(c.value for c in officer.client._cookies.values())
    assert token[-64:] not in cookies and secret not in cookies
    assert caplog.records and token[-64:] not in caplog.text and secret not in caplog.text


def test_a_client_without_webhook_gets_a_token_only(app, officer):
    page = _create(officer).get_data(as_text=True)
    assert len(TOKEN.findall(page)) == 1 and SECRET.findall(page) == []
    assert _count(app, WebhookEndpoint) == 0


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"webhook_url": "http://hr.ingenium.example/hook"}, "must start with https://"),
        ({"webhook_url": "https://user:pw@hr.example/hook"}, "may not hold a user name"),
        ({"webhook_url": "https://169.254.169.254/latest"}, "not to an internal one"),
        ({"scopes": None}, "Choose at least one scope."),
        ({"scopes": "everything:write"}, "is not a valid choice"),
        ({"expires_on": "2026-03-01"}, "The date must be today or later."),
        ({"expires_on": "tomorrow"}, "Enter the date the token stops."),
        ({"company": "Acme"}, "Not a valid choice"),
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 121}, "Field cannot be longer than 120 characters."),
    ],
)
def test_bad_input_for_a_new_client_is_refused_and_nothing_is_stored(app, officer, fields, error):
    response = _create(officer, **fields)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert _count(app, ApiClient) == 0 and _count(app, WebhookEndpoint) == 0


@pytest.mark.app_config(**{**BROWSER_CONFIG, "FRESH_LOGIN_MINUTES": 15})
def test_making_a_token_needs_a_fresh_login(app, officer, clock):
    officer.open("/admin/api-clients")
    clock.advance(minutes=16)
    response = officer.submit(
        "/admin/api-clients",
        {"name": "Late", "scopes": "erasures:read", "expires_on": "2026-12-31"},
    )
    assert response.status_code == 302 and "reauth=1" in response.headers["Location"]
    assert _count(app, ApiClient) == 0


def test_only_the_privacy_officer_may_use_the_pages(app, make_user, officer):
    _create(officer)
    client_id = _only_client(app).id
    recruiter = staff_browser(app, make_user(role="recruiter"))
    for path in (
        "/admin/api-clients",
        f"/admin/api-clients/{client_id}",
        f"/admin/api-clients/{client_id}/revoke",
    ):
        assert recruiter.open(path).status_code == 403
    csrf = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"',
        officer.open(f"/admin/api-clients/{client_id}").get_data(as_text=True),
    )
    for path in (
        "/admin/api-clients",
        f"/admin/api-clients/{client_id}/revoke",
        f"/admin/api-clients/{client_id}/webhook",
        f"/admin/api-clients/{client_id}/webhook/secret",
    ):
        answer = recruiter.client.post(
            "https://vault.example" + path,
            data={"csrf_token": csrf.group(1), "name": "x", "webhook_url": "https://evil.example/"},
            headers={"Origin": "https://vault.example", "Referer": "https://vault.example/"},
        )
        assert answer.status_code in (400, 403)
    anonymous = BrowserLikeClient(app.test_client())
    assert anonymous.open("/admin/api-clients", typed=True).status_code == 302
    with app.app_context():
        assert db.session.get(ApiClient, client_id).revoked_at is None
        assert db.session.get(WebhookEndpoint, client_id) is None


def test_revoking_asks_first_then_refuses_the_token_and_stops_notices(app, officer, clock):
    page = _create(officer, webhook_url="https://hr.example/hook").get_data(as_text=True)
    [token] = TOKEN.findall(page)
    client_id = _only_client(app).id
    question = officer.open(f"/admin/api-clients/{client_id}/revoke")
    assert question.status_code == 200 and b"Revoke for good" in question.data
    assert _only_client(app).revoked_at is None  # asking changed nothing
    response = officer.submit(f"/admin/api-clients/{client_id}/revoke", follow=True)
    assert response.status_code == 200 and b"revoked" in response.data
    assert _only_client(app).revoked_at == clock()
    with app.app_context():
        assert (
            api_clients.authenticate(db.session, vault_keys().keyring, token, now=clock()) is None
        )
        assert (
            db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()))
            == api_clients.CLIENT_REVOKED
        )
    # A revoked client's page offers no more forms.
    shown = officer.open(f"/admin/api-clients/{client_id}").get_data(as_text=True)
    assert "/webhook" not in shown and "Revoke this client" not in shown


def test_a_new_signing_secret_is_shown_once_and_the_old_one_stops_verifying(app, officer, clock):
    with receiver(clock) as hook:
        first = _create(officer, webhook_url=hook.url).get_data(as_text=True)
        [old] = SECRET.findall(first)
        client_id = _only_client(app).id
        officer.open(f"/admin/api-clients/{client_id}")
        response = officer.submit(f"/admin/api-clients/{client_id}/webhook/secret")
        assert response.status_code == 200
        [new] = SECRET.findall(response.get_data(as_text=True))
        assert new != old
        assert new not in officer.open(f"/admin/api-clients/{client_id}").get_data(as_text=True)
        apply_as_browser(app, make_vacancy(app))
        _erase_all(app, clock)
        hook.secret = old
        _send(app, clock)
        assert [n.verified for n in hook.received] == [False]  # the receiver kept the old one
        hook.secret = new
        clock.advance(minutes=1)
        _send(app, clock)
        assert [n.verified for n in hook.received] == [False, True]
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent.action).where(AuditEvent.action == audit.WEBHOOK_SECRET_SET)
        )


def test_the_webhook_url_is_changed_checked_and_removed(app, officer):
    page = _create(officer, webhook_url="https://hr.example/hook").get_data(as_text=True)
    [secret] = SECRET.findall(page)
    client_id = _only_client(app).id
    officer.open(f"/admin/api-clients/{client_id}")
    refused = officer.submit(
        f"/admin/api-clients/{client_id}/webhook", {"webhook_url": "http://hr.example/hook"}
    )
    assert refused.status_code == 400 and b"must start with https://" in refused.data
    officer.open(f"/admin/api-clients/{client_id}")
    moved = officer.submit(
        f"/admin/api-clients/{client_id}/webhook",
        {"webhook_url": "https://hr2.example/hook"},
        follow=True,
    )
    assert b"Webhook URL saved." in moved.data and SECRET.findall(moved.data.decode()) == []
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, client_id)
        assert endpoint.url == "https://hr2.example/hook"
        assert webhooks.open_secret(vault_keys(), endpoint) == secret  # the URL only changed
    officer.open(f"/admin/api-clients/{client_id}")
    removed = officer.submit(
        f"/admin/api-clients/{client_id}/webhook", {"webhook_url": ""}, follow=True
    )
    assert b"Webhook removed" in removed.data
    assert _count(app, WebhookEndpoint) == 0


def _erase_all(app, clock) -> None:
    with app.app_context():
        records = db.session.scalars(select(Candidate)).all()
        erasure.erase_records(
            db.session,
            records,
            reason=erasure.OPERATOR,
            now=clock(),
            ledger=erasure_ledger(),
            actor=audit.CLI,
        )


def _send(app, clock) -> webhooks.SendResult:
    with app.app_context():
        return webhooks.flush(db.session, vault_keys(), now=clock(), config=app.config, clock=clock)


def test_the_delivery_log_shows_each_notice_its_attempts_and_answers_in_pages(app, officer, clock):
    with receiver(clock) as hook:
        page = _create(officer, webhook_url=hook.url).get_data(as_text=True)
        [hook.secret] = SECRET.findall(page)
        client_id = _only_client(app).id
        apply_as_browser(app, make_vacancy(app))
        hook.answers = [500]
        _erase_all(app, clock)
        assert _send(app, clock).retrying == 1
        with app.app_context():
            [event_id] = db.session.scalars(select(WebhookDelivery.event_id)).all()
            # 30 older notices, delivered, to fill more than one page.
            for n in range(30):
                db.session.add(
                    WebhookDelivery(
                        client_id=client_id,
                        event_id=f"00000000-0000-5000-8000-{n:012d}",
                        event_type=webhooks.ERASED,
                        payload="{}",
                        status=webhooks.DELIVERED,
                        attempts=1,
                        created_at=clock() - timedelta(days=1, minutes=n),
                        next_attempt_at=clock(),
                        last_status_code=204,
                        delivered_at=clock() - timedelta(days=1),
                    )
                )
            db.session.commit()
    first = officer.open(f"/admin/api-clients/{client_id}").get_data(as_text=True)
    assert "31 notices · page 1 of 2" in first
    row = re.search(rf"<tr class=\"delivery-queued\">.*?{event_id}.*?</tr>", first, re.S)
    assert row, "the newest notice comes first, still waiting"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert cells[1:4] == ["waiting", "1", "500"]
    assert cells[6] == "02/03/2026 10:01"  # the next attempt, a minute on (Brussels time)
    assert first.count('<tr class="delivery-') == 25
    second = officer.open(f"/admin/api-clients/{client_id}?page=2").get_data(as_text=True)
    assert second.count('<tr class="delivery-delivered">') == 6 and event_id not in second
    assert officer.open(f"/admin/api-clients/{client_id}?page=x").status_code == 200
    listing = officer.open("/admin/api-clients").get_data(as_text=True)
    assert "127.0.0.1" in listing and "1 waiting" in listing
