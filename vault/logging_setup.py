"""Logging: request lines without paths that could carry a personal link's token."""

from __future__ import annotations

import logging
import re

from flask import Flask

# /my-data/<token>/... : the token is a credential; log the route shape, never the token.
_TOKEN_IN_PATH = re.compile(r"(/my-data/)[^/\s?\"]+")
_QUERY = re.compile(r"\?[^\s\"]*")


def redact(text: str) -> str:
    # Query strings can hold search terms (names): they are dropped from log lines too.
    return _QUERY.sub("?…", _TOKEN_IN_PATH.sub(r"\1…", text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact(str(record.msg))
        return True


def init_app(app: Flask) -> None:
    # Werkzeug's development server logs every request line with its full path.
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactingFilter())
    app.logger.addFilter(RedactingFilter())
