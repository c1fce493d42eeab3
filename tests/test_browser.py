"""The browser model of tests/browser.py: if it sent what no browser sends, the form tests
built on it would prove nothing."""

from __future__ import annotations

import pytest

from tests.browser import (
    BROWSER_CONFIG,
    ORIGIN,
    BrowserLikeClient,
    effective_policy,
    fetch_site,
    parse_page,
    referrer_headers,
)

PAGE = ORIGIN + "/my-data/abc/correct?record=r1"


def test_forms_are_read_with_what_a_browser_would_send_untouched():
    html = """
    <meta name="referrer" content="origin">
    <form method="post"><input type="hidden" name="csrf_token" value="t&amp;1">
      <input name="full_name" value="Ilse"><input type="checkbox" name="pool" value="y">
      <input type="checkbox" name="consent" value="y" checked>
      <input name="off" value="x" disabled><input type="submit" name="go" value="Send">
      <select name="status"><option value="new">New</option>
        <option value="hired" selected>Hired</option></select>
      <select name="level"><option>Any</option><option>PhD</option></select>
      <textarea name="note">
two
lines</textarea><input type="file" name="cv">
    </form>
    <form method="get" action="/candidates"><input name="q"></form>"""
    forms, meta = parse_page(html, PAGE)
    assert meta == "origin"
    post, get = forms
    assert (post.method, post.action, get.method, get.action) == (
        "post", PAGE, "get", ORIGIN + "/candidates")
    assert post.fields == [("csrf_token", "t&1"), ("full_name", "Ilse"), ("consent", "y"),
                           ("status", "hired"), ("level", "Any"), ("note", "two\r\nlines")]
    assert post.file_inputs == ["cv"]


@pytest.mark.parametrize(("header", "meta", "policy"), [
    ("same-origin", None, "same-origin"),
    ("no-referrer", "same-origin", "same-origin"),  # the <meta> tag wins
    ("no-referrer, unknown-policy", None, "no-referrer"),
    ("unsafe-url, same-origin", None, "same-origin"),
    (None, None, "strict-origin-when-cross-origin"),  # the browsers' default
])
def test_the_referrer_policy_in_force_is_found_as_browsers_find_it(header, meta, policy):
    assert effective_policy(header, meta) == policy


@pytest.mark.parametrize(("policy", "page", "origin", "referer"), [
    # Our forms under our policy: the real origin and the page's full URL.
    ("same-origin", PAGE, ORIGIN, PAGE),
    # The first release's policy: Chromium and Firefox send "Origin: null", no Referer.
    ("no-referrer", PAGE, "null", None),
    # An attacker's page under the default policy: its own origin, no path.
    ("strict-origin-when-cross-origin", "https://evil.example/x?y", "https://evil.example",
     "https://evil.example/"),
    # An attacker's page under same-origin: nothing about itself at all.
    ("same-origin", "https://evil.example/x", "null", None),
    ("origin", PAGE, ORIGIN, ORIGIN + "/"),
])
def test_origin_and_referer_follow_the_referrer_policy(policy, page, origin, referer):
    headers = referrer_headers(policy, page, ORIGIN + "/my-data/abc/correct")
    assert headers.get("Origin") == origin and headers.get("Referer") == referer


def test_fetch_site_tells_same_origin_same_site_and_cross_site():
    target = ORIGIN + "/login"
    assert fetch_site(None, target) == "none"
    assert fetch_site(ORIGIN + "/", target) == "same-origin"
    assert fetch_site("https://blog.vault.example/", target) == "same-site"
    assert fetch_site("http://vault.example/", target) == "cross-site"
    assert fetch_site("https://evil.example/", target) == "cross-site"


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_a_submitted_form_carries_chromium_headers_and_the_page_token(app):
    seen = {}

    @app.before_request
    def _record():
        from flask import request

        if request.method == "POST":
            seen.update(headers=dict(request.headers), form=request.form.to_dict())

    browser = BrowserLikeClient(app.test_client())
    page = browser.open("/my-data", typed=True)
    token = browser.form().value("csrf_token")
    assert token and token in page.get_data(as_text=True)
    browser.submit(fields={"email": "a@example.org"})
    headers = seen["headers"]
    assert headers["Origin"] == ORIGIN and headers["Referer"] == ORIGIN + "/my-data"
    assert (headers["Sec-Fetch-Site"], headers["Sec-Fetch-Mode"], headers["Sec-Fetch-Dest"]
            ) == ("same-origin", "navigate", "document")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "session=" in headers["Cookie"]
    assert seen["form"] == {"csrf_token": token, "email": "a@example.org"}
