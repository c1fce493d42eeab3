"""PostgreSQL databases of a test's own: created beside the one CI names, dropped after.

Tests never drop or flush what they did not make: every database made here carries a
name that says it is a test's, and only such a name is ever dropped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from vault.database import database_url

TEST_PREFIX = "vault_test_"


@contextmanager
def own_database(server_url: str, purpose: str) -> Iterator[str]:
    """Yield the URL of a new, empty database; drop it on the way out."""
    server = create_engine(database_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"{TEST_PREFIX}{purpose}_{os.getpid()}_{os.urandom(3).hex()}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        assert name.startswith(TEST_PREFIX)
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def counted_candidates(session: Session) -> float:
    """The candidates PostgreSQL's planner last counted (pg_class.reltuples; -1 or 0
    before any ANALYZE of the table as it is now)."""
    return float(session.execute(text(
        "SELECT reltuples FROM pg_class WHERE oid = 'candidate'::regclass")).scalar())
