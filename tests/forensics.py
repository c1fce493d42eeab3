"""Forensic checks: read what an attacker with the disk (or the database) would read."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import text

from vault.extensions import db


def instance_bytes(app: Flask) -> dict[str, bytes]:
    """Every file under the instance folder but the keyring, as raw bytes: the outbox
    (delivered mail) included, so an erased person's mail counts as a leak."""
    root = Path(app.instance_path)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.name not in ("keyring", "secret_key")}


def database_dump(app: Flask) -> bytes:
    """On SQLite the database files themselves; on PostgreSQL every row of every table,
    as the server gives it out (the guarantee there rests on the key, not row bytes)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            root = Path(app.instance_path)
            return b"".join(p.read_bytes() for p in root.glob("vault.db*"))
        chunks = []
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public'")).scalars().all()
            for table in tables:
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    for value in row:
                        chunks.append(bytes(value) if isinstance(value, (bytes, memoryview))
                                      else str(value).encode())
        return b"\n".join(chunks)


def find_markers(app: Flask, markers: list[bytes]) -> list[str]:
    """The markers (or their UTF-16 forms) found anywhere in the database or instance files."""
    haystacks = {"database": database_dump(app), **instance_bytes(app)}
    found = []
    for marker in markers:
        forms = {marker, marker.decode().encode("utf-16-le"), marker.lower(), marker.upper()}
        for name, data in haystacks.items():
            if any(form in data for form in forms):
                found.append(f"{marker!r} in {name}")
    return found
