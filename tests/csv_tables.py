"""Reading the export's CSV as a spreadsheet shows it: tables one after the other."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[dict[str, str]]


def read_tables(body: bytes) -> dict[str, Table]:
    """The CSV's tables by title: a title row, a header row, one row per entry, a blank
    line between tables. Fails on anything else (a BOM missing, a ragged row)."""
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    tables: dict[str, Table] = {}
    chunks: list[list[list[str]]] = [[]]
    for line in lines:
        if line:
            chunks[-1].append(line)
        else:
            chunks.append([])
    for chunk in chunks:
        assert len(chunk) >= 2, f"a table without its title and header: {chunk}"
        [title], header, *rows = chunk
        assert all(len(row) == len(header) for row in rows), f"ragged table {title}"
        assert title not in tables
        tables[title] = Table(title, header, [dict(zip(header, row, strict=True))
                                              for row in rows])
    return tables
