from __future__ import annotations

import stat

from vault.append_only import append_lines, read_lines


def test_lines_accumulate_in_a_private_file(tmp_path):
    path = tmp_path / "sub" / "ledger.jsonl"
    append_lines(path, [{"a": 1}])
    append_lines(path, [{"a": 2}, {"a": 3}])
    assert [doc["a"] for doc in read_lines(path)] == [1, 2, 3]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_torn_last_line_is_skipped_not_fatal(tmp_path):
    path = tmp_path / "ledger.jsonl"
    append_lines(path, [{"a": 1}])
    with path.open("a") as fh:
        fh.write('{"a": 2, "b"')  # a crash in the middle of a write
    assert list(read_lines(path)) == [{"a": 1}]


def test_a_missing_file_holds_nothing(tmp_path):
    assert list(read_lines(tmp_path / "none.jsonl")) == []
