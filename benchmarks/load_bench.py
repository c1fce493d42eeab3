"""Loading benchmark: `vault seed-demo N` and `vault import FILE` at a chosen size.

For each backend (SQLite, and PostgreSQL in a database made for the run with a unique
name and dropped afterwards) and each size, it runs the real commands in a fresh vault
(`vault init` first) as child processes and prints, per command:

- candidates per second of wall-clock time;
- CPU seconds of the command and its worker processes (user + system), and candidates
  per CPU second: on a shared machine the wall clock depends on the neighbours, the
  CPU time much less;
- the peak resident set size (the largest of the command and its workers), to show
  memory flat in the number of records.

The import file is JSON Lines in the export schema (docs/export-schema.json): the
seed's fictitious people with their CV as base64 PDF, their consents and talent-pool
end, written as a stream to a temporary file. `vault import` also queues and delivers
one confirmation mail per record (the address must confirm, services.imports); the
times to "Imported N record(s)." (the records committed) and to "Queued N confirmation
link(s)" are printed apart from the whole command's (which includes delivering the
mails, here to the outbox folder).

Prints figures; asserts nothing.
Run: .venv/bin/python benchmarks/load_bench.py --sizes 100000 [--backends sqlite,postgresql]
     [--what seed,import] [--workers N] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vault.services.demo import people  # noqa: E402

# Runs a command, then prints its wall time and the rusage of all it waited for (the
# command and, through it, its worker processes) as the last line of stderr.
_MEASURE = r"""
import json, resource, subprocess, sys, time
start = time.monotonic()
marks = {}
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
for line in proc.stdout:
    sys.stdout.write(line)
    if line.startswith("Imported "):
        marks["imported"] = time.monotonic() - start
    if line.startswith("Queued "):
        marks["queued"] = time.monotonic() - start
proc.wait()
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": proc.returncode, "wall": wall, "marks": marks,
                  "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mib": usage.ru_maxrss / 1024}), file=sys.stderr)
"""


@dataclass
class Figures:
    what: str
    backend: str
    size: int
    wall: float
    cpu: float
    peak_rss_mib: float
    imported_at: float | None = None
    queued_at: float | None = None  # the confirmation mails queued (not yet delivered)

    def line(self) -> str:
        rate = self.size / self.wall
        per_cpu = self.size / self.cpu
        extra = ""
        if self.imported_at is not None:
            extra = (
                f"; records committed at {self.imported_at:.1f} s "
                f"({self.size / self.imported_at:,.0f}/s wall)"
            )
        if self.queued_at is not None:
            extra += f", confirmations queued at {self.queued_at:.1f} s"
        return (
            f"{self.what:6} {self.backend:10} {self.size:>9,}: {rate:8,.0f} candidates/s "
            f"wall ({self.wall:.1f} s), CPU {self.cpu:.1f} s ({per_cpu:,.0f}/CPU s), "
            f"peak RSS {self.peak_rss_mib:.0f} MiB{extra}"
        )


def _vault(instance: Path, database: str, *args: str) -> Figures | None:
    env = {
        **os.environ,
        "VAULT_INSTANCE_PATH": str(instance),
        "VAULT_DATABASE_URL": database,
        "VAULT_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "vault", *args]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    if result["rc"] != 0:
        sys.exit(f"vault {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return Figures(
        "",
        "",
        0,
        result["wall"],
        result["cpu"],
        result["peak_rss_mib"],
        result["marks"].get("imported"),
        result["marks"].get("queued"),
    )


def write_import_file(path: Path, size: int, seed: int = 2, *, cvs: bool = False) -> None:
    """`size` records of the export schema, one a line, written as they are made; with
    cvs, each carries its CV (base64 PDF), which the import inspects in a sandbox."""
    now = datetime.now(UTC)
    given = (now - timedelta(days=3)).isoformat()
    with path.open("w") as out:
        for person in people(size, seed):
            data = person.data
            record = {
                "contact": {"full_name": data.full_name, "email": data.email, "phone": data.phone},
                "position": data.position,
                "personal": {"age": data.age, "gender": data.gender},
                "interests": data.interests,
                "education": [
                    {
                        "degree": e.degree,
                        "field": e.field,
                        "institution": e.institution,
                        "year": e.year,
                    }
                    for e in data.education
                ],
                "documents": [
                    {
                        "kind": "cv",
                        "filename": data.cv.filename,
                        "media_type": "application/pdf",
                        "content": base64.b64encode(data.cv.content).decode(),
                    }
                ]
                if cvs
                else [],
                "consents": [
                    {
                        "purpose": "application",
                        "event": "granted",
                        "at": given,
                        "notice_version": "2025-01",
                        "source": "apply",
                        "expires_at": None,
                    }
                ],
                "talent_pool_until": (now + timedelta(days=300)).isoformat()
                if person.pool
                else None,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


class Database:
    """A fresh vault: an instance folder and its database (a new PostgreSQL database
    with a unique name, dropped afterwards)."""

    def __init__(self, backend: str, pg_admin: str) -> None:
        self.backend, self.pg_admin = backend, pg_admin
        self.name = f"vault_loadbench_{os.getpid()}_{secrets.token_hex(4)}"

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            self.folder = tempfile.mkdtemp(prefix="vault-loadbench-db-")
            return f"sqlite:///{self.folder}/vault.db"
        import psycopg

        with psycopg.connect(self.pg_admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self.pg_admin.rsplit("/", 1)[0] + "/" + self.name

    def __exit__(self, *exc: object) -> None:
        if self.backend == "sqlite":
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(self.pg_admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def run(
    what: str, backend: str, size: int, workers: int | None, pg_admin: str, import_file: Path | None
) -> Figures:
    with Database(backend, pg_admin) as url:
        instance = Path(tempfile.mkdtemp(prefix="vault-loadbench-instance-"))
        try:
            _vault(instance, url, "init")
            extra = [] if workers is None else ["--workers", str(workers)]
            if what == "seed":
                figures = _vault(instance, url, "seed-demo", str(size), *extra)
            else:
                assert import_file is not None
                figures = _vault(instance, url, "import", str(import_file), *extra)
        finally:
            shutil.rmtree(instance, ignore_errors=True)
    assert figures is not None
    figures.what, figures.backend, figures.size = what, backend, size
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--what", default="seed,import")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--cvs",
        action="store_true",
        help="import records with their CV (each inspected in a sandbox "
        "process: expect a few per second)",
    )
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a database to connect to for CREATE/DROP DATABASE",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; workers: "
        f"{'default' if args.workers is None else args.workers}",
        flush=True,
    )
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="vault-loadbench-file-") as folder:
            import_file = None
            if "import" in args.what:
                import_file = Path(folder) / "people.jsonl"
                started = time.monotonic()
                write_import_file(import_file, size, cvs=args.cvs)
                print(
                    f"import file: {size:,} records, "
                    f"{import_file.stat().st_size / 2**20:,.0f} MiB "
                    f"(written in {time.monotonic() - started:.0f} s)",
                    flush=True,
                )
            for what in args.what.split(","):
                for backend in args.backends.split(","):
                    figures = run(what, backend, size, args.workers, args.pg, import_file)
                    print(figures.line(), f"[load average {os.getloadavg()[0]:.1f}]", flush=True)


if __name__ == "__main__":
    main()
