"""RFC 9457 problem details: every error under /api/v1 is `application/problem+json`.

The app's error handlers draw HTML pages. Under /api/v1 a client reads JSON, so each of
those handlers is wrapped: for an API path the wrapper answers with a problem document
(type, title, status, detail), never HTML and never a traceback; for every other path it
calls the page handler as before. Unexpected exceptions under /api/v1 become a 500
problem even in testing (they are logged with their frames), so that no client ever sees
a traceback and the generated tests count them as server errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, json, request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.extensions import db
from vault.keys import KeysChanged, note_unavailable

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"
# Problem types of our own (relative references, RFC 9457 section 3.1.1), documented on
# the docs page; plain HTTP errors use "about:blank" with the status phrase as title.
TYPE_BASE = "/api/v1/docs#problem-"
# Every problem type of our own, with what it means (listed on the docs page).
PROBLEM_TYPES: dict[str, str] = {
    "unauthorised": "No token, or one that is malformed, unknown, expired or revoked (401).",
    "insufficient-scope": "The token is valid but lacks the operation's scope (403).",
    "rate-limited": "Too many calls by this client; wait Retry-After seconds (429).",
    "invalid-request": "Query or body does not match the operation's schema (422).",
    "invalid-application": "The application was refused; `errors` names each field and "
    "why. Nothing was stored (422).",
    "idempotency-key-required": "A POST without a usable Idempotency-Key header (400).",
    "idempotency-key-reused": "The Idempotency-Key came before with other content (422).",
    "idempotency-key-in-use": "Another request with this key is being processed (409).",
    "not-found": "Nothing of yours has this id (404).",
    "bad-cursor": "The `after` value of a paged list is not one this API gave (400).",
    "ledger-unavailable": "The erasure ledger cannot be read for a moment; retry "
    "later (503).",
    "transfer-closed": "Your company's system took this file more than 24 hours ago (410).",
    "keys-unavailable": "The encryption keys cannot be reached for a moment; nothing was "
    "stored. Retry after Retry-After seconds (503).",
    "not-initialised": "The vault is not set up yet (503).",
}


class ApiProblem(HTTPException):
    """An error a view raises with a specific problem type and detail."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.kind = kind
        self.title = title
        self.extra_headers = headers or {}
        self.extra = extra or {}


def is_api_request() -> bool:
    path = request.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def problem(
    status: int,
    detail: str = "",
    *,
    kind: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": TYPE_BASE + kind if kind else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail or phrase,
    }
    body.update(extra or {})
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def key_manager_unavailable() -> Response:
    return problem(503, "The encryption keys cannot be reached right now; retry later.",
                   kind="keys-unavailable", title="Keys unavailable",
                   headers={"Retry-After": "30"})


def _validation_errors(exc: HTTPException) -> dict[str, Any] | None:
    # flask-smorest (webargs) puts what failed validation in exc.data: field names and
    # the validator's messages, never the submitted values.
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        errors = data.get("errors") or data.get("messages")
        if isinstance(errors, dict):
            return errors
    return None


def problem_for(exc: BaseException) -> Response:
    if isinstance(exc, ApiProblem):
        return problem(
            exc.code or 400,
            exc.description or "",
            kind=exc.kind,
            title=exc.title,
            headers=exc.extra_headers,
            extra=exc.extra,
        )
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        # Werkzeug's own headers (Allow on a 405, Retry-After where set), not its type.
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        errors = _validation_errors(exc)
        if errors is not None:
            return problem(
                422,
                "The request does not match the schema of this operation.",
                kind="invalid-request",
                title="Invalid request",
                extra={"errors": errors},
            )
        if status == 429:
            # Retry-After comes from the limiter (RATELIMIT_HEADERS_ENABLED). A limit with
            # a message of its own (refused tokens per address, vault.api.auth) says it.
            own = isinstance(exc, RateLimitExceeded) and exc.limit.error_message
            return problem(
                429,
                exc.description if own and exc.description
                else "This client made too many calls; retry after the time in Retry-After.",
                kind="rate-limited",
                title="Too many requests",
                headers=headers,
            )
        # Werkzeug's descriptions are generic sentences; no request data is in them.
        detail = exc.description if status < 500 else ""
        return problem(status, detail or "", headers=headers)
    if isinstance(exc, KeyManagerUnavailable | KeysChanged):
        # As on the web pages: nothing was written (rolled back), and the same call
        # works once the key manager answers again, so the client is told to retry.
        db.session.rollback()
        if isinstance(exc, KeyManagerUnavailable):
            note_unavailable(exc)  # logged when the reason changes, not on every request
        else:
            log.warning("a data key is wrapped by a KEK version newer than this worker's "
                        "keyring: restart the workers with the new VAULT_KEYRING")
        return key_manager_unavailable()
    # The class and the frames only: an exception message could quote personal data.
    log.error("unhandled %s under the API", exc.__class__.__name__, exc_info=exc)
    db.session.rollback()
    return problem(500, "The server could not answer this request.")


def _api_aware(handler: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def handle(exc: BaseException) -> Any:
        if is_api_request():
            return problem_for(exc)
        if handler is None:
            raise exc
        return handler(exc)

    return handle


def init_app(app: Flask) -> None:
    """Wrap every error handler the app has (call after vault.errors.init_app), and add
    catch-alls for HTTP errors and unexpected exceptions under /api/v1."""
    spec = app.error_handler_spec.setdefault(None, {})
    for handlers in spec.values():
        for exc_class, handler in list(handlers.items()):
            handlers[exc_class] = _api_aware(handler)
    known = spec.get(None, {})
    if HTTPException not in known:
        app.register_error_handler(HTTPException, _api_aware(None))
    if Exception not in known:
        # Outside /api/v1 the exception is raised again: the web pages keep Flask's own
        # handling (a traceback in tests, the 500 page in production).
        app.register_error_handler(Exception, _api_aware(None))
