"""Where a bulk load's CPU goes, per record: the workers' share and the writer's.

`vault seed-demo` and `vault import` seal records in worker processes and write them
from one process (vault/services/bulkload.py). This script runs the same steps in one
process, one after the other, on `--size` demo people (as `vault seed-demo` makes them),
and prints the CPU time of each step per record:

- the workers' steps: making the demo people (seed-demo only), `build_batch` (sealing,
  search tokens and card, key wrapping; and on PostgreSQL the token_ids array), and
  pickling a batch (what crosses the pipe back to the writer);
- the writer's step, `bulkload.load` into a fresh vault: this process's CPU and, on
  PostgreSQL, the CPU of the server process serving its connection (read from
  /proc/<pid>/stat, so the server must run on this machine).

CPU time, not wall clock: on a shared machine it moves much less with the neighbours.
On 2 CPUs the rate a load can reach is at most 2 / (sum of the steps) records a second.
Prints figures; asserts nothing.
Run: .venv/bin/python benchmarks/writer_bench.py [--size 10000] [--backend postgresql]
     [--server postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from vault import create_app
from vault.crypto import Keyring
from vault.extensions import db


def _server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(size: int, url: str, instance: Path) -> dict[str, float]:
    from vault.appctx import now, vault_keys
    from vault.commands.demo import BATCH, _DemoBatch, _vacancies, demo_records
    from vault.services.bulkload import build_batch, load
    from vault.services.indexing import TokenMemo

    Keyring.generate().save(instance / "keyring")
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "HTTPS": False},
                     instance_path=str(instance))
    with app.app_context():
        upgrade()
        keys, moment = vault_keys(), now()
        postgresql = db.engine.dialect.name == "postgresql"
        vacancies = tuple(v.id for v in _vacancies())

        def batch(start: int) -> _DemoBatch:
            return _DemoBatch(start, min(BATCH, size - start), 1, vacancies, 12, moment,
                              postgresql)

        memo = TokenMemo()
        # Warm-up: the run's token memo fills on the first records, as in a real run.
        build_batch(keys, demo_records(batch(size)), now=moment, memo=memo,
                    token_arrays=postgresql)
        clock = time.process_time
        started = clock()
        planned = [demo_records(batch(start)) for start in range(0, size, BATCH)]
        demo = clock() - started
        started = clock()
        built = [build_batch(keys, p, now=moment, memo=memo, token_arrays=postgresql)
                 for p in planned]
        sealing = clock() - started
        started = clock()
        for b in built:
            pickle.loads(pickle.dumps(b))
        piping = clock() - started
        server_pid = None
        if postgresql:
            server_pid = db.session.connection().execute(
                text("SELECT pg_backend_pid()")).scalar_one()
        server_before = _server_cpu(server_pid) if server_pid else 0.0
        started = clock()
        load(db.session, keys, iter(built), now=moment)
        db.session.commit()
        writer = clock() - started
        server = (_server_cpu(server_pid) - server_before) if server_pid else 0.0
        db.session.remove()
        db.engine.dispose()
    return {"demo people": demo, "build_batch": sealing, "pickle + unpickle": piping,
            "writer (this process)": writer, "writer (database server)": server}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL: a database to connect to for CREATE/DROP DATABASE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vault-writerbench-") as folder:
        instance = Path(folder)
        if args.backend == "sqlite":
            figures = measure(args.size, f"sqlite:///{instance}/vault.db", instance)
        else:
            from vault.database import database_url

            server = create_engine(database_url(args.server), isolation_level="AUTOCOMMIT")
            name = f"bench_writer_{os.getpid()}_{os.urandom(3).hex()}"
            with server.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = server.url.set(database=name).render_as_string(hide_password=False)
                figures = measure(args.size, url, instance)
            finally:
                with server.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                server.dispose()
    print(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {args.backend}, "
          f"{args.size:,} demo people, load average {os.getloadavg()[0]:.1f}; "
          "CPU ms a record:")
    for step, seconds in figures.items():
        print(f"  {step:26s} {seconds / args.size * 1000:6.3f}")
    total = sum(figures.values()) / args.size
    print(f"  {'all steps':26s} {total * 1000:6.3f}  -> at most {2 / total:,.0f} records/s "
          "on 2 CPUs")


if __name__ == "__main__":
    main()
