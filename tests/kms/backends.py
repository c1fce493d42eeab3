"""The KEK backends for the app fixture: the keyring file, a real OpenBao Transit (one
`bao server -dev` per test session) and a real SoftHSM2 token (one per session). Each
test gets keys of its own on the shared server or token, so tests never see each
other's versions.

A test runs against every backend with the marker `every_kek_backend` (tests/conftest.py
parametrizes the `kek` fixture), or against one with
`pytest.mark.parametrize("kek", ["transit"], indirect=True)`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kms.bao import BaoServer, require_bao
from tests.kms.hsm import Token, make_token, require_softhsm

KEK_BACKENDS = ("file", "transit", "pkcs11")


@pytest.fixture(scope="session")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    """One dev server for the whole session (it starts in well under a second)."""
    server = BaoServer(require_bao(), tmp_path_factory.mktemp("bao"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hsm_token(tmp_path_factory: pytest.TempPathFactory) -> Token:
    return make_token(require_softhsm(), tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def kek(request: pytest.FixtureRequest) -> str:
    """The app's KEK backend: "file" unless the test is parametrized."""
    return str(getattr(request, "param", "file"))


def transit_settings(bao: BaoServer, instance: Path) -> dict[str, Any]:
    """Settings naming a Transit key pair of the test's own on the session's server."""
    suffix = secrets.token_hex(4)
    return {
        "TRANSIT_ADDR": bao.url,
        "TRANSIT_TOKEN": bao.token,
        "TRANSIT_KEY": f"kek-{suffix}",
        "TRANSIT_ROOTS_KEY": f"roots-{suffix}",
        "TRANSIT_TIMEOUT_SECONDS": 2,
        "TRANSIT_ROOTS_FILE": str(instance / "keyring.transit"),
    }


def pkcs11_settings(token: Token, instance: Path) -> dict[str, Any]:
    suffix = secrets.token_hex(4)
    return {
        "PKCS11_MODULE": token.module,
        "PKCS11_TOKEN_LABEL": token.label,
        "PKCS11_PIN": token.pin,
        "PKCS11_KEY": f"kek-{suffix}",
        "PKCS11_ROOTS_KEY": f"roots-{suffix}",
        "PKCS11_ROOTS_FILE": str(instance / "keyring.pkcs11"),
    }


def manager_settings(
    request: pytest.FixtureRequest, backend: str, instance: Path
) -> dict[str, Any]:
    """The settings of a key manager backend (nothing for the keyring file)."""
    if backend == "transit":
        return transit_settings(request.getfixturevalue("bao"), instance)
    if backend == "pkcs11":
        return pkcs11_settings(request.getfixturevalue("hsm_token"), instance)
    assert backend == "file", backend
    return {}


def kek_overrides(request: pytest.FixtureRequest, backend: str, instance: Path) -> dict[str, Any]:
    if backend == "file":
        return {}
    return {"KEK_BACKEND": backend, **manager_settings(request, backend, instance)}
