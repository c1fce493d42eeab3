"""Fixtures in the style of Flask's tutorial: app, client, runner, a fresh database per test.

Every test runs on SQLite; when VAULT_TEST_DATABASE_URL is set (CI sets it) every test
runs again on PostgreSQL. Both start from the real Alembic migrations, applied once
per session: SQLite tests copy a migrated template file, PostgreSQL tests truncate.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from tests.kms.backends import KEK_BACKENDS, bao, hsm_token, kek, kek_overrides
from vault import create_app
from vault.crypto import Keyring
from vault.extensions import db, limiter

# Shared with every test module: the key manager servers (one per session) and the app's
# KEK backend (see tests/kms/backends.py).
__all__ = ["bao", "hsm_token", "kek"]

PG_URL = os.environ.get("VAULT_TEST_DATABASE_URL")
# app_config(RATELIMIT_STORAGE_URI=TEST_REDIS): the session's own Redis (fixture redis_url).
TEST_REDIS = "test-redis"
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


class Clock:
    """An injectable clock: tests move time instead of waiting for it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.current += timedelta(**delta)
        return self.current


def base_config(instance: Path, database: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + os.urandom(8).hex(),
        "DATABASE_URL": database,
        "HTTPS": False,
        # Off here so a test of a view can post its fields in one line; that is how the
        # first release shipped forms that all failed over HTTPS. Every form is also
        # submitted with CSRF on, over HTTPS, as Chromium sends it, in
        # tests/test_forms_over_https.py: a test of a new form belongs there, or uses
        # tests/browser.py (BrowserLikeClient, BROWSER_CONFIG) the same way.
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_OUTBOX": str(instance / "outbox"),
        # Delivery is deterministic in tests: tests.journey.outbox (or the test) flushes
        # the queue, instead of a thread after each response.
        "MAIL_FLUSH_AFTER_RESPONSE": False,
        # The same for erasure notices to API clients (tests send them themselves).
        "WEBHOOK_SEND_AFTER_RESPONSE": False,
        # Many tests move the clock by days while a user stays logged in (a week at the
        # desk); the session limits are tested with their defaults in
        # tests/auth/test_sessions.py, which sets them back.
        "SESSION_IDLE_MINUTES": 60 * 24 * 3650,
        "SESSION_ABSOLUTE_HOURS": 24 * 3650,
    }


def _make_app(instance: Path, database: str, overrides: dict[str, Any] | None = None) -> Flask:
    instance.mkdir(parents=True, exist_ok=True)
    config = base_config(instance, database)
    config.update(overrides or {})
    backend = config.get("KEK_BACKEND", "file")
    if backend != "file":
        from vault.kek_settings import init_manager

        init_manager(config, backend)  # the keys in the key manager, the roots file
    elif not (keyring_file := instance / "keyring").exists():
        Keyring.generate().save(keyring_file)
    # The rate limiter is one object per process (vault.extensions), and its init_app
    # keeps the first app's key prefix and that an earlier app's store was found down:
    # every test's app starts, as a new worker does, with neither.
    limiter._key_prefix = ""
    limiter._storage_dead = False
    return create_app(config, instance_path=str(instance))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    instance = tmp_path_factory.mktemp("template")
    app = _make_app(instance, f"sqlite:///{instance / 'vault.db'}")
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return instance / "vault.db"


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str]:
    """A database of this test session's own, created beside the one CI names and
    dropped at the end: tests never drop or flush what they did not make."""
    assert PG_URL
    from tests.databases import own_database

    with own_database(PG_URL, "session") as url:
        instance = Path(os.environ.get("TMPDIR", "/tmp")) / f"vault-pg-{os.getpid()}"
        app = _make_app(instance, url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
        shutil.rmtree(instance, ignore_errors=True)
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of the test session's own: VAULT_TEST_REDIS_URL when set (a test-only
    server), else a redis-server started here on a free port and stopped at the end.
    Never the machine's shared one."""
    named = os.environ.get("VAULT_TEST_REDIS_URL")
    if named:
        yield named
        return
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required in CI (.ci/run installs it)")
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version'")).scalars().all()
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(request: pytest.FixtureRequest, backend: str, kek: str, tmp_path: Path,
        clock: Clock) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    instance.mkdir()
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), instance / "vault.db")
        url = f"sqlite:///{instance / 'vault.db'}"
    else:
        url = request.getfixturevalue("pg_migrated")
        _truncate_pg(url)
    overrides: dict[str, Any] = {"CLOCK": clock}
    marker = request.node.get_closest_marker("app_config")
    if marker:
        overrides.update(marker.kwargs)
    overrides.update(kek_overrides(request, kek, instance))
    if overrides.get("RATELIMIT_STORAGE_URI") == TEST_REDIS:
        overrides["RATELIMIT_STORAGE_URI"] = request.getfixturevalue("redis_url")
    app = _make_app(instance, url, overrides)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _push_request_context() -> Iterator[None]:
    """Overrides pytest-flask's fixture of that name, which keeps one request context
    pushed for the whole test: every request and command would then share one
    database session (and its open transaction), unlike in production where each
    request and command has its own."""
    yield


