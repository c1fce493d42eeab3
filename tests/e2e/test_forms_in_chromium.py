"""Forms in a real Chromium over real HTTPS: the ground truth for tests/browser.py.

The app is served over TLS (a throw-away certificate) on 127.0.0.1 (tests/e2e/server.py);
Debian's Chromium, driven by Playwright, fills in and submits forms. What reaches the app
is recorded and compared with what BrowserLikeClient sends, so the model every form test
relies on is checked against the browser itself.
"""

from __future__ import annotations

from tests.browser import referrer_headers
from tests.conftest import STAFF_PASSWORD, totp_code
from vault.extensions import db
from vault.models import User


def test_chromium_submits_the_link_request_form_over_https(page, served, tls_server):
    base, posts = served, tls_server.posts
    page.goto(f"{base}/my-data")
    page.fill("input[name=email]", "someone@example.org")
    page.click("form[method=post] button[type=submit]")
    assert "we have sent a personal link" in page.content()
    sent = posts[-1]
    # What the form tests' model sends is what Chromium sent.
    expected = referrer_headers("same-origin", f"{base}/my-data", f"{base}/my-data")
    assert sent.get("Origin") == expected["Origin"] == base
    assert sent.get("Referer") == expected["Referer"]
    assert (sent.get("Sec-Fetch-Site"), sent.get("Sec-Fetch-Mode"),
            sent.get("Sec-Fetch-Dest")) == ("same-origin", "navigate", "document")
    assert sent.get("Content-Type") == "application/x-www-form-urlencoded"


def test_chromium_logs_in_and_out_over_https(app, page, served, make_user):
    base = served
    user_id = make_user(role="recruiter")
    with app.app_context():
        email = db.session.get(User, user_id).email
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("main form button[type=submit]")
    assert page.url == f"{base}/login/second-factor"
    page.fill("input[name=code]", totp_code(app, user_id))
    page.click("main form button[type=submit]")
    assert page.url.startswith(f"{base}/candidates")
    page.click("header form button[type=submit]")  # Log out
    assert page.url == f"{base}/"
    page.goto(f"{base}/vacancies")
    assert "/login" in page.url


def test_chromium_refuses_to_carry_a_form_from_another_site(page, served, tls_server):
    """An attacker's page copies our form, token and all, and Chromium submits it."""
    base, posts = served, tls_server.posts
    page.goto(f"{base}/my-data")
    token = page.get_attribute("input[name=csrf_token]", "value")
    page.route("https://evil.test/**", lambda route: route.fulfill(
        content_type="text/html",
        body=f'<form method="post" action="{base}/my-data">'
             f'<input type="hidden" name="csrf_token" value="{token}">'
             '<input name="email" value="victim@example.org">'
             '<button type="submit">Win a prize</button></form>'))
    page.goto("https://evil.test/prize")
    page.click("button")
    assert "not sent from a page of this site" in page.content()
    assert posts[-1].get("Sec-Fetch-Site") == "cross-site"
    assert posts[-1].get("Origin") == "https://evil.test"


def test_under_no_referrer_chromium_sends_origin_null_as_the_model_says(page, served, tls_server):
    """The first release's policy, as a proxy might still add it: Chromium then sends
    "Origin: null" and no Referer (what BrowserLikeClient predicts), and Sec-Fetch-Site
    still vouches for our own page, so the form goes through."""
    base, posts = served, tls_server.posts
    page.goto(f"{base}/my-data")
    token = page.get_attribute("input[name=csrf_token]", "value")
    page.route(f"{base}/no-referrer-page", lambda route: route.fulfill(
        content_type="text/html", headers={"Referrer-Policy": "no-referrer"},
        body='<form method="post" action="/my-data">'
             f'<input type="hidden" name="csrf_token" value="{token}">'
             '<input name="email" value="someone@example.org">'
             '<button type="submit">Send</button></form>'))
    page.goto(f"{base}/no-referrer-page")
    page.click("button")
    assert "we have sent a personal link" in page.content()
    expected = referrer_headers("no-referrer", f"{base}/no-referrer-page", f"{base}/my-data")
    assert expected == {"Origin": "null"}
    assert posts[-1].get("Origin") == "null" and "Referer" not in posts[-1]
    assert posts[-1].get("Sec-Fetch-Site") == "same-origin"
