"""benchmarks/fault_run.py, run small: applications survive a killed worker, Redis
stopped and started, a hung SMTP server and PostgreSQL connections cut under the app.

Select with `-m stack`. Outside CI a missing binary or PostgreSQL skips it; in CI
(CI=true) it fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import create_engine

from tests.stack.servers import binary, missing
from vault import REPO_ROOT
from vault.database import database_url

pytestmark = pytest.mark.stack


def test_no_acknowledged_application_is_lost_and_every_mail_is_sent_under_faults():
    binary("redis-server", "redis-server")
    server = database_url(os.environ.get("VAULT_TEST_DATABASE_URL")
                          or "postgresql://postgres@127.0.0.1:5432/postgres")
    engine = create_engine(server)
    try:
        with engine.connect():
            pass
    except Exception:  # noqa: BLE001 - any failure to connect means "not available"
        missing("PostgreSQL on 127.0.0.1:5432")
    finally:
        engine.dispose()

    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "fault_run.py"), "--applications",
         "12", "--workers", "2", "--database", server, "--seconds", "120"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "acknowledged (302 to /applied): 12" in out
    assert "stored (applications with a record): 12" in out
    assert "mailed (applications whose mail reached the SMTP server): 12" in out
    assert "acknowledged but lost: 0" in out
    assert "stored but answered only with errors: 0" in out
    # Every fault was injected while applications were still being sent.
    faults = "\n".join(re.findall(r"^fault: (.*)$", out, re.M))
    for fault in ("worker(s) after", "redis stopped", "redis started again", "SMTP hung",
                  "PostgreSQL connection(s) of this run's database terminated",
                  "SMTP answering again"):
        assert fault in faults, out