STAFF_PASSWORD = "correct horse battery staple"


def enrol_totp(app: Flask, user_id: int) -> str:
    """Give a staff account a confirmed authenticator app (as its owner would through
    /account/two-factor, tested in tests/auth/test_two_factor.py); the secret."""
    from vault.appctx import vault_keys
    from vault.models import User
    from vault.services import totp

    with app.app_context():
        user = db.session.get(User, user_id)
        secret = totp.new_secret()
        totp.store_secret(vault_keys(), user, secret)
        user.totp_enabled_at = app.config["CLOCK"]()
        db.session.commit()
    return secret


def totp_code(app: Flask, user_id: int, *, fresh: bool = True) -> str:
    """The user's current TOTP code. With `fresh`, the record of the last code used is
    forgotten first: tests log one user in many times within one 30-second step of the
    fixed clock, which the real rule (a code works once) would refuse."""
    from vault.appctx import vault_keys
    from vault.models import User
    from vault.services import totp

    with app.app_context():
        user = db.session.get(User, user_id)
        if fresh:
            user.totp_last_step = None
            db.session.commit()
        return totp.code_at(totp.open_secret(vault_keys(), user), app.config["CLOCK"]())


@pytest.fixture
def make_user(app: Flask):
    """Create a staff account through the real service (argon2 hash, audit event), with
    an authenticator app enrolled unless second_factor=False."""
    from vault.services import audit
    from vault.services.users import create_user

    def make(role: str = "recruiter", company: str = "Ingenium", email: str | None = None,
             password: str = STAFF_PASSWORD, active: bool = True,
             second_factor: bool = True, display_name: str = "") -> int:
        with app.app_context():
            address = email or f"{role}.{os.urandom(3).hex()}@group.example"
            user = create_user(db.session, email=address, password=password,
                               role=role, company=company,
                               companies=app.config["COMPANIES"],
                               now=app.config["CLOCK"](), actor=audit.CLI,
                               display_name=display_name)
            user.active = active
            db.session.commit()
            user_id = user.id
        if second_factor:
            enrol_totp(app, user_id)
        return user_id

    return make


@pytest.fixture
def login(app: Flask):
    """Log a test client in as a user id, through the real login form and, when the
    account has an authenticator app, the real second step with its current code."""
    from vault.models import User

    def do_login(client, user_id: int, password: str = STAFF_PASSWORD):
        with app.app_context():
            email = db.session.get(User, user_id).email
        response = client.post("/login", data={"email": email, "password": password})
        if response.status_code == 302 and response.headers["Location"].startswith(
                "/login/second-factor"):
            response = client.post("/login/second-factor",
                                   data={"code": totp_code(app, user_id)})
        return response

    return do_login


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # The crypto, rotation, retirement, backup and erasure tests run against every KEK
    # backend, the real key managers included.
    if metafunc.definition.get_closest_marker("every_kek_backend") and \
            "kek" in metafunc.fixturenames:
        metafunc.parametrize("kek", KEK_BACKENDS, indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "app_config(**kwargs): configuration for the app fixture")
    config.addinivalue_line("markers", "every_kek_backend: run against the keyring file, "
                            "OpenBao Transit and PKCS#11 (SoftHSM2)")
    # The compiled catalogues are build output (make translations); compiling them here
    # too keeps a plain `pytest` after a change of a .po file from testing stale ones.
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", "compile", "-d",
                                str(Path(__file__).resolve().parent.parent / "vault" /
                                    "translations")])
