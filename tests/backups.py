"""Taking and restoring a database backup in tests: the database alone, as an operator
would restore it (the keyring and the erasure ledger stay where they are)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert, text

from vault.database import sqlite_driver
from vault.extensions import db

# The vault's own SQLite library: two SQLite libraries in one process on the same file
# would break each other's POSIX locks.
sqlite3 = sqlite_driver()


def take_backup(app: Flask, folder: Path) -> Any:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            source = Path(app.instance_path) / "vault.db"
            target = folder / "backup.db"
            with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
                live.backup(copy)  # a consistent copy, WAL included
            return target
        with db.engine.connect() as conn:
            return {table.name: [dict(row._mapping) for row in conn.execute(table.select())]
                    for table in db.metadata.sorted_tables}


def restore_backup(app: Flask, backup: Any) -> None:
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            live = Path(app.instance_path) / "vault.db"
            for extra in (live.with_name("vault.db-wal"), live.with_name("vault.db-shm")):
                extra.unlink(missing_ok=True)
            with sqlite3.connect(backup) as copy, sqlite3.connect(live) as target:
                copy.backup(target)
            return
        with db.engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table in db.metadata.sorted_tables:
                if backup[table.name]:
                    conn.execute(insert(table), backup[table.name])
            for table in db.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement:
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f"COALESCE(MAX(id), 1)) FROM \"{table.name}\""))
