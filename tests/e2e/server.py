"""The app served the way production serves it: TLS in front, on 127.0.0.1.

One server for the whole test session (a throw-away certificate, werkzeug's threaded
server); each test mounts its own app (its own database, outbox and clock) on it, so the
tests stay independent while the server and the browser start once.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.datastructures import EnvironHeaders
from werkzeug.serving import make_server


class TLSServer:
    """https://127.0.0.1:<free port>, answering with whichever app is mounted."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"https://127.0.0.1:{self.port}"
        # The headers of every POST received, refused ones included (recorded before the app).
        self.posts: list[dict[str, str]] = []
        self._app: Flask | None = None
        self._server = make_server("127.0.0.1", self.port, self._dispatch, threaded=True,
                                   ssl_context="adhoc")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _dispatch(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "POST":
            self.posts.append(dict(EnvironHeaders(environ)))
        if self._app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"no app mounted"]
        return self._app.wsgi_app(environ, start_response)

    @contextmanager
    def mounted(self, app: Flask) -> Iterator[str]:
        """Serve this app (as its public address, so mailed links and the CSRF origin
        check name this server) until the block ends."""
        app.config["PUBLIC_BASE_URL"] = self.base
        self.posts.clear()
        self._app = app
        try:
            yield self.base
        finally:
            self._app = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
