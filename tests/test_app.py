from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vault import SetupRequired, create_app
from vault.extensions import db


def test_every_page_carries_the_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.app_config(HTTPS=True, WTF_CSRF_ENABLED=True, PROXY_HOPS=1,
                        PUBLIC_BASE_URL="https://vault.example")
def test_forms_posted_over_https_from_the_page_itself_pass_the_csrf_check(client):
    import re

    page = client.get("/my-data", base_url="https://vault.example")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    # What a browser sends under the page's Referrer-Policy for a same-origin form.
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in page.text  # overrides the header
    response = client.post("/my-data", base_url="https://vault.example",
                           data={"csrf_token": token, "email": "a@example.org"},
                           headers={"Referer": "https://vault.example/my-data"})
    assert response.status_code == 302


def test_hsts_is_sent_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_stylesheet_is_served_by_the_app(client):
    response = client.get("/static/vault.css")
    assert response.status_code == 200
    assert b"--accent" in response.data


def test_health_check_reports_database_and_keyring(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True, "keyring": True}


def test_unknown_page_gets_a_generic_error_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Not found" in response.data
    assert b"Traceback" not in response.data


@pytest.mark.app_config(HTTPS=True)
def test_cookies_are_secure_in_production(app):
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_debug_is_off_by_default(app):
    assert app.debug is False


def test_app_refuses_to_start_without_secrets(tmp_path):
    with pytest.raises(SetupRequired, match="vault init"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}"},
                   instance_path=str(tmp_path))


def test_app_refuses_to_start_without_keyring_even_with_secret_key(tmp_path):
    with pytest.raises(SetupRequired, match="keyring"):
        create_app({"SECRET_KEY": "x" * 32, "DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}"},
                   instance_path=str(tmp_path))


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        # Search structures of one database only, kept by migrations and triggers, not by
        # the models: SQLite's FTS5 table, PostgreSQL's token array and its GIN index.
        context = MigrationContext.configure(conn, opts={
            "include_name": lambda name, *_: not (name or "").startswith(
                ("candidate_search", "token_ids", "candidate_token_ids"))})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.mark.app_config(PROXY_HOPS=1, RATELIMIT_ENABLED=True, RATELIMIT_LINK_REQUEST="1 per hour")
def test_behind_one_proxy_limits_apply_per_forwarded_client(client):
    def ask(address):
        return client.post("/my-data", data={"email": "a@example.org"},
                           headers={"X-Forwarded-For": address}).status_code

    assert [ask("203.0.113.1"), ask("203.0.113.1"), ask("203.0.113.2")] == [302, 429, 302]
