"""A Transit key or a PKCS#11 key of the test's own, on the session's server or token
(tests/kms/backends.py, shared with every test module through tests/conftest.py)."""

from __future__ import annotations

import secrets

import pytest

from tests.kms.bao import BaoServer
from tests.kms.hsm import Token
from vault.crypto.pkcs11_backend import Pkcs11KekBackend
from vault.crypto.transit import TransitKekBackend


@pytest.fixture
def transit(bao: BaoServer) -> TransitKekBackend:
    """A fresh Transit key per test: tests never see each other's versions."""
    backend = TransitKekBackend(bao.client(), f"kek-{secrets.token_hex(4)}")
    backend.create_key()
    return backend


@pytest.fixture
def hsm(hsm_token: Token) -> Pkcs11KekBackend:
    """A fresh KEK (its own labels) on the session's token."""
    backend = Pkcs11KekBackend(
        hsm_token.module, hsm_token.label, hsm_token.pin, f"kek-{secrets.token_hex(4)}"
    )
    backend.create_key()
    return backend
