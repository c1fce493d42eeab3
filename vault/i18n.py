"""Languages and Belgian dates: Flask-Babel, the locale choice and the date filters.

The language comes from the person's own choice first (the switcher on every page sets
`?lang=xx`, remembered in the session cookie), else from Accept-Language, else English.
Dates and times are written as people in Belgium read them (27/11/2026, 14:05, in
Europe/Brussels) in every language; exports and the audit CSV keep ISO 8601.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from flask import Flask, has_request_context, request, session
from flask_babel import force_locale, format_date, format_datetime, format_time, get_locale

from vault.extensions import babel
from vault.local_zone import LOCAL_ZONE_NAME
from vault.messages import label

LANGUAGES: tuple[str, ...] = ("nl", "fr", "en")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES: dict[str, str] = {"nl": "Nederlands", "fr": "Français", "en": "English"}
SESSION_KEY = "lang"
DATE_PATTERN = "dd/MM/yyyy"
TIME_PATTERN = "HH:mm"


def select_locale() -> str:
    """The person's choice, else their browser's best match among ours, else English."""
    if not has_request_context():
        # Mails built by the sender thread pass their language with in_language().
        return DEFAULT_LANGUAGE
    chosen = request.args.get(SESSION_KEY) or session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES \
        else DEFAULT_LANGUAGE


def remember_choice() -> None:
    """Keep the switcher's choice for the next pages. Only a known two-letter code is
    stored: the value is echoed into <html lang> and links."""
    chosen = request.args.get(SESSION_KEY)
    if chosen in LANGUAGES and session.get(SESSION_KEY) != chosen:
        session[SESSION_KEY] = chosen


def switch_links() -> list[tuple[str, str, str, bool]]:
    """(code, name, URL of this page in that language, is current) for the switcher.

    Plain links (no JavaScript) to the same path and query; after a POST (a form shown
    again with its errors) that is the form's own GET page."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != SESSION_KEY]
    current = current_language()
    return [(code, LANGUAGE_NAMES[code],
             f"{request.path}?{urlencode([*args, (SESSION_KEY, code)])}", code == current)
            for code in LANGUAGES]


def language_or_default(code: str | None) -> str:
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@contextmanager
def in_language(code: str | None) -> Iterator[None]:
    """Render a mail in its recipient's language, whatever the request's."""
    with force_locale(language_or_default(code)):
        yield


def _as_datetime(value: datetime | date | str) -> datetime | date:
    if isinstance(value, str):
        # A bare day (2026-11-27) is a day, not midnight UTC.
        value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        # The vault stores naive UTC (vault.appctx.now).
        value = value.replace(tzinfo=UTC)
    return value


def show_date(value: datetime | date | str | None) -> str:
    """27/11/2026; a datetime is first moved to Europe/Brussels (its day may change)."""
    if value is None or value == "":
        return ""
    value = _as_datetime(value)
    if isinstance(value, datetime):
        return format_datetime(value, DATE_PATTERN)
    return format_date(value, DATE_PATTERN)


def show_time(value: datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    return format_time(_as_datetime(value), TIME_PATTERN)


def show_datetime(value: datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    return format_datetime(_as_datetime(value), f"{DATE_PATTERN} {TIME_PATTERN}")


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", LOCAL_ZONE_NAME)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(remember_choice)
    app.jinja_env.filters["show_date"] = show_date
    app.jinja_env.filters["show_time"] = show_time
    app.jinja_env.filters["show_datetime"] = show_datetime
    app.jinja_env.filters["label"] = label
    # Whitespace inside {% trans %} blocks is folded, so template line breaks stay out
    # of the message ids.
    app.jinja_env.policies["ext.i18n.trimmed"] = True

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {"current_locale": current_language(), "language_links": switch_links}
