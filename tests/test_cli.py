from __future__ import annotations

import sqlite3

import pytest
from alembic.script import ScriptDirectory

from vault import REPO_ROOT, cli


def _run(monkeypatch, capfd, tmp_path, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("VAULT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setattr("sys.argv", ["vault", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    return int(exit_info.value.code or 0), capfd.readouterr().out


def test_console_script_help_names_the_program_once(monkeypatch, capfd, tmp_path):
    code, out = _run(monkeypatch, capfd, tmp_path, "--help")
    assert code == 0
    assert out.startswith("Usage: vault [OPTIONS] COMMAND")
    assert "vault vault" not in out
    assert "retention" in out and "init" in out


def test_console_script_runs_commands_and_the_database_upgrade(monkeypatch, capfd, tmp_path):
    code, out = _run(monkeypatch, capfd, tmp_path, "init")
    assert code == 0 and "latest schema" in out
    code, out = _run(monkeypatch, capfd, tmp_path, "db", "upgrade")
    assert code == 0
    with sqlite3.connect(tmp_path / "vault.db") as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert version == ScriptDirectory(str(REPO_ROOT / "migrations")).get_current_head()
