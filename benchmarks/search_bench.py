"""Search benchmark (issue: recruiter workspace).

For each size (default 10,000 and 100,000 fictitious candidates, Zipf-skewed skills)
it builds a temporary SQLite vault through the bulk loader (as `vault seed-demo`
writes: sealed, keyed tokens, a wrapped data key each), then measures
in the same run:

- index building: computing the keyed tokens of every record and loading them into
  FTS5 (`detail=none`, as the vault's table), against loading the same plaintext into
  an ordinary FTS5 table (the unencrypted baseline); target: at least a third of the
  plaintext rate;
- one-, two- and three-word queries, p50 and p95 over many queries and runs, first
  page of 20, as the page runs them (capped count, ranked ids, the page opened and
  checked for collisions) against (a) plaintext FTS5 with the same shape (capped
  count, AND of the words, bm25, 20 rows read), target p50 ratio at most 1.0, and
  (b) opening every candidate and scanning its text, target at least 100x slower.
  Both pages produce the same result lines (name, position, an excerpt of the CV).

With --prefix-cost it measures only what prefix tokens cost the index: tokens and
bytes per candidate (the token string as stored, and the FTS5 table's pages) without
prefix tokens and with them for several longest prefixes (PREFIX_MAX), over the same
candidates. With --no-prefix the query benchmark runs with prefix tokens turned off
(neither indexed nor asked for), to compare query times with and without them.

Prints figures and ratios; asserts nothing.
Run: .venv/bin/python benchmarks/search_bench.py [--sizes 10000,100000] [--runs 5]
     .venv/bin/python benchmarks/search_bench.py --prefix-cost --sizes 10000
"""

from __future__ import annotations

import argparse
import itertools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask_migrate import upgrade
from pairs import Pairs, interleave, quantile
from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from vault import create_app
from vault.crypto import Keyring, analysis, tokenise
from vault.crypto.analysis import query_words
from vault.crypto.blind_index import is_prefix_token
from vault.extensions import db
from vault.models import Candidate, User
from vault.services import indexing
from vault.services.demo import people
from vault.services.excerpts import excerpt
from vault.services.indexing import IndexedText, TokenMemo, record_tokens
from vault.services.sealing import record_sealer
from vault.services.search import (
    COUNT_CAP,
    parse_query,
    plan_query,
    ranked_rows,
    search,
)

