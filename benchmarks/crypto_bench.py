"""Crypto and erasure benchmark (issue: foundation).

Prints, measured in the same run:
- seal/open throughput of a 1 MiB CV as a ratio to raw AESGCM on the same buffer
  (target: at least 0.9);
- per-field seal/open and DEK wrap/unwrap costs in microseconds;
- erasure time with 1,000 against 10,000 candidates stored (target: ratio at most 1.2,
  i.e. erasure does not grow with the pool).

Every ratio comes from interleaved pairs (benchmarks/pairs.py): the raw and vault runs
alternate, and the two vaults' erasures alternate, one record each; the median of the
per-pair ratios is printed with its spread.

Run: .venv/bin/python benchmarks/crypto_bench.py [--sizes 1000,10000] [--erasures 30]
     [--pairs 31]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pairs import Pairs, batch, cpu_seconds, interleave, seconds

from vault.crypto import (
    Context,
    Keyring,
    new_data_key,
    open_bytes,
    seal_bytes,
    seal_text,
    unwrap_data_key,
    wrap_data_key,
)

MiB = 1024 * 1024


def best_of(fn: Callable[[], object], repeat: int, number: int) -> float:
    """Seconds per call: the best of `repeat` runs of `number` calls (least disturbed)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def bench_throughput(pairs: int) -> None:
    buf = os.urandom(MiB)
    dek = new_data_key()
    ctx = Context("document", "content:0123456789abcdef", "public-id-xxxxxxxxxxxx")
    ad = ctx.associated_data(dek.key_id)
    nonce = os.urandom(12)
    raw = AESGCM(dek.key)
    raw_ct = raw.encrypt(nonce, buf, ad)
    sealed = seal_bytes(dek, buf, ctx)

    number = 10  # calls per timed unit (about 10 ms)
    print(f"1 MiB CV, AES-256-GCM (raw and vault interleaved, {pairs} pairs of "
          f"{number} calls)")
    cases = (("seal", lambda: AESGCM(dek.key).encrypt(nonce, buf, ad),
              lambda: seal_bytes(dek, buf, ctx)),
             ("open", lambda: AESGCM(dek.key).decrypt(nonce, raw_ct, ad),
              lambda: open_bytes(dek, sealed, ctx)))
    for name, raw_fn, vault_fn in cases:
        # A = raw, B = vault: raw time / vault time is the vault's throughput ratio. In
        # CPU time of the thread (the work is all in this process), and by wall clock.
        for label, timer in (("CPU time", cpu_seconds), ("wall clock", seconds)):
            timed = interleave(batch(raw_fn, number), batch(vault_fn, number), pairs,
                               timer=timer)
            raw_rate = number / statistics.median(timed.a)
            vault_rate = number / statistics.median(timed.b)
            print(f"  {name} ({label}): raw AESGCM {raw_rate:8.0f} MiB/s   vault "
                  f"{vault_rate:8.0f} MiB/s   ratio {timed.summary()}  (target >= 0.90)")


def bench_small() -> None:
    keyring = Keyring.generate()
    dek = new_data_key()
    ctx = Context("candidate", "full_name", "public-id-xxxxxxxxxxxx")
    sealed = seal_text(dek, "Anna Peeters", ctx)
    wrapped = wrap_data_key(keyring, dek, "public-id-xxxxxxxxxxxx")
    pid = "public-id-xxxxxxxxxxxx"
    cases: list[tuple[str, Callable[[], object]]] = [
        ("seal one field", lambda: seal_text(dek, "Anna Peeters", ctx)),
        ("open one field", lambda: open_bytes(dek, sealed, ctx)),
        ("wrap a DEK", lambda: wrap_data_key(keyring, dek, pid)),
        ("unwrap a DEK", lambda: unwrap_data_key(keyring, wrapped, pid)),
    ]
    print("Per-operation costs")
    for name, fn in cases:
        print(f"  {name:<16} {best_of(fn, 5, 20000) * 1e6:6.2f} µs")


