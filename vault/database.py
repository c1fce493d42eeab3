"""Engine set-up: SQLite pragmas and locking, PostgreSQL driver, hidden parameters."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from vault.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 30000


def database_url(raw: str) -> str:
    # psycopg 3 is the PostgreSQL driver; accept the plain URLs operators paste.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def sqlite_driver() -> ModuleType:
    """The newest SQLite at hand. FTS5's secure-delete mode (SQLite 3.42) is what removes
    an erased person's search tokens from the index pages at once; Python's own sqlite3
    is often older (3.40 on Debian 12), so the SQLite bundled with pysqlite3 comes first.
    Without it, erasure falls back to an FTS5 'optimize' (see services.erasure)."""
    try:
        from pysqlite3 import dbapi2
    except ImportError:
        import sqlite3 as dbapi2
    return dbapi2


def engine_options(url: str) -> dict[str, Any]:
    # hide_parameters: a failed statement must never print personal data (or ciphertext)
    # into an exception message or a log line.
    options: dict[str, Any] = {"hide_parameters": True}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
        options["module"] = sqlite_driver()
    else:
        options["pool_pre_ping"] = True
    return options


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, so a shredded key leaves no bytes in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock at the start: a transaction that reads and
    # then writes can never fail half-way with "database is locked" (it waits on
    # busy_timeout instead). Readers in WAL mode are not blocked by it.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)


def init_app(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)


def scrub_deleted_bytes(engine: Engine) -> bool:
    """Make deleted key bytes unrecoverable from the database files themselves, without
    ever waiting on other connections: True when done, False when it must be retried.

    Erasure calls this right after its commit. It must not block: the first release
    waited up to 30 s per try for readers, and one open reader held every erase and
    login for minutes. What cannot finish now is retried by the retention job."""
    if engine.dialect.name == "sqlite":
        # Copy the WAL into the database (where secure_delete has zeroed the rows), then
        # truncate the WAL so no frame with the old page survives in it. Outside any
        # transaction (the raw connection autocommits), with no busy wait: a reader still
        # using old frames makes it answer busy at once.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA busy_timeout=0")
            try:
                busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                cursor.close()
        finally:
            raw.close()
        return not busy
    if engine.dialect.name == "postgresql":
        # On PostgreSQL the guarantee rests on the key: the wrapped DEK is gone and its
        # KEK version is retired on schedule. VACUUM still removes the dead tuple; it
        # gives up rather than wait behind another maintenance lock.
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("SET lock_timeout = '200ms'")
                conn.exec_driver_sql("VACUUM candidate_key")
        except OperationalError:
            return False
        return True
    return True


class JobBusy(Exception):
    """Another process (on this host or another) is running the same job right now."""


@contextmanager
def job_lock(engine: Engine, name: str) -> Iterator[None]:
    """Run a job (the retention job) on one host at a time, or raise JobBusy at once.

    PostgreSQL, shared by every host: a session-level advisory lock on a connection held
    for the run; the server releases it when that connection ends, so a crashed run
    never leaves it behind. SQLite lives on one host: an exclusive lock on a file beside
    the database, which the kernel releases when the process ends. Neither holds a
    database write lock, so requests never wait on the job's lock.
    """
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"vault:{name}".encode()).digest()[:8], "big",
                             signed=True)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
                raise JobBusy(name)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # a private in-memory database: nobody else can run the job on it
        return
    fd = os.open(f"{database}.{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobBusy(name) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock
