"""Logging: one JSON object per line, tied to a request id, with no token, query string
or personal value in it.

Request events name the route *template* (`/my-data/<token>`), never the path that was
asked for: paths carry personal links' tokens and query strings carry search terms
(names). Text that comes from elsewhere (a server's error about a bad request line, a
library's message) still passes through `redact` before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# WSGI environ key where the app leaves what the server's access log may write
# (gunicorn's logger reads it: see vault/gunicorn_logging.py).
ENVIRON_KEY = "vault.request_log"
# An id from the proxy (nginx's $request_id) is kept so both logs can be joined; anything
# else a client sends is replaced, so a forged header cannot inject text into the logs.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}\Z")

# Routes whose path holds a credential (a personal link's signed token, a staff password
# link). Their paths are cut to this prefix wherever a raw path turns up in text; a test
# checks the list covers every route with a <token> argument.
TOKEN_ROUTE_PREFIXES = ("/my-data/", "/consent/renew/", "/password/set/")
_METHODS = "GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE"
# A request line: everything between the method and " HTTP/x" is the target, which may
# hold quotes and any other byte a client sent; only its first segment is kept.
_REQUEST_LINE = re.compile(rf"\b({_METHODS}) (/[^/\s?\"]*)(.*?)(?= HTTP/\d)")
_TOKEN_PATH = re.compile(
    "(" + "|".join(re.escape(p) for p in TOKEN_ROUTE_PREFIXES) + r")[^\s\"'\]]+")
# A query string (search terms) up to the end of the token: dropped entirely.
_QUERY = re.compile(r"\?(?=\S)[^\s]*")

# Fields a record may carry beyond its message; anything else is not written.
_FIELDS = ("event", "request_id", "method", "route", "endpoint", "status", "duration_ms",
           "user_id", "bytes", "check")


def _cut_target(match: re.Match[str]) -> str:
    method, first, rest = match.groups()
    return f"{method} {first}{'' if not rest else '?…' if rest[0] == '?' else '/…'}"


def redact(text: str) -> str:
    """Cut token-bearing paths, request targets and query strings out of free text."""
    text = _REQUEST_LINE.sub(_cut_target, text)
    text = _TOKEN_PATH.sub(r"\1…", text)
    return _QUERY.sub("?…", text)


def _frames_only(exc_info: Any) -> list[str]:
    # The exception's message can quote personal data (a value that failed validation, a
    # statement's parameters): the traceback keeps where it happened, never what it said.
    _type, _value, tb = exc_info
    return [f"{frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(tb)]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for field in _FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                event[field] = value
        if record.exc_info and record.exc_info[0] is not None:
            event["exception"] = record.exc_info[0].__name__
            event["traceback"] = _frames_only(record.exc_info)
        return json.dumps(event, ensure_ascii=False, default=str)


class RequestContextFilter(logging.Filter):
    """Adds the current request's id, route template and staff user id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            for key, value in request_fields().items():
                if getattr(record, key, None) is None:
                    setattr(record, key, value)
        return True


class RedactingFilter(logging.Filter):
    """For handlers that do not use JsonFormatter: redacts message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        record.msg = redact(str(record.msg))
        return True


class DevServerRequestFilter(logging.Filter):
    """Drops the development server's own request lines (`"GET /path HTTP/1.1" 200 -`):
    they name the raw path; the app's `request` event replaces them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).rstrip().endswith('"%s" %s %s')


class RateLimitFallbackAlarm(logging.Filter):
    """Flask-Limiter warns once when its store (Redis) stops answering and it falls back
    to per-worker memory: limits then no longer hold across workers. That is an error an
    operator must see, not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "falling back to in-memory" in str(record.msg):
            record.levelno, record.levelname = logging.ERROR, "ERROR"
            record.event = "rate_limit.fallback"
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def json_handler() -> logging.Handler:
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    return handler


def configure_root(level: str) -> None:
    """Route every logger (app, werkzeug, SQLAlchemy, Flask-Limiter) to one JSON handler."""
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        root.addHandler(json_handler())
    root.setLevel(level)


def request_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {
        "request_id": g.get("request_id"),
        "method": request.method,
        # The template, never the path: /my-data/<token> says which page without the token.
        "route": request.url_rule.rule if request.url_rule else "<unmatched>",
    }
    user = g.get("_login_user")  # only if the request loaded it: no query just for logs
    if user is not None and getattr(user, "is_authenticated", False):
        # The row id: get_id() is the session token (a credential), never logged.
        fields["user_id"] = user.id
    return fields


def _start_request() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _finish_request(response: Response) -> Response:
    if "request_id" not in g:  # a response made before our before_request ran
        return response
    response.headers[REQUEST_ID_HEADER] = g.request_id
    fields = request_fields()
    fields["status"] = response.status_code
    fields["duration_ms"] = round((time.perf_counter() - g.request_started) * 1000, 2)
    # The server's access log (gunicorn) reads these instead of the raw request line.
    request.environ[ENVIRON_KEY] = fields
    if current_app.config["REQUEST_LOG"] == "app":
        logging.getLogger("vault.request").info(
            "%s %s %s", fields["method"], fields["route"], fields["status"],
            extra={"event": "request", **fields})
    return response


def init_app(app: Flask) -> None:
    if app.config["LOG_JSON"]:
        configure_root(str(app.config["LOG_LEVEL"]))
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, DevServerRequestFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(DevServerRequestFilter())
        werkzeug_log.addFilter(RedactingFilter())
    app.logger.addFilter(RedactingFilter())
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, RateLimitFallbackAlarm) for f in limiter_log.filters):
        limiter_log.addFilter(RateLimitFallbackAlarm())
    app.before_request(_start_request)
    app.after_request(_finish_request)
