"""Search benchmark (issue: recruiter workspace).

Seeds N fictitious candidates (Zipf-skewed skills, 40% in the pool) into a temporary
SQLite vault and times, as a recruiter, a one-word, a three-word and an exact e-mail
query (median of several runs; each returns the first page, opened and verified).
The baseline, measured in the same run, is the naive way: read every token row and
match in Python, then open the same page. Prints figures and ratios; asserts nothing.

Run: .venv/bin/python benchmarks/search_bench.py [--n 20000] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import select

from vault import create_app
from vault.crypto import Keyring
from vault.extensions import db
from vault.models import Candidate, CandidateIndex, User, Vacancy
from vault.services import consent
from vault.services.access import can_see
from vault.services.candidates import create_candidate
from vault.services.demo import people
from vault.services.indexing import query_tokens
from vault.services.search import open_searchable, parse_query, search


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def naive_search(keys, user, q: str, now, page_size: int = 20) -> list[str]:
    """Scan every token row in Python, then open and verify the first page."""
    query = parse_query(q)
    groups = [set(query_tokens(keys.blind_index, w)) for w in query.words]
    rows = db.session.execute(select(CandidateIndex.candidate_id, CandidateIndex.tokens)).all()
    matches = [cid for cid, tokens in rows
               if all(group.intersection(tokens.split()) for group in groups)]
    found = []
    for cid in sorted(matches, reverse=True):
        candidate = db.session.get(Candidate, cid)
        if not can_see(db.session, user, candidate, now):
            continue
        _opened, words, _cv = open_searchable(keys, candidate)
        if all(w in words for w in query.words):
            found.append(candidate.public_id)
        if len(found) == page_size:
            break
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        Keyring.generate().save(instance / "keyring")
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{instance}/v.db",
                          "HTTPS": False}, instance_path=str(instance))
        with app.app_context():
            upgrade()
            keys = app.extensions["vault.keys"]
            from vault.appctx import now

            moment = now()
            vacancy = Vacancy(slug="bench", company="Ingenium", title="Bench", status="open")
            user = User(email="r@example.org", password_hash="-", role="recruiter",
                        company="Ingenium")
            db.session.add_all([vacancy, user])
            db.session.flush()
            start = time.perf_counter()
            email = ""
            for number, person in enumerate(people(args.n, seed=1, with_files=False)):
                record = create_candidate(db.session, keys, person.data, now=moment,
                                          vacancy_id=vacancy.id if number % 10 == 0 else None)
                if person.pool:
                    consent.grant_pool_consent(db.session, record, months=24,
                                               notice_version="bench", source="bench",
                                               now=moment)
                    email = person.data.email
                if number % 500 == 0:
                    db.session.commit()
            db.session.commit()
            print(f"seeded {args.n:,} candidates in {time.perf_counter() - start:.1f} s")
            queries = {"one word (kafka)": "kafka", "three words (python docker linux)":
                       "python docker linux", "exact e-mail": email}
            print(f"{'query':36} {'indexed ms':>11} {'naive ms':>9} {'ratio':>7} {'hits':>5}")
            for label, q in queries.items():
                def indexed(q: str = q) -> object:
                    return search(db.session, keys, user, q=q, page_size=20, now=moment)
                hits = len(indexed().results)  # type: ignore[attr-defined]
                fast = median_ms(indexed, args.runs)
                slow = median_ms(lambda q=q: naive_search(keys, user, q, moment), args.runs)
                print(f"{label:36} {fast:11.1f} {slow:9.1f} {fast / slow:7.3f} {hits:5}")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
