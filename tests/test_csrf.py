"""CSRF defence (vault/csrf.py): the origin check's decisions, and the attacks it stops,
sent as a browser would send them over HTTPS."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from sqlalchemy import select

from tests.browser import (
    BROWSER_CONFIG,
    ORIGIN,
    BrowserLikeClient,
    apply_as_browser,
    personal_link,
    staff_browser,
)
from tests.journey import link_in, make_vacancy, outbox
from vault.csrf import (
    local_referrer,
    origin_config_problems,
    origin_of,
    origin_refusal,
    trusted_origins,
)
from vault.extensions import db
from vault.models import Candidate, ErasureRecord, Note, User, Vacancy

TRUSTED = frozenset({ORIGIN})
EVIL_PAGE = "https://evil.example/win-a-prize"


# The decision, header by header -----------------------------------------------------------

@pytest.mark.parametrize(("headers", "accepted"), [
    # What browsers send for our own forms under Referrer-Policy: same-origin.
    ({"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin", "Referer": ORIGIN + "/my-data"}, True),
    # A privacy extension stripped the Referer (the first release refused this).
    ({"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}, True),
    # A browser without Fetch Metadata (Safari before 16.4).
    ({"Origin": ORIGIN}, True),
    # A proxy added Referrer-Policy: no-referrer: Origin is null, Fetch Metadata vouches.
    ({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, True),
    # Origin stripped as well: the Referer decides, then Sec-Fetch-Site alone.
    ({"Referer": ORIGIN + "/login"}, True),
    ({"Sec-Fetch-Site": "same-origin"}, True),
    # Another site's form, however the rest of the headers look.
    ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, False),
    ({"Origin": "https://evil.example"}, False),
    ({"Origin": ORIGIN, "Sec-Fetch-Site": "cross-site"}, False),
    ({"Origin": ORIGIN, "Sec-Fetch-Site": "same-site"}, False),
    ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, False),
    ({"Origin": "null"}, False),  # a sandboxed frame, a data: page
    ({"Referer": "https://evil.example/x"}, False),
    ({"Referer": ORIGIN + ".evil.example/x"}, False),
    ({"Referer": "https://evil.example/x", "Sec-Fetch-Site": "same-origin"}, False),
    # Our host name, another scheme or port: another origin.
    ({"Origin": "http://vault.example"}, False),
    ({"Origin": "https://vault.example:8443"}, False),
    # Nothing vouches for the request at all.
    ({}, False),
    ({"Sec-Fetch-Site": "none"}, False),
])
def test_origin_check_accepts_only_what_our_own_pages_send(headers, accepted):
    assert (origin_refusal(headers, TRUSTED) is None) is accepted


@pytest.mark.parametrize(("url", "origin"), [
    ("https://vault.example", "https://vault.example"),
    ("HTTPS://Vault.Example:443/path?q#f", "https://vault.example"),
    ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
    ("https://vault.example@evil.example/", "https://evil.example"),
    ("https://[::1]:8443/x", "https://[::1]:8443"),
    ("https://vault.example:99999", None),
    ("javascript:alert(1)", None),
    ("null", None),
    ("", None),
])
def test_origins_are_compared_as_browsers_serialise_them(url, origin):
    assert origin_of(url) == origin


def test_trusted_origins_come_from_the_configuration_only():
    config = {"PUBLIC_BASE_URL": "https://jobs.example/careers/",
              "TRUSTED_ORIGINS": ["https://staff.example:8443", "not a url"]}
    assert trusted_origins(config) == {"https://jobs.example", "https://staff.example:8443"}
    as_typed = {"PUBLIC_BASE_URL": ORIGIN, "TRUSTED_ORIGINS": "https://a.example, https://b.example"}
    assert trusted_origins(as_typed) == {ORIGIN, "https://a.example", "https://b.example"}


def test_a_referer_from_elsewhere_never_becomes_a_link_back(app: Flask):
    app.config["PUBLIC_BASE_URL"] = ORIGIN
    cases = {ORIGIN + "/my-data?x=1": "/my-data?x=1", ORIGIN + "//evil.example/x": None,
             "https://evil.example/my-data": None, ORIGIN + "/\\evil.example": None}
    for referer, expected in cases.items():
        with app.test_request_context("/my-data", method="POST",
                                      headers={"Referer": referer}):
            assert local_referrer() == expected


# Attacks, sent as a browser sends them -----------------------------------------------------

def _state(app) -> tuple:
    """What a forged request could change: records, statuses, consent, notes, accounts."""
    with app.app_context():
        return (
            tuple(db.session.execute(select(Candidate.public_id, Candidate.status,
                                            Candidate.pool_consent_until,
                                            Candidate.legal_hold)).all()),
            tuple(db.session.execute(select(Vacancy.slug, Vacancy.status)).all()),
            tuple(db.session.execute(select(User.id, User.role, User.active)).all()),
            len(db.session.scalars(select(Note.id)).all()),
            len(db.session.scalars(select(ErasureRecord.id)).all()),
        )


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_a_form_posted_from_another_site_is_refused_even_with_a_valid_token(app, caplog):
    victim, link = personal_link(app, consent_talent_pool="y")
    victim.open(link, typed=True)
    # The attacker's page copies the form, token included (as if it had leaked), and the
    # victim's browser sends it with the victim's cookie.
    form = victim.form(link + "/withdraw")
    before = _state(app)
    with caplog.at_level(logging.WARNING, logger="vault.csrf"):
        response = victim.submit(form=form, from_page=EVIL_PAGE)
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "not sent from a page of this site" in body and "evil.example" not in body
    assert _state(app) == before
    # The refusal is logged by endpoint: the personal link's token stays out of the logs.
    assert "candidate.withdraw" in caplog.text and link.rsplit("/", 1)[-1] not in caplog.text


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_a_form_posted_from_a_sibling_subdomain_is_refused(app, make_user):
    officer = staff_browser(app, make_user(role="admin"))
    officer.open("/admin/users")
    before = _state(app)
    response = officer.submit("/admin/users", {"email": "mallory@group.example",
                                               "password": "x" * 20, "role": "admin",
                                               "company": "Ingenium"},
                              from_page="https://blog.vault.example/post")
    assert response.status_code == 403 and _state(app) == before


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_a_post_without_its_token_is_refused_with_a_way_back_to_the_form(app):
    apply_as_browser(app)
    browser = BrowserLikeClient(app.test_client())
    browser.open("/my-data", typed=True)
    sent = len(outbox(app))
    response = browser.submit(fields={"email": "ilse.marker4417@example.org",
                                      "csrf_token": None})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "This form has expired" in body and "nothing was changed" in body
    assert 'href="/my-data">Back to the form</a>' in body
    assert len(outbox(app)) == sent


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_a_token_from_another_session_is_refused(app, make_user):
    attacker = staff_browser(app, make_user(role="recruiter", email="mallory@group.example"))
    attacker.open("/vacancies/new")
    stolen = attacker.form()
    victim = staff_browser(app, make_user(role="recruiter", email="victim@group.example"))
    victim.open("/vacancies/new")
    before = _state(app)
    # Same-origin headers and the attacker's own valid token: the victim's session differs.
    response = victim.submit(form=stolen, fields={"title": "Forged"})
    assert response.status_code == 400 and b"This form has expired" in response.data
    assert _state(app) == before


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_a_post_nothing_vouches_for_is_refused_with_an_explanation(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/my-data", typed=True)
    stripped = {"Origin": None, "Referer": None, "Sec-Fetch-Site": None}
    response = browser.submit(fields={"email": "a@example.org"}, headers=stripped)
    assert response.status_code == 403
    assert b"not sent from a page of this site" in response.data


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_forms_work_when_an_extension_strips_origin_and_referer(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/my-data", typed=True)
    response = browser.submit(fields={"email": "a@example.org"},
                              headers={"Origin": None, "Referer": None})
    assert response.status_code == 302


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_forms_work_when_a_proxy_sets_referrer_policy_no_referrer(app):
    browser = BrowserLikeClient(app.test_client())
    browser.open("/my-data", typed=True)
    response = browser.submit(fields={"email": "a@example.org"}, policy="no-referrer")
    assert response.status_code == 302


@pytest.mark.app_config(**BROWSER_CONFIG, PROXY_HOPS=1)
def test_behind_a_proxy_the_configured_origin_counts_never_the_host_header(app):
    """nginx forwards to http://127.0.0.1:8000 with X-Forwarded-Proto; the Host header
    names the upstream (or whatever the client wrote). Only PUBLIC_BASE_URL counts."""
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page = client.get("/my-data", base_url="http://127.0.0.1:8000", headers=forwarded)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                     page.get_data(as_text=True)).group(1)
    data = {"csrf_token": csrf, "email": "a@example.org"}
    ours = client.post("/my-data", base_url="http://127.0.0.1:8000", data=data,
                       headers={**forwarded, "Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"})
    assert ours.status_code == 302
    # An origin matching the Host header but not the configuration is someone else's.
    theirs = client.post("/my-data", base_url="https://evil.example", data=data,
                         headers={**forwarded, "Origin": "https://evil.example"})
    assert theirs.status_code == 403


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_plain_http_demo_checks_the_token_but_not_the_origin(app):
    """'make run' serves http://127.0.0.1: no Fetch Metadata there, localhost or
    127.0.0.1 alike; the token still guards every form."""
    client = app.test_client()
    browser = BrowserLikeClient(client, origin="http://localhost:5000")
    browser.open("/my-data", typed=True)
    assert browser.submit(fields={"email": "a@example.org"}).status_code == 302
    browser.open("/my-data", typed=True)
    assert browser.submit(fields={"email": "a@example.org", "csrf_token": None}
                          ).status_code == 400


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_a_get_never_changes_state(app, make_user):
    """Every URL that takes a POST, opened with GET (a link, an <img>, a prefetch):
    a page or 405, never a change."""
    slug = make_vacancy(app)
    browser = apply_as_browser(app, slug, consent_talent_pool="y")
    link = link_in(outbox(app)[-1])
    with app.app_context():
        public_id = db.session.scalar(select(Candidate.public_id))
    officer = staff_browser(app, make_user(role="admin"))
    recruiter = staff_browser(app, make_user(role="recruiter"))
    before = _state(app)
    for who, path in [
        (browser, f"{link}/withdraw"), (browser, f"{link}/object"), (browser, f"{link}/erase"),
        (browser, f"{link}/correct"), (recruiter, f"/candidates/{public_id}/status"),
        (recruiter, f"/candidates/{public_id}/notes"), (recruiter, f"/vacancies/{slug}/close"),
        (officer, f"/admin/candidates/{public_id}/hold"),
        (officer, f"/admin/candidates/{public_id}/erase"), (officer, "/admin/users/1"),
        (officer, "/logout"),
    ]:
        assert who.open(path).status_code in (200, 302, 404, 405), path
    assert _state(app) == before
    assert officer.open("/admin/users").status_code == 200  # GET /logout did not log out


@pytest.mark.parametrize(("config", "problem"), [
    ({"HTTPS": True, "PUBLIC_BASE_URL": ORIGIN}, None),
    ({"HTTPS": False, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, None),
    ({"HTTPS": True, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, "HTTPS is on"),
    ({"HTTPS": True, "PUBLIC_BASE_URL": "vault.example"}, "not an http(s) address"),
    ({"HTTPS": True, "PUBLIC_BASE_URL": ORIGIN, "TRUSTED_ORIGINS": ["staff"]}, "'staff'"),
])
def test_settings_that_would_refuse_every_form_are_named(config, problem):
    problems = origin_config_problems(config)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_the_app_warns_at_start_when_https_pages_could_post_no_form(tmp_path, caplog):
    from vault import create_app
    from vault.crypto import Keyring

    Keyring.generate().save(tmp_path / "keyring")
    with caplog.at_level(logging.WARNING, logger="vault.csrf"):
        create_app({"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}",
                    "HTTPS": True}, instance_path=str(tmp_path))
    assert "PUBLIC_BASE_URL" in caplog.text


@pytest.mark.app_config(**BROWSER_CONFIG)
def test_an_expired_form_on_a_post_only_url_links_back_to_the_page_it_was_on(app):
    browser, link = personal_link(app, consent_talent_pool="y")
    browser.open(link, typed=True)
    before = _state(app)
    response = browser.submit(link + "/withdraw", {"csrf_token": "expired-or-forged"})
    assert response.status_code == 400
    assert f'href="{link}">Back to the form</a>' in response.get_data(as_text=True)
    assert _state(app) == before
