"""problem+json everywhere under /api/v1, the OpenAPI document and docs page, the CSRF
exemption, and the per-client rate limit (Redis, memory, Redis down)."""

from __future__ import annotations

import logging
import os
import socket

import pytest

from tests.api.conftest import bearer
from tests.conftest import TEST_REDIS
from vault.extensions import limiter

VACANCIES = "/api/v1/vacancies"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    return body


def test_an_unknown_api_path_is_a_404_problem(client):
    _problem(client.get("/api/v1/no-such-thing"), 404)


def test_a_wrong_method_is_a_405_problem_with_allow(client, make_client):
    _, token = make_client()
    response = client.delete(VACANCIES, headers=bearer(token))
    _problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_outside_the_api_errors_stay_html_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_an_invalid_query_is_a_422_problem_naming_the_field(client, make_client):
    _, token = make_client()
    body = _problem(client.get(VACANCIES + "?company=" + "x" * 500, headers=bearer(token)), 422)
    assert "company" in str(body["errors"])


def test_an_unexpected_error_is_a_500_problem_without_a_traceback(
    app, client, make_client, monkeypatch, caplog
):
    _, token = make_client()

    def broken(*args, **kwargs):
        raise RuntimeError("Qsecretmarker in the message")

    monkeypatch.setattr("vault.api.vacancies.job_board", broken)
    caplog.set_level(logging.ERROR)
    body = _problem(client.get(VACANCIES, headers=bearer(token)), 500)
    assert "Qsecretmarker" not in str(body)
    assert not any("Qsecretmarker" in r.getMessage() for r in caplog.records)


def test_the_openapi_document_is_3_1_and_describes_every_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    operations = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert {
        ("GET", "/api/v1/vacancies"),
        ("POST", "/api/v1/applications"),
        ("GET", "/api/v1/candidates"),
        ("GET", "/api/v1/candidates/{public_id}"),
        ("GET", "/api/v1/candidates/{public_id}/cv"),
    } <= operations
    scheme = spec["components"]["securitySchemes"]["bearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    post = spec["paths"]["/api/v1/applications"]["post"]
    assert post["security"] == [{"bearerToken": ["applications:write"]}]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in post["parameters"])
    unauthorised = spec["components"]["responses"]["UNAUTHORIZED"]
    assert list(unauthorised["content"]) == ["application/problem+json"]


def test_the_docs_page_needs_no_other_site_and_passes_the_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "POST /api/v1/applications" in page and "applications:write" in page
    assert 'id="problem-idempotency-key-reused"' in page
    assert (
        "<script" not in page
        and "http://" not in page.replace("http://localhost", "")
        and "https://" not in page
    )
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


REDIS_PREFIX = "vault-api-test-" + os.urandom(4).hex()


@pytest.fixture
def fresh_limiter():
    limiter._storage_dead = False
    yield
    limiter._storage_dead = False


def _calls(client, token, n):
    return [client.get(VACANCIES, headers=bearer(token)) for _ in range(n)]


@pytest.mark.app_config(
    RATELIMIT_ENABLED=True,
    RATELIMIT_API="3 per minute",
    RATELIMIT_STORAGE_URI=TEST_REDIS,
    RATELIMIT_KEY_PREFIX=REDIS_PREFIX,
)
def test_the_per_client_limit_lives_in_redis_and_answers_429_with_retry_after(
    app, client, make_client, redis_url, fresh_limiter
):
    import redis

    _, token = make_client()
    _, other = make_client(name="Other")
    server = redis.Redis.from_url(redis_url)
    try:
        responses = _calls(client, token, 4)
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        body = _problem(responses[-1], 429)
        assert body["type"].endswith("#problem-rate-limited")
        assert int(responses[-1].headers["Retry-After"]) > 0
        # Per client: another client's budget is its own.
        assert client.get(VACANCIES, headers=bearer(other)).status_code == 200
        assert list(server.scan_iter(f"*{REDIS_PREFIX}*api-client*"))
    finally:
        for key in server.scan_iter(f"*{REDIS_PREFIX}*"):
            server.delete(key)


@pytest.mark.app_config(
    RATELIMIT_ENABLED=True,
    RATELIMIT_API="3 per minute",
    RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_free_port()}",
)
def test_with_redis_down_calls_still_work_and_stay_limited_per_worker(
    app, client, make_client, caplog, fresh_limiter
):
    # Safe in both directions: no call fails because the store is down, and the limit
    # still holds (in this worker's memory), with an error logged for the operator.
    caplog.set_level(logging.WARNING)
    _, token = make_client()
    assert [r.status_code for r in _calls(client, token, 4)] == [200, 200, 200, 429]
    alarms = [r for r in caplog.records if getattr(r, "event", None) == "rate_limit.fallback"]
    assert alarms and alarms[0].levelno == logging.ERROR


@pytest.mark.app_config(RATELIMIT_ENABLED=True, RATELIMIT_API="2 per minute")
def test_a_refused_scope_still_counts_against_the_limit(app, client, make_client):
    _, token = make_client(["erasures:read"])
    assert [r.status_code for r in _calls(client, token, 3)] == [403, 403, 429]


