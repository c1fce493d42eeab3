"""The authoritative erasure ledger: an append-only JSON Lines file outside the database.

Why outside: restoring a backup puts back the database alone. If the ledger lived only
in it, a restore would also bring back the fact that someone asked to be forgotten
minus the erasure itself. Kept beside the keyring (both are outside the data store),
the ledger survives the restore and 'vault replay-erasures' re-shreds from it.
Each line holds a public id (random, meaningless outside the vault), a time and a
reason: no personal data.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class LedgerEntry:
    public_id: str
    erased_at: datetime
    reason: str


class LedgerError(Exception):
    """The ledger file could not be written; the erasure must not proceed without it."""


def append(path: Path, entries: list[LedgerEntry]) -> None:
    """Append and fsync before the database forgets: write-ahead for erasure."""
    if not entries:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps({"public_id": e.public_id, "erased_at": e.erased_at.isoformat(),
                                "reason": e.reason}) + "\n" for e in entries)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, lines.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise LedgerError("the erasure ledger could not be written") from exc


def read(path: Path) -> list[LedgerEntry]:
    if not path.exists():
        return []
    entries = []
    with path.open() as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                doc = json.loads(line)
                entries.append(LedgerEntry(doc["public_id"],
                                           datetime.fromisoformat(doc["erased_at"]),
                                           doc["reason"]))
            except (ValueError, KeyError):
                # A torn last line (crash mid-write) is skipped, never fatal.
                continue
    return entries
