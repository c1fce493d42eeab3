"""Lifecycle benchmark (issue: consent and retention lifecycle).

Builds a temporary SQLite vault of N records (default 100,000): each with a real data
key wrapped by the KEK and its name and e-mail really sealed (other fields empty, as
bulk loading them would only slow the set-up), live application to an open vacancy,
40% with talent-pool consent far from expiry. Then, in the same run:
- `vault rotate-kek` over every key: keys per second, and the ratio to the raw
  unwrap-and-wrap loop over the same keys in memory (1.0 = no overhead over crypto),
  from interleaved pairs (benchmarks/pairs.py: raw loop and rotation alternate, each
  going first in turn; the median of the per-pair ratios and its spread);
- `vault retention` with nothing due: seconds (target: well under a minute).
Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/lifecycle_bench.py [--n 100000] [--pairs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask_migrate import upgrade
from pairs import Pairs, seconds
from sqlalchemy import insert, select

from vault import create_app
from vault.crypto import Keyring, WrappedKey, new_data_key, rewrap_data_key, wrap_data_key
from vault.extensions import db
from vault.models import Candidate, CandidateKey, Vacancy, new_public_id, utcnow
from vault.services.candidates import email_index
from vault.services.sealing import Sealer

CHUNK = 5_000


def build(app, n: int) -> None:
    keys = app.extensions["vault.keys"]
    now = utcnow()
    vacancy = Vacancy(slug="bench", company="Ingenium", title="Bench", status="open")
    db.session.add(vacancy)
    db.session.commit()
    next_id = 1
    for start in range(0, n, CHUNK):
        candidates, wrapped_keys = [], []
        for number in range(start, min(start + CHUNK, n)):
            public_id = new_public_id()
            dek = new_data_key()
            sealer = Sealer(dek, public_id)
            email = f"person{number}@example.org"
            candidates.append({
                "id": next_id, "public_id": public_id, "created_at": now, "updated_at": now,
                "source": "apply", "vacancy_id": vacancy.id, "status": "new",
                "email_index": email_index(keys, email), "legal_hold": False,
                "pool_consent_until": now + timedelta(days=600) if number % 5 < 2 else None,
                "full_name": sealer.seal("candidate", "full_name", f"Person {number}"),
                "email": sealer.seal("candidate", "email", email)})
            wrapped = wrap_data_key(keys.keyring, dek, public_id)
            wrapped_keys.append({"candidate_id": next_id, "kek_version": wrapped.kek_version,
                                 "wrapped": wrapped.blob, "created_at": now})
            next_id += 1
        db.session.execute(insert(Candidate), candidates)
        db.session.execute(insert(CandidateKey), wrapped_keys)
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        Keyring.generate().save(instance / "keyring")
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{instance}/v.db",
                          "HTTPS": False, "MAIL_OUTBOX": str(instance / "outbox")},
                         instance_path=str(instance))
        runner = app.test_cli_runner()
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            build(app, args.n)
            print(f"built {args.n:,} records in {time.perf_counter() - started:.1f} s")
            db.session.remove()

        def current_keys() -> list:
            with app.app_context():
                rows = db.session.execute(select(
                    CandidateKey.kek_version, CandidateKey.wrapped, Candidate.public_id)
                    .join(Candidate)).all()
                db.session.remove()
            return rows

        def rotate() -> None:
            result = runner.invoke(args=["vault", "rotate-kek", "--batch-size", "5000"])
            assert result.exit_code == 0, result.output

        timed = Pairs()
        for pair in range(args.pairs):
            # Baseline: the cryptographic work alone over the keys as they now are, on a
            # rotated copy of the keyring (prepared outside the timing).
            rows = current_keys()
            # From the file: rotate-kek has written the versions it made there.
            keyring = Keyring.from_json((instance / "keyring").read_text())
            keyring.rotate()

            def raw(rows=rows, keyring=keyring) -> None:
                for version, blob, public_id in rows:
                    rewrap_data_key(keyring, WrappedKey(version, blob), public_id)

            if pair % 2 == 0:
                spent_raw = seconds(raw)
                spent_rotate = seconds(rotate)
            else:
                spent_rotate = seconds(rotate)
                spent_raw = seconds(raw)
            timed.add(spent_raw, spent_rotate)
        raw_s, rotate_s = statistics.median(timed.a), statistics.median(timed.b)
        print(f"rotate-kek: {args.n / rotate_s:,.0f} keys/s ({rotate_s:.1f} s); raw unwrap+wrap "
              f"{args.n / raw_s:,.0f} keys/s ({raw_s:.2f} s); ratio raw/rotate "
              f"{timed.summary()}")

        started = time.perf_counter()
        result = runner.invoke(args=["vault", "retention"])
        retention = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        print(f"retention over {args.n:,} records, nothing due: {retention:.2f} s")
        print("  " + result.output.strip().replace("\n", "\n  "))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
