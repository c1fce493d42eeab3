from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest

from tests.journey import MARK_CV, MARK_EMAIL, MARK_NAME, apply, link_in, make_vacancy, outbox
from vault.logging_setup import (
    TOKEN_ROUTE_PREFIXES,
    DevServerRequestFilter,
    JsonFormatter,
    RedactingFilter,
    RequestContextFilter,
    redact,
)

PHONE = "+32 470 11 22 33"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def logs(app) -> Iterator[_Lines]:
    """Every record any logger writes during the test, as the JSON lines production writes."""
    handler = _Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def test_request_line_keeps_only_the_first_segment_of_a_token_path():
    line = '"GET /my-data/eyJwIjoiYWJjIn0.Zx1.sig/export.zip HTTP/1.1" 200 -'
    assert redact(line) == '"GET /my-data/… HTTP/1.1" 200 -'


def test_renewal_token_is_redacted_from_request_lines_and_free_text():
    assert "abc.DEF" not in redact('"POST /consent/renew/abc.DEF-sig HTTP/1.1" 302 -')
    assert redact("Exception on /consent/renew/abc.DEF-sig [POST]") == (
        "Exception on /consent/renew/… [POST]")


def test_search_query_with_quotes_leaks_nothing():
    line = '"GET /candidates?q=Anna"+"Peeters page=2 HTTP/1.1" 200 -'
    redacted = redact(line)
    assert "Anna" not in redacted and "Peeters" not in redacted
    assert redact('bad request (\'GET /candidates?q="Anna Peeters" HTTP/1.1\')').count("Anna") == 0


def test_filter_redacts_arguments_of_werkzeug_records():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - "%s" %s',
                               ("127.0.0.1", "GET /my-data/secret-token HTTP/1.1", "200"), None)
    RedactingFilter().filter(record)
    assert "secret-token" not in record.getMessage()


def test_dev_server_request_lines_are_dropped():
    address = '127.0.0.1 - - [27/Nov/2026 10:00:00] "%s" %s %s\n'
    request_line = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, address,
                                     ("GET /my-data/t HTTP/1.1", "200", "-"), None)
    banner = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               " * Running on http://127.0.0.1:5000", None, None)
    assert DevServerRequestFilter().filter(request_line) is False
    assert DevServerRequestFilter().filter(banner) is True


def test_every_route_with_a_token_is_covered_by_the_redaction_prefixes(app):
    token_rules = [r.rule for r in app.url_map.iter_rules() if "token" in r.arguments]
    assert token_rules
    for rule in token_rules:
        assert rule.startswith(TOKEN_ROUTE_PREFIXES), rule


def test_json_line_keeps_the_frames_but_not_the_exception_message():
    try:
        raise ValueError(f"bad phone for {MARK_NAME}")
    except ValueError:
        record = logging.LogRecord("vault", logging.ERROR, __file__, 1, "unhandled %s",
                                   ("ValueError",), exc_info=__import__("sys").exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["level"] == "ERROR" and event["exception"] == "ValueError"
    assert any("test_json_line_keeps_the_frames" in frame for frame in event["traceback"])
    assert MARK_NAME not in line


def test_each_request_is_one_event_with_route_template_status_and_request_id(client, logs):
    response = client.get("/my-data/not.a-valid.token")
    request_id = response.headers["X-Request-ID"]
    events = [e for e in logs.events() if e.get("event") == "request"]
    assert len(events) == 1
    event = events[0]
    assert event["route"] == "/my-data/<token>" and event["status"] == response.status_code
    assert event["request_id"] == request_id and event["duration_ms"] >= 0
    assert event["method"] == "GET" and "time" in event and event["level"] == "INFO"
    assert "not.a-valid" not in "".join(logs.lines)


def test_request_id_from_the_proxy_is_kept_and_a_forged_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"})
    assert kept.headers["X-Request-ID"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    forged = client.get("/healthz", headers={"X-Request-ID": '"} {"level": "ERROR"'})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])


def test_staff_requests_carry_the_user_id(app, client, make_user, login, logs):
    user_id = make_user()
    login(client, user_id)
    client.get("/candidates")
    events = [e for e in logs.events() if e.get("route") == "/candidates"]
    assert events and events[-1]["user_id"] == user_id


@pytest.mark.app_config(TESTING=False)
def test_unhandled_error_is_logged_with_its_request_id_and_frames_only(app, client, logs):
    def explode():
        raise RuntimeError(f"cannot index {MARK_EMAIL}")

    app.add_url_rule("/explode/<token>", "explode", lambda token: explode())
    response = client.get("/explode/tok-123456789")
    assert response.status_code == 500
    errors = [e for e in logs.events() if e["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == response.headers["X-Request-ID"]
    assert errors[0]["route"] == "/explode/<token>"
    assert any("in explode" in frame for frame in errors[0]["traceback"])
    text = "\n".join(logs.lines)
    assert MARK_EMAIL not in text and "tok-123456789" not in text


def test_a_whole_journey_logs_no_personal_value_token_or_query(app, client, make_user, login,
                                                                logs):
    from vault.personal_links import renewal_url

    slug = make_vacancy(app)
    assert apply(client, slug, consent_talent_pool="y").status_code == 302
    link = link_in(outbox(app)[-1])
    token = link.rsplit("/", 1)[1]
    assert client.get(link).status_code == 200
    assert client.get(f"{link}/export.json").status_code == 200
    client.post("/my-data", data={"email": MARK_EMAIL})
    with app.test_request_context():
        from vault.extensions import db
        from vault.models import Candidate

        public_id = db.session.query(Candidate.public_id).scalar()
        renew_path = "/" + renewal_url(public_id).split("/", 3)[3]
    client.get(renew_path)
    renew_token = renew_path.rsplit("/", 1)[1]

    staff = app.test_client()
    login(staff, make_user())
    assert staff.get(f'/candidates?q="{MARK_NAME}" Kafka').status_code == 200
    assert staff.get(f"/candidates/{public_id}").status_code == 200
    staff.get(f"/candidates/{public_id}/cv")

    text = "\n".join(logs.lines)
    assert len([e for e in logs.events() if e.get("event") == "request"]) >= 8
    for secret in (MARK_NAME, MARK_EMAIL, MARK_CV, PHONE, "Ghent", token, renew_token,
                   "Kafka", "q="):
        assert secret not in text, secret
