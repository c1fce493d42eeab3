from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import base_config
from tests.kms.bao import BaoServer, require_bao
from tests.kms.hsm import Token, make_token, require_softhsm
from vault import create_app
from vault.crypto.pkcs11_backend import Pkcs11KekBackend
from vault.crypto.transit import TransitKekBackend
from vault.extensions import db
from vault.kek_settings import init_manager


def transit_settings(bao: BaoServer, instance: Path) -> dict[str, object]:
    """Settings naming a Transit key pair of the test's own on the session's server."""
    suffix = secrets.token_hex(4)
    return {"TRANSIT_ADDR": bao.url, "TRANSIT_TOKEN": bao.token,
            "TRANSIT_KEY": f"kek-{suffix}", "TRANSIT_ROOTS_KEY": f"roots-{suffix}",
            "TRANSIT_TIMEOUT_SECONDS": 2,
            "TRANSIT_ROOTS_FILE": str(instance / "keyring.transit")}


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


@pytest.fixture
def app(tmp_path, clock, bao: BaoServer, sqlite_template) -> Iterator[Flask]:
    """The app with its KEKs in OpenBao Transit: no keyring file, root keys wrapped."""
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copyfile(sqlite_template, instance / "vault.db")
    config = base_config(instance, f"sqlite:///{instance / 'vault.db'}")
    config.update(CLOCK=clock, KEK_BACKEND="transit", **transit_settings(bao, instance))
    init_manager(config, "transit")
    app = create_app(config, instance_path=str(instance))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def hsm_token(tmp_path_factory) -> Token:
    return make_token(require_softhsm(), tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def hsm(hsm_token: Token) -> Pkcs11KekBackend:
    """A fresh KEK (its own labels) on the session's token."""
    backend = Pkcs11KekBackend(hsm_token.module, hsm_token.label, hsm_token.pin,
                               f"kek-{secrets.token_hex(4)}")
    backend.create_key()
    return backend


def pkcs11_settings(token: Token, instance: Path) -> dict[str, object]:
    suffix = secrets.token_hex(4)
    return {"PKCS11_MODULE": token.module, "PKCS11_TOKEN_LABEL": token.label,
            "PKCS11_PIN": token.pin, "PKCS11_KEY": f"kek-{suffix}",
            "PKCS11_ROOTS_KEY": f"roots-{suffix}",
            "PKCS11_ROOTS_FILE": str(instance / "keyring.pkcs11")}
