"""Forms in a real Chromium over real HTTPS: the ground truth for tests/browser.py.

The app is served over TLS (a throw-away certificate) on 127.0.0.1; Debian's Chromium,
driven by Playwright, fills in and submits forms. What reaches the app is recorded and
compared with what BrowserLikeClient sends, so the model every form test relies on is
checked against the browser itself. Skipped without Chromium or Playwright, except in CI
(CI=true), where their absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import EnvironHeaders
from werkzeug.serving import make_server

from tests.browser import BROWSER_CONFIG, referrer_headers
from tests.conftest import STAFF_PASSWORD, totp_code
from vault.extensions import db
from vault.models import User

pytestmark = pytest.mark.app_config(**BROWSER_CONFIG)

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p),
                None)


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium for the module (starting it is most of the time); a fresh context,
    so fresh cookies, per test."""
    _require(CHROMIUM is not None, "Debian's chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def served(app: Flask) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """The app on https://127.0.0.1:<free port>, that address as its public one, and the
    headers of every POST it receives."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"https://127.0.0.1:{port}"
    app.config["PUBLIC_BASE_URL"] = base
    posts: list[dict[str, str]] = []

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        # Before the app, so that refused requests are recorded too.
        if environ["REQUEST_METHOD"] == "POST":
            posts.append(dict(EnvironHeaders(environ)))
        return app.wsgi_app(environ, start_response)

    server = make_server("127.0.0.1", port, recording, threaded=True, ssl_context="adhoc")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, posts
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    # The certificate is self-signed; the page is still an https:// (secure) context.
    context = chromium.new_context(ignore_https_errors=True)
    yield context.new_page()
    context.close()


def test_chromium_submits_the_link_request_form_over_https(page, served):
    base, posts = served
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
    base, _posts = served
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


def test_chromium_refuses_to_carry_a_form_from_another_site(page, served):
    """An attacker's page copies our form, token and all, and Chromium submits it."""
    base, posts = served
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


def test_under_no_referrer_chromium_sends_origin_null_as_the_model_says(page, served):
    """The first release's policy, as a proxy might still add it: Chromium then sends
    "Origin: null" and no Referer (what BrowserLikeClient predicts), and Sec-Fetch-Site
    still vouches for our own page, so the form goes through."""
    base, posts = served
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