QUERIES = {
    1: ["python", "kafka", "rust", "terraform", "haskell", "leuven", "engineer"],
    2: ["python docker", "kafka spark", "data engineer", "java spring", "react typescript"],
    3: ["python docker linux", "kafka spark airflow", "azure terraform kubernetes",
        "master computer science"],
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def plain_text(person) -> dict[str, str]:
    data = person.data
    return {"name": data.full_name, "position": data.position, "interests": data.interests,
            "cv": data.cv.text if data.cv else "",
            "education": " ".join(f"{e.degree} {e.field} {e.institution}"
                                  for e in data.education)}


@dataclass(frozen=True)
class Build:
    keyed_rate: float  # docs/s, wall clock
    plain_rate: float
    keyed_cpu_rate: float  # docs/s, CPU time of this process (other load does not count)
    plain_cpu_rate: float
    keyed_bytes: int  # the FTS5 table's pages
    plain_bytes: int
    tokens_per_record: float


def build_rates(keys, persons, path: Path, chunk: int = 1000) -> Build:
    """Docs per second: keyed tokens into FTS5 against plaintext into FTS5; and the
    size of each index.

    The two builds alternate chunk by chunk (each going first in turn), so a machine
    that speeds up or slows down during the run weighs on both alike. SQLite runs in
    this process, so CPU time covers both builds whole; on a shared machine it is the
    steadier of the two measures."""
    conn = sqlite3.connect(path)
    # As the migration creates candidate_search.
    conn.execute("CREATE VIRTUAL TABLE bench_tokens USING fts5(tokens, detail='none', "
                 "columnsize=0, tokenize='ascii')")
    conn.execute("CREATE VIRTUAL TABLE bench_build USING fts5(name, position, interests, cv, "
                 "education)")
    memo = TokenMemo()  # as the bulk loaders (import, reindex, seed-demo) do

    def keyed(part: list) -> None:
        rows = []
        for number, person in part:
            text = plain_text(person)
            rows.append((number, record_tokens(keys.blind_index, IndexedText(
                text["name"], text["position"], text["interests"], text["cv"],
                tuple((e.degree, e.field, e.institution) for e in person.data.education)),
                memo)))
        conn.executemany("INSERT INTO bench_tokens(rowid, tokens) VALUES (?, ?)", rows)
        conn.commit()

    def plain(part: list) -> None:
        conn.executemany("INSERT INTO bench_build VALUES (:name, :position, :interests, :cv, "
                         ":education)", [plain_text(p) for _n, p in part])
        conn.commit()

    spent = {keyed: 0.0, plain: 0.0}
    cpu = {keyed: 0.0, plain: 0.0}
    numbered = enumerate(persons)
    n = 0
    while part := list(itertools.islice(numbered, chunk)):
        order = (keyed, plain) if (n // chunk) % 2 == 0 else (plain, keyed)
        n += len(part)
        for build in order:
            started = time.process_time()
            spent[build] += timed(lambda build=build, part=part: build(part)) / 1000
            cpu[build] += time.process_time() - started
    size = "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ?"
    keyed_bytes, plain_bytes = (conn.execute(size, (f"{name}%",)).fetchone()[0]
                                for name in ("bench_tokens", "bench_build"))
    tokens = sum(len(t.split()) for (t,) in conn.execute("SELECT tokens FROM bench_tokens"))
    conn.close()
    return Build(n / spent[keyed], n / spent[plain], n / cpu[keyed], n / cpu[plain],
                 keyed_bytes, plain_bytes, tokens / n)


PLAIN_COUNT = text("SELECT count(*) FROM (SELECT rowid FROM bench_plain WHERE bench_plain "
                   "MATCH :m LIMIT :cap)")
PLAIN_PAGE = text("SELECT rowid, name, position, cv FROM bench_plain WHERE bench_plain "
                  "MATCH :m ORDER BY rank LIMIT 20")


def _plain_expression(q: str) -> str:
    return " AND ".join(f'"{w}"' for w in tokenise(q))


def plaintext_lookup(q: str) -> list[tuple]:
    """The ranked rows read, as the encrypted lookup reads its (still sealed) rows; the
    baseline runs through the same engine and connection as the vault's query."""
    connection = db.session.connection()
    expression = _plain_expression(q)
    connection.execute(PLAIN_COUNT, {"m": expression, "cap": COUNT_CAP}).scalar()
    return list(connection.execute(PLAIN_PAGE, {"m": expression}))


def encrypted_lookup(keys, admin, q: str, moment) -> list:
    plan = plan_query(keys, admin, parse_query(q), degree_level=None, vacancy_id=None,
                      now=moment)
    return ranked_rows(db.session, plan, 0, 20)[1]


def plaintext_page(q: str) -> list[tuple]:
    """The same result lines as the vault's page: name, position, a CV excerpt."""
    connection = db.session.connection()
    expression = _plain_expression(q)
    words = query_words(q)
    connection.execute(PLAIN_COUNT, {"m": expression, "cap": COUNT_CAP}).scalar()
    return [(rowid, name, position, excerpt(cv, words)) for rowid, name, position, cv
            in connection.execute(PLAIN_PAGE, {"m": expression})]


def scan_page(keys, q: str) -> list[str]:
    """Open every candidate, keep those whose text has every word."""
    words = tokenise(q)
    found = []
    query = select(Candidate).options(selectinload(Candidate.education),
                                      selectinload(Candidate.documents),
                                      selectinload(Candidate.key))
    for record in db.session.scalars(query.execution_options(yield_per=1000)):
        sealer = record_sealer(keys, record)
        text = " ".join([sealer.open("candidate", c, getattr(record, c))
                         for c in ("full_name", "position", "interests")]
                        + [sealer.open("education", c, getattr(e, c), e.uid)
                           for e in record.education for c in ("degree", "field", "institution")]
                        + [sealer.open("document", "text", d.text, d.uid)
                           for d in record.documents])
        have = set(tokenise(text))
        if all(w in have for w in words):
            found.append(record.public_id)
    return found[:20]


def bench_build(n: int) -> None:
    """The index build alone, under a fresh key, over the same fictitious candidates."""
    from vault.crypto import BlindIndex

    @dataclass
    class Keys:
        blind_index: BlindIndex

    keys = Keys(BlindIndex(Keyring.generate().index_key))
    persons = list(people(n, seed=1, with_files=False))
    with tempfile.TemporaryDirectory() as tmp:
        built = build_rates(keys, persons, Path(tmp) / "build.db")
    print(f"{n:,}: keyed {built.keyed_rate:,.0f} / plaintext {built.plain_rate:,.0f} docs/s "
          f"(ratio {built.keyed_rate / built.plain_rate:.2f}); CPU time "
          f"{built.keyed_cpu_rate:,.0f} / {built.plain_cpu_rate:,.0f} docs/s (ratio "
          f"{built.keyed_cpu_rate / built.plain_cpu_rate:.2f}); size keyed "
          f"{built.keyed_bytes / 2**20:.1f} MiB ({built.tokens_per_record:.0f} tokens a "
          f"record), plaintext {built.plain_bytes / 2**20:.1f} MiB")


PREFIXES = (analysis.PREFIX_MIN, analysis.PREFIX_MAX)  # as the vault has them


def set_prefixes(longest: int | None) -> None:
    """Prefix tokens of PREFIX_MIN to `longest` letters, or none at all (None): neither
    indexed nor asked for by queries."""
    analysis.PREFIX_MIN = PREFIXES[0] if longest else 10**6
    analysis.PREFIX_MAX = indexing.PREFIX_MAX = longest or PREFIXES[1]


def bench_prefix_cost(n: int) -> None:
    """Tokens and bytes per candidate without prefix tokens and with them, for several
    longest prefixes, over the same fictitious candidates under one key."""
    from vault.crypto import BlindIndex

    index = BlindIndex(Keyring.generate().index_key)
    persons = list(people(n, seed=1, with_files=False))
    texts = [IndexedText(t["name"], t["position"], t["interests"], t["cv"],
                         tuple((e.degree, e.field, e.institution) for e in p.data.education))
             for p, t in ((p, plain_text(p)) for p in persons)]
    print(f"\n== {n:,} candidates: what prefix tokens cost the index")
    print(f"{'prefixes':>14} {'tokens':>8} {'of them prefix':>14} {'token bytes':>11} "
          f"{'FTS5 bytes':>10} {'vs none':>8}")
    base = None
    for longest in (None, 6, 8, 10, 12, 64):
        set_prefixes(longest)
        memo = TokenMemo()
        rows = [record_tokens(index, text, memo) for text in texts]
        tokens = [row.split() for row in rows]
        count = sum(len(t) for t in tokens) / n
        prefix = sum(sum(map(is_prefix_token, t)) for t in tokens) / n
        stored = sum(len(row) for row in rows) / n  # candidate_index.tokens, in bytes
        with tempfile.TemporaryDirectory() as tmp:
            conn = sqlite3.connect(Path(tmp) / "size.db")
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(tokens, detail='none', "
                         "columnsize=0, tokenize='ascii')")
            conn.executemany("INSERT INTO t(rowid, tokens) VALUES (?, ?)", enumerate(rows))
            conn.commit()
            fts = conn.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name "
                               "LIKE 't%'").fetchone()[0] / n
            conn.close()
        base = base or (count, stored, fts)
        label = "none" if longest is None else f"3..{longest}"
        print(f"{label:>14} {count:8.1f} {prefix:14.1f} {stored:11.0f} {fts:10.0f} "
              f"{stored / base[1]:7.2f}x")
    set_prefixes(PREFIXES[1])


def bench_size(n: int, runs: int, scan_runs: int, per_query: bool = False,
               jobs: int = 2, build: bool = True) -> None:
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
            admin = User(email="a@example.org", password_hash="-", role="admin",
                         company="Ingenium")
            db.session.add(admin)
            db.session.commit()
            started = time.perf_counter()
            seed_bulk(n, jobs)
            print(f"\n== {n:,} candidates (sealed by the bulk loader in {jobs} process(es), "
                  f"written in one transaction in {time.perf_counter() - started:.0f} s)")

            if build:
                built = build_rates(keys, people(n, seed=1, with_files=False),
                                    instance / "build.db")
                print(f"index build: keyed tokens {built.keyed_rate:,.0f} docs/s, plaintext "
                      f"FTS5 {built.plain_rate:,.0f} docs/s, ratio "
                      f"{built.keyed_rate / built.plain_rate:.2f} (target at least 0.33); "
                      f"CPU time: {built.keyed_cpu_rate:,.0f} against "
                      f"{built.plain_cpu_rate:,.0f} docs/s, ratio "
                      f"{built.keyed_cpu_rate / built.plain_cpu_rate:.2f}")
                print(f"index size: keyed {built.keyed_bytes / 2**20:.1f} MiB "
                      f"({built.tokens_per_record:.0f} tokens a record), plaintext FTS5 "
                      f"{built.plain_bytes / 2**20:.1f} MiB")

            # The unencrypted baseline: the same texts in an ordinary FTS5 table of the
            # same database, queried through the same connection; rowids 1..n in the
            # order of the people, as the vault's ids. Streamed, so memory stays flat.
            connection = db.session.connection()
            connection.execute(text("CREATE VIRTUAL TABLE bench_plain USING fts5(name, "
                                    "position, interests, cv, education)"))
            stream = people(n, seed=1, with_files=False)
            while chunk := [plain_text(p) for p in itertools.islice(stream, 10_000)]:
                connection.execute(text("INSERT INTO bench_plain VALUES (:name, :position, "
                                        ":interests, :cv, :education)"), chunk)
            db.session.commit()
            connection = db.session.connection()
            # The index proper: FTS5's segment blocks (the app's SQLite build has no
            # dbstat table); the plaintext table's copy of the texts is not counted.
            vault_bytes, plain_bytes = (connection.execute(text(
                f"SELECT coalesce(sum(length(block)), 0) FROM {name}_data")).scalar()
                for name in ("candidate_search", "bench_plain"))
            print(f"index size per candidate (bytes, FTS5 segment blocks): the vault's "
                  f"{vault_bytes / n:,.0f}, plaintext FTS5 {plain_bytes / n:,.0f}")

            print("page = capped count + the 20 ranked result lines with excerpts (encrypted: "
                  "opened and checked); lookup = capped count + the ranked rows, nothing opened; "
                  "ms")
            print(f"{'words':>5} {'enc p50':>8} {'enc p95':>8} {'plain p50':>9} "
                  f"{'plain p95':>9} {'p50 ratio':>9} {'lookup ratio':>12} {'scan p50':>9} "
                  f"{'scan/enc':>9}")
            for words, queries in QUERIES.items():
                page, lookup = Pairs(), Pairs()
                scanned = []
                for q in queries:
                    # Encrypted (A) and plaintext (B) alternate, pair by pair.
                    mine = interleave(lambda q=q: search(db.session, keys, admin, q=q,
                                                         page_size=20, now=moment),
                                      lambda q=q: plaintext_page(q), runs)
                    page.extend(mine)
                    interleave(lambda q=q: encrypted_lookup(keys, admin, q, moment),
                               lambda q=q: plaintext_lookup(q), runs, into=lookup)
                    if per_query:
                        print(f"      {q!r}: encrypted {statistics.median(mine.a) * 1000:.2f} "
                              f"ms, plaintext {statistics.median(mine.b) * 1000:.2f} ms")
                for q in queries[:scan_runs]:
                    scanned.append(timed(lambda q=q: scan_page(keys, q)))
                encrypted = [t * 1000 for t in page.a]
                plaintext = [t * 1000 for t in page.b]
                enc50 = statistics.median(encrypted)
                scan50 = statistics.median(scanned) if scanned else float("nan")
                print(f"{words:>5} {enc50:8.2f} {percentile(encrypted, .95):8.2f} "
                      f"{statistics.median(plaintext):9.2f} {percentile(plaintext, .95):9.2f} "
                      f"{page.ratio():9.2f} {lookup.ratio():12.2f} "
                      f"{scan50:9.0f} {scan50 / enc50:9.0f}")
                print(f"      page ratio {page.summary()}; lookup ratio {lookup.summary()}")
            db.session.remove()
            db.engine.dispose()


# --- PostgreSQL -----------------------------------------------------------------------

PG_PLAIN_COUNT = text("SELECT count(*) FROM (SELECT id FROM bench_plain WHERE tsv @@ "
                      "plainto_tsquery('simple', :q) LIMIT :cap) AS capped")
PG_PLAIN_PAGE = text("SELECT id, name, position, cv FROM bench_plain, "
                     "plainto_tsquery('simple', :q) AS query WHERE tsv @@ query "
                     "ORDER BY ts_rank(tsv, query) DESC, id DESC LIMIT 20")


def pg_plaintext_page(q: str) -> list[tuple]:
    """The plaintext page on PostgreSQL: capped count, 20 rows ranked by ts_rank, the
    same excerpts as the vault's page."""
    connection = db.session.connection()
    words = query_words(q)
    connection.execute(PG_PLAIN_COUNT, {"q": q, "cap": COUNT_CAP}).scalar()
    return [(rowid, name, position, excerpt(cv, words)) for rowid, name, position, cv
            in connection.execute(PG_PLAIN_PAGE, {"q": q})]


def _bench_batch(keys, span: tuple[int, int, datetime, bool], memo: TokenMemo) -> list:
    """People start..start+count of the seed-1 pool (as the plaintext baseline reads
    them), sealed and indexed by the bulk loader's build_batch."""
    from vault.services.bulkload import PlannedRecord, build_batch

    start, count, moment, token_arrays = span
    planned = [PlannedRecord(data=person.data, source="bench", consents=(),
                             pool_consent_until=None)
               for person in people(count, seed=1, with_files=False, start=start)]
    return build_batch(keys, planned, now=moment, memo=memo, token_arrays=token_arrays)


def seed_bulk(n: int, jobs: int) -> None:
    """The fictitious pool into the app's vault through the bulk loader (as `vault
    seed-demo` writes: COPY on PostgreSQL, executemany on SQLite, one transaction,
    sealing in `jobs` processes): ids 1..n in the order of the people, as the plaintext
    baseline numbers them."""
    from flask import current_app

    from vault.appctx import now
    from vault.services.bulkload import BATCH, load, run_jobs, token_arrays_for

    keys = current_app.extensions["vault.keys"]
    moment = now()
    token_arrays = token_arrays_for(db.session)
    spans = ((start, min(BATCH, n - start), moment, token_arrays)
             for start in range(0, n, BATCH))
    load(db.session, keys, run_jobs(keys, _bench_batch, spans, workers=jobs), now=moment)
    db.session.commit()


def pg_size(connection, relation: str) -> int:
    return connection.execute(text("SELECT pg_total_relation_size(CAST(:r AS regclass))"),
                              {"r": relation}).scalar() or 0


def bench_postgres(n: int, runs: int, server_url: str, seed_dir: Path,
                   explain: bool, jobs: int = 1) -> None:
    """Encrypted search on PostgreSQL against a tsvector baseline in the same database."""
    from sqlalchemy import create_engine

    from vault.database import database_url

    if not (seed_dir / "keyring").exists():
        Keyring.generate().save(seed_dir / "keyring")
    server = create_engine(database_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"bench_search_{os.getpid()}_{os.urandom(3).hex()}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.url.set(database=name).render_as_string(hide_password=False)
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "HTTPS": False},
                         instance_path=str(seed_dir))
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            seed_bulk(n, jobs)
            print(f"\n== {n:,} candidates on PostgreSQL (sealed by the bulk loader in "
                  f"{jobs} process(es), written with COPY in "
                  f"{time.perf_counter() - started:.0f} s)")
            keys = app.extensions["vault.keys"]
            from vault.appctx import now

            moment = now()
            admin = User(email="a@example.org", password_hash="-", role="admin",
                         company="Ingenium")
            db.session.add(admin)
            db.session.commit()
            # The plaintext baseline: the same texts, a tsvector column with a GIN index.
            connection = db.session.connection()
            connection.execute(text(
                "CREATE TABLE bench_plain (id integer PRIMARY KEY, name text, position text, "
                "interests text, cv text, education text, tsv tsvector GENERATED ALWAYS AS "
                "(to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(position, '') "
                "|| ' ' || coalesce(interests, '') || ' ' || coalesce(cv, '') || ' ' || "
                "coalesce(education, ''))) STORED)"))
            db.session.commit()
            raw = db.engine.raw_connection()
            try:
                with raw.cursor().copy("COPY bench_plain (id, name, position, interests, cv, "
                                       "education) FROM STDIN") as copy:
                    for number, person in enumerate(people(n, seed=1, with_files=False)):
                        row = plain_text(person)
                        copy.write_row((number + 1, row["name"], row["position"],
                                        row["interests"], row["cv"], row["education"]))
                raw.commit()
            finally:
                raw.close()
            connection = db.session.connection()
            connection.execute(text("CREATE INDEX bench_plain_gin ON bench_plain USING gin "
                                    "(tsv)"))
            # The vault's GIN index was filled row by row (its pending list merged by
            # VACUUM); rebuilt in one pass, as the plaintext one was made, for sizes
            # that compare.
            connection.execute(text("REINDEX INDEX candidate_token_ids_gin"))
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
            connection = db.session.connection()
            sizes = {relation: pg_size(connection, relation) for relation in (
                "candidate_index", "bench_plain", "bench_plain_gin")}
            indexes = dict(connection.execute(text(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM "
                "pg_index WHERE indrelid = 'candidate_index'::regclass")).all())
            print("sizes per candidate (bytes): candidate_index table "
                  f"{sizes['candidate_index'] / n:,.0f} (with its indexes and TOAST; search "
                  "card included); its indexes: "
                  + ", ".join(f"{k} {v / n:,.0f}" for k, v in indexes.items())
                  + f"; plaintext table {sizes['bench_plain'] / n:,.0f}, its GIN index "
                  f"{sizes['bench_plain_gin'] / n:,.0f}")
            db.session.commit()
            if explain:
                for q in ("python", "data engineer", "python docker linux"):
                    explain_query(keys, admin, q, moment)
            print(f"page = capped count + 20 ranked result lines with excerpts (encrypted: "
                  f"opened and checked); pairs of encrypted and plaintext pages interleaved, "
                  f"{runs} a query; ms")
            print(f"{'words':>5} {'enc p50':>8} {'enc p95':>8} {'plain p50':>9} "
                  f"{'plain p95':>9} {'p95 ratio':>9}  page ratio (median of pairs)")
            for words, queries in QUERIES.items():
                timed = Pairs()
                for q in queries:
                    interleave(lambda q=q: search(db.session, keys, admin, q=q, page_size=20,
                                                  now=moment),
                               lambda q=q: pg_plaintext_page(q), runs, into=timed)
                    db.session.commit()
                enc = [t * 1000 for t in timed.a]
                pla = [t * 1000 for t in timed.b]
                print(f"{words:>5} {quantile(enc, .5):8.2f} {quantile(enc, .95):8.2f} "
                      f"{quantile(pla, .5):9.2f} {quantile(pla, .95):9.2f} "
                      f"{quantile(enc, .95) / quantile(pla, .95):9.2f}  {timed.summary()}")
            db.session.remove()
            db.engine.dispose()
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def explain_query(keys, admin, q: str, moment) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement one search runs."""
    connection = db.session.connection()
    statements: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        search(db.session, keys, admin, q=q, page_size=20, now=moment)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    print(f"-- EXPLAIN (ANALYZE, BUFFERS) of the search {q!r}")
    raw = connection.connection.dbapi_connection
    for statement, parameters in statements:
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            print("\n".join(f"   {line}" for (line,) in cursor.fetchall()))
    db.session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--build-only", action="store_true",
                        help="measure only the index build and size (no vault, no queries)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scan-runs", type=int, default=2,
                        help="queries per word count timed with the full scan (slow; 0: none)")
    parser.add_argument("--per-query", action="store_true",
                        help="also print each query's encrypted and plaintext p50")
    parser.add_argument("--prefix-cost", action="store_true",
                        help="measure only the index size with and without prefix tokens")
    parser.add_argument("--no-prefix", action="store_true",
                        help="turn prefix tokens off (to compare query times)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL server: the run creates a database of its own there "
                        "and drops it at the end")
    parser.add_argument("--seed-dir", type=Path, default=None,
                        help="PostgreSQL: the instance directory (keyring); default: a "
                        "temporary directory")
    parser.add_argument("--seed-jobs", type=int, default=2,
                        help="processes sealing the pool for the bulk loader")
    parser.add_argument("--no-build", action="store_true",
                        help="SQLite: skip the index-build comparison (it rebuilds both "
                        "indexes in a database of its own: long at 1,000,000)")
    parser.add_argument("--explain", action="store_true",
                        help="PostgreSQL: print EXPLAIN (ANALYZE, BUFFERS) of three searches")
    args = parser.parse_args()
    if args.no_prefix:
        set_prefixes(None)
    for size in (int(s) for s in args.sizes.split(",")):
        if args.backend == "postgresql":
            if args.seed_dir:
                bench_postgres(size, args.runs, args.server, args.seed_dir, args.explain,
                               args.seed_jobs)
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    bench_postgres(size, args.runs, args.server, Path(tmp), args.explain,
                                   args.seed_jobs)
        elif args.prefix_cost:
            bench_prefix_cost(size)
        elif args.build_only:
            bench_build(size)
        else:
            bench_size(size, args.runs, args.scan_runs, args.per_query, args.seed_jobs,
                       not args.no_build)


if __name__ == "__main__":
    main()
