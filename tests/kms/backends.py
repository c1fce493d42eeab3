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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

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


def kek_settings_of(app: Flask) -> dict[str, Any]:
    """The KEK backend settings of a running app, for another app on the same vault."""
    return {
        name: value
        for name, value in app.config.items()
        if name == "KEK_BACKEND" or name.startswith(("TRANSIT_", "PKCS11_"))
    }


def destroyed(app: Flask, version: int) -> bool:
    """Whether KEK version `version` is gone from where the KEKs are kept, as read there
    (not from the app's memory): the keyring file, the Transit key, the PKCS#11 token."""
    from vault.appctx import vault_keys
    from vault.crypto import Keyring

    backend = app.config.get("KEK_BACKEND", "file")
    if backend == "file":
        saved = Keyring.from_json(Path(app.config["KEYRING_FILE"]).read_text())
        return version not in saved.keks
    with app.app_context():
        manager = vault_keys().manager
        assert manager is not None
        if backend == "transit":
            info = manager.client.secrets.transit.read_key(name=manager.key_name)["data"]
            # Trimmed: the version no longer exists in the key manager, not just refused.
            return str(version) not in info["keys"] and info["min_decryption_version"] > version
        from pkcs11 import Attribute, ObjectClass

        with manager._open() as session:
            labels = {
                o.label for o in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
            }
        return (
            not {f"{manager.key_name}-v{version}", f"{manager.key_name}-v{version}-derive"} & labels
        )


@contextmanager
def key_manager_down(request: pytest.FixtureRequest, backend: str) -> Iterator[None]:
    """The app's key manager unreachable for the block (nothing to stop for the file):
    the OpenBao server hung, the PKCS#11 token pulled out."""
    if backend == "transit":
        server = request.getfixturevalue("bao")
        server.pause()
        try:
            yield
        finally:
            server.resume()
    elif backend == "pkcs11":
        with request.getfixturevalue("hsm_token").removed():
            yield
    else:
        yield
