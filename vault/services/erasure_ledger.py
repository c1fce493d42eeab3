"""The authoritative erasure ledger: an append-only JSON Lines file outside the database.

Why outside: restoring a backup puts back the database alone. If the ledger lived only
in it, a restore would also bring back the fact that someone asked to be forgotten
minus the erasure itself. Kept beside the keyring (both are outside the data store),
the ledger survives the restore and 'vault replay-erasures' re-shreds from it.
Each line holds a public id (random, meaningless outside the vault), a time and a
reason: no personal data.

Where it lives: a local file by default (one host), or, when several hosts erase, a
database of its own that every host writes to (`VAULT_ERASURE_LEDGER=postgresql://…`),
kept apart from the vault database and its backups: a restore of the vault database
must never restore (and so roll back) the ledger with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from vault.append_only import append_lines, read_lines


@dataclass(frozen=True)
class LedgerEntry:
    public_id: str
    erased_at: datetime
    reason: str


class LedgerError(Exception):
    """The ledger file could not be written; the erasure must not proceed without it."""


def append(path: Path, entries: list[LedgerEntry]) -> None:
    """Append and fsync before the database forgets: write-ahead for erasure."""
    try:
        append_lines(path, [{"public_id": e.public_id, "erased_at": e.erased_at.isoformat(),
                             "reason": e.reason} for e in entries])
    except OSError as exc:
        raise LedgerError("the erasure ledger could not be written") from exc


def read(path: Path) -> list[LedgerEntry]:
    entries = []
    for doc in read_lines(path):
        try:
            entries.append(LedgerEntry(doc["public_id"], datetime.fromisoformat(doc["erased_at"]),
                                       doc["reason"]))
        except (ValueError, KeyError, TypeError):
            continue  # an incomplete line is skipped, never fatal
    return entries


class ErasureLedger(Protocol):
    def append(self, entries: list[LedgerEntry]) -> None: ...

    def read(self) -> list[LedgerEntry]: ...


@dataclass(frozen=True)
class FileLedger:
    """The embedded default: a JSON Lines file beside the keyring (one host)."""

    path: Path

    def append(self, entries: list[LedgerEntry]) -> None:
        append(self.path, entries)

    def read(self) -> list[LedgerEntry]:
        return read(self.path)


_metadata = MetaData()
LEDGER_TABLE = Table(
    "erasure_ledger", _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("public_id", String(32), nullable=False, index=True),
    Column("erased_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(40), nullable=False),
)


class DatabaseLedger:
    """A ledger shared by every host: one table in a database of its own.

    Append-only by use: the vault inserts and reads, never updates or deletes (grant
    its role INSERT and SELECT only, see README). The table is created on first use,
    so the ledger database needs no migration of the vault's own."""

    def __init__(self, url: str) -> None:
        from vault.database import database_url

        # hide_parameters: public ids only, but no statement parameter ever reaches a log.
        self.engine: Engine = create_engine(database_url(url), hide_parameters=True,
                                            pool_pre_ping=True)
        self._ready = False

    def _ensure_table(self) -> None:
        if not self._ready:
            _metadata.create_all(self.engine, tables=[LEDGER_TABLE])
            self._ready = True

    def append(self, entries: list[LedgerEntry]) -> None:
        if not entries:
            return
        try:
            self._ensure_table()
            with self.engine.begin() as conn:  # committed (and so durable) before erasing
                conn.execute(insert(LEDGER_TABLE), [
                    {"public_id": e.public_id, "erased_at": e.erased_at, "reason": e.reason}
                    for e in entries])
        except SQLAlchemyError as exc:
            raise LedgerError("the erasure ledger could not be written") from exc

    def read(self) -> list[LedgerEntry]:
        try:
            self._ensure_table()
            with self.engine.connect() as conn:
                rows = conn.execute(select(LEDGER_TABLE).order_by(LEDGER_TABLE.c.seq)).all()
        except SQLAlchemyError as exc:
            raise LedgerError("the erasure ledger could not be read") from exc
        return [LedgerEntry(r.public_id, r.erased_at, r.reason) for r in rows]


def open_ledger(setting: str) -> ErasureLedger:
    """A database URL gives the shared ledger; anything else is the file's path."""
    if "://" in setting:
        return DatabaseLedger(setting)
    return FileLedger(Path(setting))
