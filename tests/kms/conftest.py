from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.kms.bao import BaoServer, require_bao
from vault.crypto.transit import TransitKekBackend


@pytest.fixture(scope="session")
def bao(tmp_path_factory) -> Iterator[BaoServer]:
    """One dev server for the whole session (it starts in well under a second)."""
    server = BaoServer(require_bao(), tmp_path_factory.mktemp("bao"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def transit(bao: BaoServer) -> TransitKekBackend:
    """A fresh Transit key per test: tests never see each other's versions."""
    backend = TransitKekBackend(bao.client(), f"kek-{secrets.token_hex(4)}")
    backend.create_key()
    return backend