def bench_erasure(sizes: list[int], erasures: int) -> None:
    from contextlib import ExitStack

    from flask_migrate import upgrade
    from sqlalchemy import select

    from vault import create_app
    from vault.appctx import vault_keys
    from vault.extensions import db
    from vault.models import Candidate, utcnow
    from vault.services import audit
    from vault.services.candidates import (
        CandidateInput,
        DocumentInput,
        EducationInput,
        create_candidate,
    )
    from vault.services.erasure import OPERATOR, erase_records
    from vault.services.erasure_ledger import FileLedger

    print(f"Erasure (SQLite, one record per transaction, WAL checkpoint included; "
          f"{erasures} erasures a size, the sizes interleaved)")
    with ExitStack() as stack:
        vaults = []
        for size in sizes:
            instance = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            Keyring.generate().save(instance / "keyring")
            app = create_app({"SECRET_KEY": "bench", "DATABASE_URL":
                              f"sqlite:///{instance / 'vault.db'}",
                              "RATELIMIT_ENABLED": False}, instance_path=str(instance))
            with app.app_context():
                upgrade()
                keys = vault_keys()
                now = utcnow()
                cv_text = " ".join(f"skill{i % 400}" for i in range(150))
                for i in range(size):
                    create_candidate(db.session, keys, CandidateInput(
                        full_name=f"Person {i}", email=f"p{i}@example.org", phone="+32 4",
                        position="Engineer", interests="cycling",
                        education=(EducationInput("Master", "CS", "KU Leuven", "2019"),),
                        cv=DocumentInput(os.urandom(20_000), "cv.pdf", "application/pdf",
                                         "pdf", cv_text, True)), now=now)
                    if i % 1000 == 999:
                        db.session.commit()
                db.session.commit()
                ids = list(db.session.scalars(select(Candidate.id).order_by(Candidate.id)))
                step = max(1, len(ids) // erasures)
                db.session.remove()
            vaults.append((app, iter(ids[::step][:erasures]), instance / "ledger.jsonl"))

        def erase_one(app, ids, ledger) -> tuple[float, float]:
            with app.app_context():
                candidate = db.session.get(Candidate, next(ids))
                started = time.process_time()
                spent = seconds(lambda: erase_records(
                    db.session, [candidate], reason=OPERATOR, now=utcnow(),
                    ledger=FileLedger(ledger), actor=audit.CLI))
                cpu = time.process_time() - started
                db.session.remove()
                return spent, cpu

        # A = the largest pool, B = the smallest: one erasure each per pair.
        timed, cpu = Pairs(), Pairs()
        for n in range(erasures):
            order = (vaults[-1], vaults[0]) if n % 2 == 0 else (vaults[0], vaults[-1])
            spent = {id(v): erase_one(*v) for v in order}
            timed.add(spent[id(vaults[-1])][0], spent[id(vaults[0])][0])
            cpu.add(spent[id(vaults[-1])][1], spent[id(vaults[0])][1])
        for (app, _ids, _ledger), size, times in ((vaults[0], sizes[0], timed.b),
                                                  (vaults[-1], sizes[-1], timed.a)):
            print(f"  {size:>6} stored: {statistics.median(times) * 1000:7.2f} ms per erasure")
            with app.app_context():
                db.engine.dispose()
        if len(sizes) >= 2:
            print(f"  ratio {sizes[-1]} / {sizes[0]}: {timed.summary()}  (target <= 1.2); "
                  f"in CPU time of the process (SQLite runs in it): {cpu.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--erasures", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=31)
    parser.add_argument("--no-erasure", action="store_true",
                        help="skip the erasure part (it builds two vaults)")
    args = parser.parse_args()
    bench_throughput(args.pairs)
    bench_small()
    if not args.no_erasure:
        bench_erasure([int(s) for s in args.sizes.split(",")], args.erasures)


if __name__ == "__main__":
    main()
