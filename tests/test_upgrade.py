"""A database written by the first release upgrades with its data intact.

tests/fixtures/release1/release1.json holds every row that release's own code wrote
(tests/fixtures/release1/generate.py, run in a tree of commit 6d33bd1, schema 0001),
with the keyring it wrote them under (no audit key: that release had none). Each test
loads those rows into a database at revision 0001, on SQLite and on PostgreSQL, and
runs the upgrade as the README tells an operator to: `vault db upgrade`, `vault init`,
`vault reindex`, `vault check`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import MetaData, func, inspect, select, text

from tests.conftest import PG_URL, _make_app
from tests.databases import own_database
from tests.files import pdf_with_text
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import AuditEvent, Candidate, DataRequest, User, Vacancy
from vault.services.candidates import (
    find_document,
    open_candidate,
    open_document,
    open_document_text,
)
from vault.services.requests import open_details
from vault.services.sealing import record_sealer
from vault.services.search import search, token_id

RELEASE1 = Path(__file__).parent / "fixtures" / "release1"
# What release 1 was given (generate.py's PEOPLE): the upgraded records must say it back.
PEOPLE = {
    "ann.peeters@example.org": ("Ann Peeters", "+32 470 11 22 33", "Data engineer",
                                "Kafka, Python",
                                "Experienced data engineer. Python, Kafka, SQL."),
    "bruno.lefevre@example.org": ("Bruno Lefèvre", "+32 478 44 55 66", "Ingénieur réseau",
                                  "Réseaux, Cisco",
                                  "Ingénieur réseau, certifié CCNP, dix ans d'expérience."),
}
SEARCHED_AT = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # the day after release 1 wrote them


def _value(value: Any) -> Any:
    if isinstance(value, dict) and "hex" in value:
        return bytes.fromhex(value["hex"])
    if isinstance(value, dict) and "time" in value:
        return datetime.fromisoformat(value["time"])
    return value


def _load_release1_rows() -> None:
    """Insert release 1's rows, table by table in foreign-key order, as they were."""
    dump = json.loads((RELEASE1 / "release1.json").read_text())
    meta = MetaData()
    meta.reflect(db.engine)
    with db.engine.begin() as conn:
        for table in meta.sorted_tables:
            rows = dump.get(table.name)
            if table.name == "alembic_version" or not rows:
                continue
            conn.execute(table.insert(), [{k: _value(v) for k, v in row.items()}
                                          for row in rows])
            if conn.dialect.name == "postgresql" and "id" in table.c:
                # Rows came with their ids: move the sequence past them, as release 1's
                # own inserts would have.
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', "
                                  f"'id'), (SELECT max(id) FROM \"{table.name}\"))"))


@pytest.fixture
def release1_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own: a SQLite file, or a PostgreSQL database
    created beside the one CI names and dropped at the end."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'vault.db'}"
        return
    assert PG_URL
    with own_database(PG_URL, "upgrade") as url:
        yield url


class Release1:
    """Release 1's database at revision 0001 and its keyring in an instance folder.

    Each command runs in an app of its own, made as the `vault` command line makes it
    (in a click context, where a keyring without an audit key is allowed so that
    `vault init` can add it): a new process per command, as an operator runs them."""

    def __init__(self, instance: Path, url: str) -> None:
        self.instance, self.url = instance, url

    def app(self) -> Flask:
        with click.Context(click.Command("vault")):
            return _make_app(self.instance, self.url)

    def run(self, *args: str) -> Result:
        app = self.app()
        try:
            return app.test_cli_runner().invoke(args=list(args))
        finally:
            _dispose(app)


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def release1(release1_url: str, tmp_path: Path) -> Release1:
    from flask_migrate import upgrade

    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copyfile(RELEASE1 / "keyring", instance / "keyring")
    os.chmod(instance / "keyring", 0o600)
    old = Release1(instance, release1_url)
    app = old.app()
    with app.app_context():
        upgrade(revision="0001")
        _load_release1_rows()
    _dispose(app)
    return old


def _search(old: Release1, q: str) -> set[str]:
    app = old.app()
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.role == "admin"))
        page = search(db.session, vault_keys(), officer, q=q, now=SEARCHED_AT)
        found = {hit.full_name for hit in page.results}
    _dispose(app)
    return found


