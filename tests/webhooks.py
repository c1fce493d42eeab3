"""A real webhook receiver for tests: an HTTP server on a free port of 127.0.0.1, in a
thread, that checks each notice's signature the way docs/api.md tells receivers to
(written here again, not taken from vault.services.webhooks, so a mistake in the
sender's signing cannot be mirrored by the check)."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Notice:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool  # signature matches and the timestamp is within 5 minutes


@dataclass
class Receiver:
    url: str
    clock: Callable[[], datetime]
    secret: str = ""
    # Status codes to answer, in order; once used up, 200 (400 to a notice that fails
    # the check).
    answers: list[int] = field(default_factory=list)
    received: list[Notice] = field(default_factory=list)
    # Called with each notice before the answer goes (a slow receiver moves the clock).
    on_post: Callable[[Notice], None] | None = None

    def check(self, headers: dict[str, str], body: bytes) -> bool:
        try:
            timestamp = int(headers["vault-timestamp"])
        except (KeyError, ValueError):
            return False
        if abs(self.clock().timestamp() - timestamp) > 300:
            return False
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        given = headers.get("vault-signature", "").removeprefix("v1=")
        return hmac.compare_digest(expected, given)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def receiver(clock: Callable[[], datetime]) -> Iterator[Receiver]:
    state = Receiver(url="", clock=clock)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = state.check(headers, body)
            notice = Notice(self.path, headers, body, verified)
            state.received.append(notice)
            if state.on_post is not None:
                state.on_post(notice)
            # As docs/api.md asks of receivers: a notice that fails the check is refused.
            code = state.answers.pop(0) if state.answers else 200 if verified else 400
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/vault?tenant=7"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
