"""Append-only JSON Lines files kept outside the database (erasure ledger, audit anchors).

Each append is one write under an exclusive lock, fsynced before it returns: callers
write these lines *before* the database commits what they record. A torn last line
(a crash mid-write) is skipped when reading, never fatal.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any


def append_lines(path: Path, docs: Sequence[dict[str, Any]]) -> None:
    """Append one JSON document per line and fsync. Raises OSError."""
    if not docs:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(doc) + "\n" for doc in docs).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The documents of a file, in order; a missing file holds none."""
    if not path.exists():
        return
    with path.open() as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                continue  # a torn last line
            if isinstance(doc, dict):
                yield doc