def test_release1_database_upgrades_with_every_record_intact(release1: Release1) -> None:
    result = release1.run("db", "upgrade")
    assert result.exit_code == 0, result.output

    result = release1.run("vault", "init")
    assert result.exit_code == 0, result.output
    # Release 1's keyring had no audit key and its chain was plain SHA-256: init adds the
    # key and re-links the six events release 1 wrote, then anchors the head.
    assert "Added the audit key" in result.output
    assert "6 event(s) re-linked under the audit key" in result.output
    # Release 1 sealed request details before the request had its uid: init binds them.
    assert "Re-sealed the details of 2 data request(s)" in result.output
    keyring = json.loads((release1.instance / "keyring").read_text())
    assert "audit_key" in keyring
    assert keyring["keks"] == json.loads((RELEASE1 / "keyring").read_text())["keks"]

    # The search analysis changed how tokens are derived since release 1: its tokens
    # no longer match the queries (which is why the upgrade runs `vault reindex`).
    assert "Ann Peeters" not in _search(release1, "kafka")
    result = release1.run("vault", "reindex")
    assert result.exit_code == 0, result.output
    assert _search(release1, "kafka") == {"Ann Peeters"}
    assert _search(release1, "ccnp") == {"Bruno Lefèvre"}

    result = release1.run("vault", "check")
    assert result.exit_code == 0, result.output

    app = release1.app()
    with app.app_context():
        keys = vault_keys()
        records = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        assert len(records) == len(PEOPLE)
        for record in records:
            opened = open_candidate(keys, record)
            name, phone, position, interests, cv_text = PEOPLE[opened.email]
            assert (opened.full_name, opened.phone, opened.position, opened.age,
                    opened.interests) == (name, phone, position, "34", interests)
            assert [(e.degree, e.field, e.institution, e.year) for e in opened.education] \
                == [("MSc", "Computer science", "UGent", "2015")]
            filename, media_type, content = open_document(keys, record, find_document(record))
            assert media_type == "application/pdf"
            assert content == pdf_with_text(cv_text)
            assert filename.startswith("cv-") and filename.endswith(".pdf")
            assert open_document_text(keys, record, find_document(record)) == cv_text
            assert sorted((c.purpose, c.event) for c in record.consents) == [
                ("application", "granted"), ("talent_pool", "granted")]
            assert record.pool_consent_until is not None
            assert [n.body for n in opened.notes] == [
                f"Strong profile, call back ({filename[3]})."]
            # Notes written before notes had a company belong to their author's.
            assert [n.company for n in record.notes] == ["Ingenium"]
            request = db.session.scalar(select(DataRequest).where(
                DataRequest.subject_public_id == record.public_id))
            assert open_details(record_sealer(keys, record), request) \
                == f"Asked by phone for a copy ({filename[3]})."
        events = db.session.scalar(select(func.count(AuditEvent.id)))
        # Its vacancy was posted the day it was created (in Brussels); the rest not stated.
        vacancy = db.session.scalar(select(Vacancy))
        assert (vacancy.posted_on, vacancy.contract_type, vacancy.hours_per_week) == (
            date(2026, 3, 2), "", None)
    _dispose(app)
    # Release 1's six events, the re-link and the rebuilt index: none lost.
    assert events == 8


def _hashes(old: Release1) -> list[str]:
    app = old.app()
    with app.app_context():
        hashes = list(db.session.scalars(select(AuditEvent.hash).order_by(AuditEvent.id)))
    _dispose(app)
    return hashes


def test_init_upgrades_the_schema_and_a_second_init_changes_nothing(
        release1: Release1) -> None:
    """`vault init` alone also brings release 1's database to the latest schema, and is
    idempotent: a second run keeps keyring, chain and anchor as they are."""
    result = release1.run("vault", "init")
    assert result.exit_code == 0, result.output
    assert "Database is at the latest schema." in result.output
    keyring = (release1.instance / "keyring").read_text()
    anchors = sorted(p.name for p in release1.instance.iterdir())
    hashes = _hashes(release1)

    result = release1.run("vault", "init")
    assert result.exit_code == 0, result.output
    assert "re-linked" not in result.output and "Added the audit key" not in result.output
    assert (release1.instance / "keyring").read_text() == keyring
    assert sorted(p.name for p in release1.instance.iterdir()) == anchors
    assert _hashes(release1) == hashes
    assert release1.run("vault", "reindex").exit_code == 0
    result = release1.run("vault", "check")
    assert result.exit_code == 0, result.output


def test_upgrade_gives_postgresql_the_token_arrays_of_existing_records(
        release1: Release1, backend: str) -> None:
    """Migration 0015 converts the tokens release 1 wrote (no keys needed: the same
    tokens as integers); SQLite keeps searching through FTS5 with its schema as it was."""
    result = release1.run("db", "upgrade")
    assert result.exit_code == 0, result.output
    app = release1.app()
    with app.app_context():
        if backend == "sqlite":
            columns = {c["name"] for c in inspect(db.engine).get_columns("candidate_index")}
            assert "token_ids" not in columns
        else:
            rows = db.session.execute(text(
                "SELECT tokens, token_ids FROM candidate_index")).all()
            assert len(rows) == len(PEOPLE)
            for tokens, ids in rows:
                assert tokens.split()
                assert sorted(ids) == sorted({token_id(t) for t in tokens.split()})
    _dispose(app)
    # Reindexing rewrites the tokens; the trigger rewrites the arrays with them.
    result = release1.run("vault", "init")
    assert result.exit_code == 0, result.output
    result = release1.run("vault", "reindex")
    assert result.exit_code == 0, result.output
    assert _search(release1, "kafka") == {"Ann Peeters"}
    if backend == "postgresql":
        app = release1.app()
        with app.app_context():
            for tokens, ids in db.session.execute(text(
                    "SELECT tokens, token_ids FROM candidate_index")):
                assert sorted(ids) == sorted({token_id(t) for t in tokens.split()})
        _dispose(app)