@pytest.mark.app_config(
    RATELIMIT_ENABLED=True,
    RATELIMIT_API="100 per minute",
    RATELIMIT_API_AUTH_FAILURES="3 per minute",
)
def test_refused_tokens_are_limited_per_address_before_any_lookup_or_audit(
    app, client, make_client, fresh_limiter
):
    from sqlalchemy import func, select

    from vault.extensions import db
    from vault.models import AuditEvent

    _, token = make_client()
    key_id = token.split("_")[1]
    wrong = f"vlt_{key_id}_{'0' * 64}"  # a known key id with a wrong secret
    statuses = [r.status_code for r in _calls(client, wrong, 5)]
    assert statuses == [401, 401, 401, 429, 429]
    _problem(client.get(VACANCIES, headers=bearer(wrong)), 429)
    with app.app_context():
        audited = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "api.call")
        )
    assert audited == 3  # the refused calls past the budget wrote nothing
    # Per address: the client calling from its own address is served.
    served = client.get(VACANCIES, headers=bearer(token), environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert served.status_code == 200


@pytest.mark.app_config(
    RATELIMIT_ENABLED=True,
    RATELIMIT_API="100 per minute",
    RATELIMIT_API_AUTH_FAILURES="2 per minute",
)
def test_refused_tokens_are_limited_and_valid_calls_are_not_counted(
    app, client, make_client, fresh_limiter
):
    _, token = make_client()
    # Calls with a valid token are never counted against the refused-token budget.
    assert [r.status_code for r in _calls(client, token, 5)] == [200] * 5
    statuses = [r.status_code for r in _calls(client, "vlt_nothing", 4)]
    assert statuses == [401, 401, 429, 429]
    body = _problem(client.get(VACANCIES), 429)
    assert body["type"].endswith("#problem-rate-limited")
    assert "refused for their token" in body["detail"]
    assert int(client.get(VACANCIES).headers["Retry-After"]) > 0
    # Once the address spent its budget, it is refused before its token is looked at.
    assert client.get(VACANCIES, headers=bearer(token)).status_code == 429


@pytest.mark.app_config(
    RATELIMIT_ENABLED=True,
    RATELIMIT_API="100 per minute",
    RATELIMIT_API_AUTH_FAILURES="3 per minute",
    RATELIMIT_STORAGE_URI=TEST_REDIS,
    RATELIMIT_KEY_PREFIX=REDIS_PREFIX,
)
def test_refused_tokens_are_counted_in_redis(app, client, redis_url, fresh_limiter):
    import redis

    server = redis.Redis.from_url(redis_url)
    try:
        statuses = [r.status_code for r in _calls(client, "vlt_nothing", 4)]
        assert statuses == [401, 401, 401, 429]
        assert list(server.scan_iter(f"*{REDIS_PREFIX}*api-auth-failure*"))
    finally:
        for key in server.scan_iter(f"*{REDIS_PREFIX}*"):
            server.delete(key)


@pytest.mark.app_config(
    RATELIMIT_ENABLED=True,
    RATELIMIT_API="100 per minute",
    RATELIMIT_API_AUTH_FAILURES="3 per minute",
    RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_free_port()}",
)
def test_with_redis_down_refused_tokens_stay_limited_per_worker(
    app, client, make_client, caplog, fresh_limiter
):
    # The limiter's own fallback: with the store down, refused tokens are still counted
    # (in this worker's memory), from the very first call, and valid calls still work.
    caplog.set_level(logging.WARNING)
    _, token = make_client()
    statuses = [r.status_code for r in _calls(client, "vlt_nothing", 4)]
    assert statuses == [401, 401, 401, 429]
    served = client.get(VACANCIES, headers=bearer(token), environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert served.status_code == 200
    alarms = [r for r in caplog.records if getattr(r, "event", None) == "rate_limit.fallback"]
    assert alarms


def test_every_problem_type_the_api_raises_is_documented(client):
    """A problem's `type` points at its entry on the docs page: each kind of problem a
    module of vault/api raises is in PROBLEM_TYPES and so on that page."""
    import re
    from pathlib import Path

    import vault.api
    from vault.api.problems import PROBLEM_TYPES

    sources = Path(vault.api.__file__).parent.glob("*.py")
    raised = {k for f in sources for k in re.findall(r'kind="([a-z-]+)"', f.read_text())}
    assert {"bad-cursor", "ledger-unavailable"} <= raised
    assert raised - PROBLEM_TYPES.keys() == set()
    page = client.get("/api/v1/docs").get_data(as_text=True)
    for kind in raised:
        assert f'id="problem-{kind}"' in page


def test_the_docs_page_is_drawn_once_and_then_served_as_kept(app, client):
    from vault.api.docs import PAGE

    assert PAGE not in app.extensions
    first = client.get("/api/v1/docs")
    assert first.status_code == 200
    kept = app.extensions[PAGE]
    again = client.get("/api/v1/docs")
    assert first.get_data(as_text=True) == again.get_data(as_text=True) == kept
    assert app.extensions[PAGE] is kept


def test_the_api_limits_are_in_the_defaults_table():
    from vault.config import DEFAULTS

    assert DEFAULTS["RATELIMIT_API"] == "120 per minute"
    assert DEFAULTS["RATELIMIT_API_AUTH_FAILURES"] == "30 per minute"
