"""Generic error pages: nothing about the request, the data or the code is shown."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from vault.messages import message

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Not possible",
    410: "Expired",
    413: "File too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Not available",
}
TEXTS = {
    413: message("too_large"),
    429: message("rate_limited"),
}


def render_error(code: int, text: str | None = None) -> tuple[str, int]:
    return render_template("error.html", code=code, title=TITLES.get(code, "Error"),
                           text=text or TEXTS.get(code, "")), code


def _http_error(exc: HTTPException) -> tuple[str, int]:
    return render_error(exc.code or 500)


def _csrf_error(_exc: CSRFError) -> tuple[str, int]:
    return render_error(400, message("csrf"))


def _unexpected(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    # The class and the frames (JsonFormatter writes no exception message: it could quote
    # personal data); the record carries the request id, so the failing request is found.
    log.error("unhandled %s", exc.__class__.__name__, exc_info=exc)
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _http_error)
    if not app.testing:
        app.register_error_handler(Exception, _unexpected)
