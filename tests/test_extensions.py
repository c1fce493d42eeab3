from __future__ import annotations

import logging
import socket

import pytest

from tests.journey import apply, make_vacancy
from vault.extensions import limiter


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_store_state():
    # The limiter object is shared by every app of the test process and remembers that
    # its store died; each test here starts from a store believed alive, as a new worker
    # does.
    limiter._storage_dead = False
    yield
    limiter._storage_dead = False


@pytest.mark.app_config(RATELIMIT_ENABLED=True,
                        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_closed_port()}",
                        RATELIMIT_LINK_REQUEST="1 per hour")
def test_logins_and_applications_work_when_the_rate_limit_store_is_down(
        app, client, make_user, login, caplog, live_store_state):
    caplog.set_level(logging.WARNING)
    slug = make_vacancy(app)
    assert apply(client, slug).status_code == 302
    assert login(app.test_client(), make_user()).status_code == 302
    alarms = [r for r in caplog.records if getattr(r, "event", None) == "rate_limit.fallback"]
    assert alarms and alarms[0].levelno == logging.ERROR
    # Limits still hold, in this worker's memory.
    asks = [client.post("/my-data", data={"email": "a@example.org"}).status_code
            for _ in range(2)]
    assert asks == [302, 429]
