"""gunicorn's logger, writing the same JSON lines as the app (gunicorn.conf.py uses it).

The access line is built from the fields the app left in the WSGI environ (route
template, request id, staff user id), never from the request line: gunicorn's own
atoms %(r)s, %(U)s and %(q)s carry the path's tokens and the query's search terms.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from vault.logging_setup import ENVIRON_KEY, JsonFormatter


class JsonLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # Error lines (worker boots, timeouts, bad request lines) are JSON and redacted too.
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any],
               request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        fields: dict[str, Any] = dict(environ.get(ENVIRON_KEY) or {})
        if not fields:
            # Answered before the app saw it (or by the app's static middleware): the
            # method is safe to log, the path is not.
            fields = {"method": environ.get("REQUEST_METHOD"), "route": "<not routed>"}
        fields["status"] = resp.status_code
        fields["duration_ms"] = round(request_time.total_seconds() * 1000, 2)
        fields["bytes"] = getattr(resp, "sent", None)
        self.access_log.log(logging.INFO, "%s %s %s", fields["method"], fields["route"],
                            fields["status"], extra={"event": "request", **fields})
