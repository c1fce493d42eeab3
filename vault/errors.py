"""Generic error pages: nothing about the request, the data or the code is shown."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from vault.auth.redirects import safe_next
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.csrf import CrossOriginRequest, local_referrer
from vault.extensions import db
from vault.keys import KeysChanged, note_unavailable
from vault.messages import message

log = logging.getLogger(__name__)

# Translated when the page is rendered, in the visitor's language.
TITLES: dict[int, LazyString] = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Not possible"),
    410: _l("Expired"),
    413: _l("File too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Not available"),
}
# Message keys, translated when the page is rendered (in the visitor's language).
TEXTS = {413: "too_large", 429: "rate_limited"}


def render_error(code: int, text: str | None = None, *,
                 back: str | None = None) -> tuple[str, int]:
    """The error page; `back` is a local path to offer instead of the start page."""
    default_text = message(TEXTS[code]) if code in TEXTS else ""
    return render_template("error.html", code=code, title=str(TITLES.get(code, _l("Error"))),
                           text=text or default_text, back=back or "/",
                           back_label=message("back_to_form" if back else "back_to_start")
                           ), code


def _http_error(exc: HTTPException) -> tuple[str, int]:
    return render_error(exc.code or 500)


def _form_page() -> str | None:
    """Where the form that failed the token check can be reloaded: the page it was on
    (our Referrer-Policy lets browsers name it to us), else the URL it was posted to
    when that URL also shows it."""
    rule = request.url_rule
    own_page = request.path if rule is not None and "GET" in (rule.methods or ()) else None
    return safe_next(local_referrer()) or own_page


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    if isinstance(exc, CrossOriginRequest):
        # No link back to the sending page: it belongs to someone else.
        return render_error(403, message("csrf_cross_origin"))
    return render_error(400, message("csrf"), back=_form_page())


def _keys_changed(exc: KeysChanged) -> tuple[str, int, dict[str, str]]:
    # A record was rewrapped by a KEK version this worker's keyring (VAULT_KEYRING) does
    # not hold yet: the data is intact and a restarted worker opens it. Say so and ask
    # the browser to retry, rather than a 500 that reads like lost data.
    log.warning("a data key is wrapped by a KEK version newer than this worker's keyring: "
                "restart the workers with the new VAULT_KEYRING")
    page, code = render_error(503, message("keys_changed"))
    return page, code, {"Retry-After": "30"}


def _key_manager_unavailable(exc: KeyManagerUnavailable) -> tuple[str, int, dict[str, str]]:
    # The key manager holding the KEKs is down or unreachable: no key could be unwrapped
    # or wrapped, the request's transaction is rolled back (nothing half-written), and the
    # same request works once it answers again. /readyz names it meanwhile.
    db.session.rollback()
    note_unavailable(exc)  # logged when the reason changes, not on every request
    page, code = render_error(503, message("key_manager_unavailable"))
    return page, code, {"Retry-After": "30"}


def _unexpected(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    # The class and the frames (JsonFormatter writes no exception message: it could quote
    # personal data); the record carries the request id, so the failing request is found.
    log.error("unhandled %s", exc.__class__.__name__, exc_info=exc)
    return render_error(500)


def init_app(app: Flask) -> None:
    # Flask finds handlers by status code first: the 403 subclass needs its own entry.
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(CrossOriginRequest, _csrf_error)
    app.register_error_handler(KeysChanged, _keys_changed)
    app.register_error_handler(KeyManagerUnavailable, _key_manager_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _http_error)
    if not app.testing:
        app.register_error_handler(Exception, _unexpected)
