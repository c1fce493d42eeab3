"""Keyword search over the blind index, within what the user may see.

Every query word is analysed as documents are (vault.crypto.analysis) and becomes the
keyed tokens of its readings, one per language; a record matches when it holds a
token of every word (several words narrow). A query that analysis leaves without a
word is refused (QueryRefused): it must never turn into "everyone". The database
finds, ranks and pages the matches by token alone, with the access rule in the same
query; only the page shown is opened. Since tokens are truncated, each match is
re-checked against the terms of the record's opened search card and dropped if it was
a collision. Queries can hold names: they never reach a log or the audit trail.

Ranking: by how much of a record matches, that is the sum over the query's words of
the level each reaches in the record (for a word that can be a prefix: 1, only as the
beginning of a longer word; then, for every word, the occurrence tiers: the word is
there, more than once, a word's forms counted together; services.indexing stores a
token per tier and prefix), newest first among equals: whole words before prefixes.
Only the first RANKED_WORDS words rank; further words narrow only, which keeps the
number of level combinations (levels ** words) small.

How it is computed on SQLite, where tokens sit in an FTS5 table holding bare lists of
record ids (no positions, no bm25, which would have to score every match):
- few matches (at most SMALL_MATCH): SQLite scores each from its token string;
- more: the score levels are walked from the top, each level one FTS5 expression
  (the tier combinations summing to it, as "any tier token AND ... NOT any of the next
  tier"), read newest first with LIMIT and OFFSET, until the page is full. A word at tier t is
  found by its tier-t tokens alone, since tier t implies every lower one (a word
  that can be a prefix has one level more, WordTokens.tiers).
On PostgreSQL the tokens are also stored as 32-bit integers (candidate_index.token_ids,
int4[], filled by a trigger; migration 0015): a GIN index on that column finds the
records holding a token of every word, and the score is the count of the query's tier
tokens each holds (a record holds at most one reading of a word: its own language's),
computed from the array in one pass (intarray's icount(a & b)). The token string is
never split at query time: doing so for every condition and score term of every match
was what made PostgreSQL searches slow (0.36 s at 11,000 candidates). The statements
on tokens are planned for each query's own arrays, never from a plan cached for their
shape (_custom_plans), and return ids only; the page's result lines are then read by
id in one statement whose plan is the same for every query (_PAGE_BY_IDS).
"""

from __future__ import annotations

import array
import contextlib
import functools
import itertools
import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    case,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer

from vault.crypto.analysis import Cache, QueryWord, matches, query_words
from vault.keys import VaultKeys
from vault.models import (
    Candidate,
    CandidateCompany,
    CandidateIndex,
    CandidateKey,
    User,
    Vacancy,
)
from vault.services.access import Viewer, recruiter_clause, viewer_kind
from vault.services.candidates import email_index
from vault.services.excerpts import Excerpt, Marker, excerpt
from vault.services.indexing import (
    DEGREE_LEVEL,
    WordTokens,
    card_terms,
    card_words,
    open_card,
    query_tokens,
)
from vault.services.sealing import Sealer, record_sealers

MAX_WORDS = 10
RANKED_WORDS = 3
# Up to this many matches, scoring each from its token string costs less than walking
# the score levels, whose expressions grow with the words.
SMALL_MATCH = 64
COUNT_CAP = 1_000  # "1,000+ matches" is all a person needs to know past that
MAX_PAGE = 10_000  # a page number past this is refused (the form's range)
EMAIL_PATTERN = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# The FTS5 table the migration keeps in step with candidate_index (SQLite only).
FTS = table("candidate_search", column("rowid"), column("candidate_search"))
# The tokens as int4[], kept in step by a trigger (PostgreSQL only, migration 0015).
# Not in the model: SQLite has no such column, and nothing but this module reads it.
TOKEN_IDS = literal_column("candidate_index.token_ids", ARRAY(Integer))
_FROM_PREFIX_ALPHABET = str.maketrans("ghijklmnopqrstuv", "0123456789abcdef")
_FROM_PREFIX_BYTES = bytes.maketrans(b"ghijklmnopqrstuv", b"0123456789abcdef")


def token_id(token: str) -> int:
    """A token as candidate_index.token_ids holds it: its first 32 bits as a signed
    int4 (as the migration's candidate_token_ids computes them; prefix tokens, written
    in letters g-v, map onto the same 32 bits)."""
    value = int(token.translate(_FROM_PREFIX_ALPHABET)[:8], 16)
    return value - (1 << 32) if value >= 1 << 31 else value


def token_ids(tokens: str) -> list[int]:
    """A record's candidate_index.token_ids from its tokens column: distinct, ascending,
    as the migration's candidate_token_ids aggregates them."""
    hexed = tokens.encode("ascii").translate(_FROM_PREFIX_BYTES)
    count = (len(hexed) + 1) // 9
    if len(hexed) % 9 == 8 and hexed.count(b" ") == count - 1 \
            and hexed[8::9] == b" " * (count - 1):
        # The usual 32-bit tokens, one space apart, converted in C (a bulk load makes
        # millions of them): big-endian 4-byte words read as signed int4, as token_id
        # computes them (fromhex skips the spaces).
        values = array.array("i", bytes.fromhex(hexed.decode("ascii")))
        if sys.byteorder == "little":
            values.byteswap()
        # Sorted first, then deduplicated in order (a word token and a prefix token may
        # share their 32 bits): twice as fast as sorting a set.
        return list(dict.fromkeys(sorted(values.tolist())))
    return sorted({token_id(w) for w in tokens.split()})


@dataclass(slots=True)
class SearchHit:
    public_id: str
    full_name: str
    position: str
    status: str
    created_at: datetime
    vacancy_title: str | None
    company: str | None  # the vacancy's, or those a spontaneous application names
    pool_consent_until: datetime | None
    excerpt: Excerpt


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchHit]
    total_estimate: int  # capped at COUNT_CAP
    page: int
    has_next: bool
    words: int
    page_size: int = 20
    # The last page, when known: the matches counted (under COUNT_CAP, or counted
    # exactly because the page asked for lies past them); None past COUNT_CAP.
    last_page: int | None = None

    @property
    def past_end(self) -> bool:
        """The page asked for lies past the last one (which has results)."""
        return self.last_page is not None and self.page > self.last_page


class QueryRefused(ValueError):
    """The query has text but no word left to look for (it would match everyone)."""


@dataclass(frozen=True)
class ParsedQuery:
    words: list[QueryWord]
    emails: list[str]


def parse_query(q: str) -> ParsedQuery:
    emails = EMAIL_PATTERN.findall(q)[:MAX_WORDS]
    rest = EMAIL_PATTERN.sub(" ", q)
    words = query_words(rest)[:MAX_WORDS]
    if rest.strip() and not words and not emails:
        # "c", "#", "++" or a lone letter: no word to look for. Listing every candidate
        # would answer a question nobody asked, so the query is refused instead. The
        # exception carries no text: a query can hold a name, and exceptions get logged.
        raise QueryRefused
    return ParsedQuery(words, emails)


@dataclass(frozen=True)
class Shape:
    """What a search statement depends on besides values: built once per shape."""

    viewer: Viewer
    vacancy: bool
    emails: int


@dataclass(frozen=True)
class QueryPlan:
    """A query as the database sees it: tokens, and the values of the access filters,
    no plaintext."""

    words: list[WordTokens]
    required: list[str]  # tokens every match holds besides the words' own (degree level)
    shape: Shape
    values: dict[str, Any]  # the filters' bound parameters

    @property
    def ranked(self) -> list[WordTokens]:
        return self.words[:RANKED_WORDS]

    @property
    def every(self) -> list[tuple[str, ...]]:
        """What every match holds: one token of each group."""
        return [w.tokens for w in self.words] + [(t,) for t in self.required]

    @property
    def higher(self) -> list[str]:
        """The tier tokens that raise a match's score (ranked words only)."""
        return [t for w in self.ranked for tier in w.tiers[1:] for t in tier]


def plan_query(keys: VaultKeys, user: User, query: ParsedQuery, *,
               degree_level: str | None, vacancy_id: int | None, now: datetime) -> QueryPlan:
    viewer = viewer_kind(user)
    values: dict[str, Any] = {}
    if viewer == "recruiter":
        values.update(viewer_company=user.company, viewer_now=now)
    if vacancy_id is not None:
        values["vacancy_id"] = vacancy_id
    values.update({f"email_{n}": email_index(keys, address)
                   for n, address in enumerate(query.emails)})
    required = [keys.blind_index.token(DEGREE_LEVEL, degree_level)] if degree_level else []
    return QueryPlan([query_tokens(keys.blind_index, w) for w in query.words], required,
                     Shape(viewer, vacancy_id is not None, len(query.emails)), values)


def _filters(shape: Shape) -> list[ColumnElement[bool]]:
    """The access rule and the filters, as bound parameters (values in QueryPlan.values)."""
    filters: list[ColumnElement[bool]] = []
    if shape.viewer == "recruiter":
        filters.append(recruiter_clause(bindparam("viewer_company"), bindparam("viewer_now")))
    elif shape.viewer == "nobody":
        filters.append(false())
    if shape.vacancy:
        filters.append(Candidate.vacancy_id == bindparam("vacancy_id"))
    filters.extend(Candidate.email_index == bindparam(f"email_{n}")
                   for n in range(shape.emails))
    return filters


def _quoted(tokens: Sequence[str]) -> list[str]:
    # Tokens are hex words; quoting keeps FTS5 from reading one as an operator.
    return [f'"{t}"' for t in tokens]


def _any_of(tokens: Sequence[str]) -> str:
    return _quoted(tokens)[0] if len(tokens) == 1 else f"({' OR '.join(_quoted(tokens))})"


def _all_of(groups: Sequence[Sequence[str]]) -> str:
    """Records holding one token of each group."""
    return " AND ".join(_any_of(group) for group in groups)


@functools.lru_cache(maxsize=64)
def _combinations(tier_counts: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """The score levels for ranked words of these many tiers, best first: each the tier
    combinations (the tier each word reaches) summing to its score."""
    by_score: dict[int, list[tuple[int, ...]]] = {}
    for tiers in itertools.product(*(range(count, 0, -1) for count in tier_counts)):
        by_score.setdefault(sum(tiers), []).append(tiers)
    return tuple(tuple(by_score[score]) for score in sorted(by_score, reverse=True))


def _tier_counts(plan: QueryPlan) -> tuple[int, ...]:
    return tuple(len(w.tiers) for w in plan.ranked)


def _levels(plan: QueryPlan) -> list[list[tuple[list[Sequence[str]], list[str]]]]:
    """The score levels, best first: each a list of tier combinations, each as (token
    groups a record holds one of each, tokens it holds none of)."""
    fixed = [w.tokens for w in plan.words[RANKED_WORDS:]] + [(t,) for t in plan.required]
    return [[([w.tiers[t - 1] for w, t in zip(plan.ranked, tiers, strict=True)] + fixed,
              [token for w, t in zip(plan.ranked, tiers, strict=True) if t < len(w.tiers)
               for token in w.tiers[t]])
             for tiers in level]
            for level in _combinations(_tier_counts(plan))]


def score_levels(plan: QueryPlan) -> list[str]:
    """FTS5 expressions of the score levels, best first; together they are every match."""
    levels = []
    for level in _levels(plan):
        expressions = []
        for present, absent in level:
            expression = f"({_all_of(present)})"
            if absent:
                expression = f"({expression} NOT ({' OR '.join(_quoted(absent))}))"
            expressions.append(expression)
        levels.append(" OR ".join(expressions))
    return levels


# What a result line reads of a record, joined to every statement that finds records:
# the ranked page comes back in the statement that ranks it.
PAGE_COLUMNS = (Candidate.id, Candidate.public_id, Candidate.status, Candidate.created_at,
                Candidate.pool_consent_until, CandidateKey.kek_version, CandidateKey.wrapped,
                CandidateIndex.card, Vacancy.title, Vacancy.company)
NAMED = len(PAGE_COLUMNS)  # where a PostgreSQL page row holds _named_column


def _page_rows(*extra: ColumnElement[Any]) -> Select[Any]:
    return (select(*PAGE_COLUMNS, *extra).select_from(Candidate)
            .join(CandidateKey, CandidateKey.candidate_id == Candidate.id)
            .join(CandidateIndex, CandidateIndex.candidate_id == Candidate.id)
            .outerjoin(Vacancy, Vacancy.id == Candidate.vacancy_id))


def _named_column() -> ColumnElement[str | None]:
    """(PostgreSQL) The companies a spontaneous application names, joined for display as
    _named_companies joins them, read with the page: a statement less per page."""
    named = (select(func.string_agg(CandidateCompany.company, aggregate_order_by(
        literal(" and "), CandidateCompany.company)))
        .where(CandidateCompany.candidate_id == Candidate.id).scalar_subquery())
    return case((Vacancy.company.is_(None), named))


def _capped(ids: Select[Any]) -> Select[tuple[int]]:
    return select(func.count()).select_from(ids.limit(bindparam("cap")).subquery())


@dataclass(frozen=True)
class _FtsStatements:
    """The SQLite statements of one shape; :m is an FTS5 expression of tokens."""

    count: Select[tuple[int]]  # matches of :m, up to :cap
    page: Select[Any]  # result lines of :m, newest first, :n from :o
    scored: Select[Any]  # result lines of :m, best first by :t0..., :n from :o


@functools.lru_cache(maxsize=64)
def _fts_statements(shape: Shape, scored_tokens: int) -> _FtsStatements:
    # Built once per shape: constructing these costs more than running them.
    filters = _filters(shape)
    matches = FTS.c.candidate_search.op("MATCH")(bindparam("m"))
    newest = FTS.c.rowid.desc()
    ids = select(FTS.c.rowid)
    if filters:
        ids = ids.join(Candidate, Candidate.id == FTS.c.rowid)
    ids = ids.where(matches, *filters).order_by(newest)
    # The score of a match read from its token string, in SQLite: instr finds whole
    # tokens only, since every token has the same width and no token holds a space.
    score = sum((cast(func.instr(CandidateIndex.tokens, bindparam(f"t{n}")) > 0, Integer)
                 for n in range(scored_tokens)), start=literal(0))
    return _FtsStatements(
        count=_capped(ids),
        page=_page_rows().join(FTS, FTS.c.rowid == Candidate.id).where(matches, *filters)
        .order_by(newest).limit(bindparam("n")).offset(bindparam("o")),
        scored=_page_rows().where(Candidate.id.in_(ids.scalar_subquery()))
        .order_by(score.desc(), Candidate.id.desc())
        .limit(bindparam("n")).offset(bindparam("o")))


def _count(connection: Connection, statement: Select[tuple[int]], values: dict[str, Any],
           **params: Any) -> int:
    return connection.execute(statement, {**values, **params}).scalar() or 0


def _sqlite_rows(connection: Connection, plan: QueryPlan, offset: int, limit: int
                 ) -> tuple[int, list[Row[Any]]]:
    higher = plan.higher
    statements = _fts_statements(plan.shape, len(higher))
    every = _all_of(plan.every)
    total = _count(connection, statements.count, plan.values, m=every, cap=COUNT_CAP)
    if total == 0:
        return 0, []
    if total <= SMALL_MATCH:
        return total, list(connection.execute(statements.scored, {
            **plan.values, "m": every, "n": limit, "o": offset,
            **{f"t{n}": token for n, token in enumerate(higher)}}))
    rows: list[Row[Any]] = []
    for level in score_levels(plan):
        if offset:
            # Levels wholly before the page are only counted.
            before = _count(connection, statements.count, plan.values, m=level, cap=offset)
            if before < offset:
                offset -= before
                continue
        rows += connection.execute(statements.page, {
            **plan.values, "m": level, "n": limit - len(rows), "o": offset})
        offset = 0
        if len(rows) == limit:
            break
    return total, rows


def _holds(name: str) -> ColumnElement[bool]:
    """The record holds one of the tokens in the int4[] parameter `name`: intarray's &&,
    which the GIN index (gin__int_ops) serves."""
    return TOKEN_IDS.op("&&", is_comparison=True)(bindparam(name, type_=ARRAY(Integer)))


def _pg_key(filters: list[ColumnElement[bool]]) -> ColumnElement[int]:
    """The id column _pg_ids reads (labelled id): without filters the index row's own."""
    return CandidateIndex.candidate_id if not filters else Candidate.id


def _pg_ids(condition: ColumnElement[bool], filters: list[ColumnElement[bool]]
            ) -> Select[tuple[int]]:
    """Ids of the records meeting a condition on their tokens and the filters. Without
    filters the index rows alone answer (each belongs to a candidate: a foreign key),
    as on SQLite: joining candidate cost the count a primary-key lookup a match."""
    if not filters:
        return select(CandidateIndex.candidate_id.label("id")).where(condition)
    return (select(Candidate.id).join(CandidateIndex, CandidateIndex.candidate_id == Candidate.id)
            .where(condition, *filters))


def _pg_window(condition: ColumnElement[bool], filters: list[ColumnElement[bool]],
               score: ColumnElement[int] | None = None) -> Select[tuple[int]]:
    """Ids of the window :n from :o of the records meeting `condition` and the filters,
    newest first, or best first by `score` then newest. Only ids: the result lines are
    read by _PAGE_BY_IDS, whose plan does not depend on the tokens."""
    key = _pg_key(filters)
    order = [key.desc()]
    if score is not None:
        order.insert(0, score.desc())
    return (_pg_ids(condition, filters).order_by(*order)
            .offset(bindparam("o")).limit(bindparam("n")))


# The result lines of a window, by the ids its token statement ranked (:ids, int4[]). A
# statement of its own, not joined to the one that ranks: the server plans a token
# statement for each query (_custom_plans), and planning these joins and the named
# companies' subquery cost 0.6 to 0.9 ms, as much as running them (a 3-word page of 10
# matches: 0.9 ms to plan, 0.6 to run); alone on one table a ranking plans in under
# 0.1 ms, and this statement keeps the plan psycopg prepared for it (ids by primary key,
# whatever the query). The window comes back in no order: _postgres_rows puts it in
# the ranking's.
_PAGE_BY_IDS = _page_rows(_named_column()).where(
    Candidate.id == func.any(bindparam("ids", type_=ARRAY(Integer))))


@dataclass(frozen=True)
class _PgStatements:
    """The PostgreSQL statements of one shape, number of token groups and tiers of the
    ranked words; tokens are int4[] parameters: :g0... (a group each match holds one
    of), :h (the tier tokens that score), and for the score levels :l<word>_<tier> (a
    ranked word's tokens of that tier) and :x<level>_<combination> (the tokens a tier
    combination holds none of); :cap, :n and :o as on SQLite."""

    count: Select[tuple[int]]  # matches, up to :cap
    page: Select[tuple[int]]  # ids of the matches, newest first, :n from :o
    scored: Select[tuple[int]]  # the same, best first by how many of :h each holds
    level_counts: tuple[Select[tuple[int]], ...]  # per score level, best first
    level_pages: tuple[Select[tuple[int]], ...]


@functools.lru_cache(maxsize=64)
def _pg_statements(shape: Shape, groups: int, tier_counts: tuple[int, ...]) -> _PgStatements:
    # Built once per shape, as on SQLite: building and hashing a statement of 27 tier
    # combinations cost more Python than the rest of a three-word page.
    filters = _filters(shape)
    every = [_holds(f"g{n}") for n in range(groups)]
    fixed = every[len(tier_counts):]  # words past RANKED_WORDS, the degree level
    # The score: how many of the query's tier tokens the record holds, from one sorted
    # intersection of the two arrays.
    score = func.icount(TOKEN_IDS.op("&", return_type=ARRAY(Integer))(
        bindparam("h", type_=ARRAY(Integer))))
    levels = []
    for level_at, level in enumerate(_combinations(tier_counts)):
        combinations = []
        for at, tiers in enumerate(level):
            present = [_holds(f"l{n}_{t}") for n, t in enumerate(tiers)]
            absent = [not_(_holds(f"x{level_at}_{at}"))] if any(
                t < count for t, count in zip(tiers, tier_counts, strict=True)) else []
            combinations.append(and_(*present, *fixed, *absent))
        levels.append(or_(*combinations))
    return _PgStatements(
        count=_capped(_pg_ids(and_(*every), filters)),
        page=_pg_window(and_(*every), filters),
        scored=_pg_window(and_(*every), filters, score),
        level_counts=tuple(_capped(_pg_ids(level, filters)) for level in levels),
        level_pages=tuple(_pg_window(level, filters) for level in levels))


def _ids(tokens: Iterable[str]) -> list[int]:
    return sorted({token_id(t) for t in tokens})


def _pg_groups(plan: QueryPlan) -> dict[str, list[int]]:
    return {f"g{n}": _ids(group) for n, group in enumerate(plan.every)}


def _pg_level(plan: QueryPlan, level_at: int, level: Sequence[tuple[int, ...]]
              ) -> dict[str, list[int]]:
    """The parameters of one score level's statements (as _levels lists its tokens)."""
    values: dict[str, list[int]] = {}
    for at, tiers in enumerate(level):
        absent: list[str] = []
        for n, (word, tier) in enumerate(zip(plan.ranked, tiers, strict=True)):
            if f"l{n}_{tier}" not in values:
                values[f"l{n}_{tier}"] = _ids(word.tiers[tier - 1])
            if tier < len(word.tiers):
                absent += word.tiers[tier]
        if absent:
            values[f"x{level_at}_{at}"] = _ids(absent)
    return values


@contextlib.contextmanager
def _custom_plans(connection: Connection) -> Iterator[None]:
    """(PostgreSQL) The statements run inside are not prepared, so the server plans each
    for its own token arrays. psycopg prepares a statement once its text has run five
    times (every search of a shape runs the same text), and after five more the server
    may keep a generic plan, made without the arrays' values: the plan of one query then
    serves every other of the shape. The best plan depends on how common the words are
    (a backward primary-key walk for common ones, the GIN index for rare ones), so a
    generic plan is wrong for most of them: "data engineer"'s level page took 105 to 168
    ms under the plan other two-word queries had left, against 2 ms planned for its own
    arrays (100,000 candidates), and its capped count 14 to 18 ms against 8 to 9.
    Planning a token statement costs under 0.1 ms (the result lines, whose joins take
    longer to plan, are read by _PAGE_BY_IDS, which stays prepared). The threshold is
    the connection's (pooled), so it is put back."""
    driver = connection.connection.driver_connection
    threshold = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def _postgres_rows(connection: Connection, plan: QueryPlan, offset: int, limit: int
                   ) -> tuple[int, list[Row[Any]]]:
    """The window's ids ranked by statements planned for this query's tokens, then its
    result lines by id (a statement whose prepared plan serves every query), in the
    ranking's order."""
    with _custom_plans(connection):
        total, ids = _postgres_ranked_ids(connection, plan, offset, limit)
    if not ids:
        return total, []
    # fetchall: one call for the rows, not one a row.
    by_id = {row[0]: row for row in connection.execute(_PAGE_BY_IDS, {"ids": ids}).all()}
    # A record erased between the two statements (each reads the data committed when it
    # starts) is left out, as it would be had it gone a moment before the search.
    return total, [by_id[i] for i in ids if i in by_id]


def _postgres_ranked_ids(connection: Connection, plan: QueryPlan, offset: int, limit: int
                         ) -> tuple[int, list[int]]:
    """As on SQLite: up to SMALL_MATCH matches are scored from their token arrays;
    more are read level by level, newest first, so that a word found in half the pool
    is not scored record by record (the planner walks the primary key backwards and
    stops at the page; scoring every match read each one's array)."""
    tier_counts = _tier_counts(plan)
    statements = _pg_statements(plan.shape, len(plan.every), tier_counts)
    values = {**plan.values, **_pg_groups(plan)}
    total = _count(connection, statements.count, values, cap=COUNT_CAP)
    if total == 0:
        return 0, []
    higher = plan.higher
    if total <= SMALL_MATCH or not higher:
        if higher:
            return total, list(connection.execute(statements.scored, {
                **values, "h": _ids(higher), "n": limit, "o": offset}).scalars())
        return total, list(connection.execute(statements.page, {
            **values, "n": limit, "o": offset}).scalars())
    ids: list[int] = []
    for level_at, level in enumerate(_combinations(tier_counts)):
        level_values = {**values, **_pg_level(plan, level_at, level)}
        if offset:
            # Levels wholly before the page are only counted.
            before = _count(connection, statements.level_counts[level_at], level_values,
                            cap=offset)
            if before < offset:
                offset -= before
                continue
        ids += connection.execute(statements.level_pages[level_at], {
            **level_values, "n": limit - len(ids), "o": offset}).scalars()
        offset = 0
        if len(ids) == limit:
            break
    return total, ids


def ranked_rows(session: Session, plan: QueryPlan, offset: int, limit: int
                ) -> tuple[int, list[Row[Any]]]:
    """(matches counted up to COUNT_CAP, the result lines of the window asked for, best
    first, still sealed); nothing is decrypted to find or rank them."""
    connection = session.connection()
    if not plan.every:
        filters = _filters(plan.shape)
        total = _count(connection, _capped(select(Candidate.id).where(*filters)), plan.values,
                       cap=COUNT_CAP)
        named = [] if connection.dialect.name == "sqlite" else [_named_column()]
        return total, list(connection.execute(
            _page_rows(*named).where(*filters).order_by(Candidate.id.desc())
            .offset(offset).limit(limit), plan.values))
    if connection.dialect.name == "sqlite":
        return _sqlite_rows(connection, plan, offset, limit)
    return _postgres_rows(connection, plan, offset, limit)


def _named_companies(session: Session, rows: Sequence[Row[Any]]) -> dict[int, str]:
    """The companies the spontaneous applications among `rows` name, joined for display:
    one query per page, not one per line (on PostgreSQL read with the page itself, the
    column after PAGE_COLUMNS)."""
    if session.connection().dialect.name != "sqlite":
        return {row[0]: row[NAMED] for row in rows if row[9] is None and row[NAMED] is not None}
    ids = [row[0] for row in rows if row[9] is None]
    if not ids:
        return {}
    named: dict[int, list[str]] = {}
    for candidate_id, company in session.execute(
            select(CandidateCompany.candidate_id, CandidateCompany.company)
            .where(CandidateCompany.candidate_id.in_(ids)).order_by(CandidateCompany.company)):
        named.setdefault(candidate_id, []).append(company)
    return {candidate_id: " and ".join(names) for candidate_id, names in named.items()}


def _hit(sealer: Sealer, row: Row[Any], words: list[QueryWord], cache: Cache,
         named: dict[int, str], marker: Marker) -> SearchHit | None:
    """The result line of one record, or None when its match was a token collision."""
    (candidate_id, public_id, status, created_at, pool_consent_until, _kek_version, _wrapped,
     sealed_card, vacancy_title, company, *_) = row
    company = company or named.get(candidate_id)
    card = open_card(sealer, sealed_card)
    # A prefix match is checked on the card's words, read only when a word is not
    # there whole (a prefix token collides as any truncated token can).
    if words and not matches(card_terms(card, cache), words, lambda: card_words(card)):
        return None
    return SearchHit(public_id, card.full_name, card.position, status, created_at,
                     vacancy_title, company, pool_consent_until,
                     excerpt(card.cv_text, words, marker=marker))


def _exact_total(session: Session, plan: QueryPlan, offset: int) -> int:
    """The matches counted exactly, when the window at `offset` came back empty (so
    they are at most `offset`): to name the last page."""
    if not offset:
        return 0
    connection = session.connection()
    if not plan.every:
        ids = select(Candidate.id).where(*_filters(plan.shape))
        return _count(connection, _capped(ids), plan.values, cap=offset)
    if connection.dialect.name == "sqlite":
        return _count(connection, _fts_statements(plan.shape, 0).count, plan.values,
                      m=_all_of(plan.every), cap=offset)
    statements = _pg_statements(plan.shape, len(plan.every), _tier_counts(plan))
    with _custom_plans(connection):
        return _count(connection, statements.count, {**plan.values, **_pg_groups(plan)},
                      cap=offset)


def search(session: Session, keys: VaultKeys, user: User, *, q: str,
           degree_level: str | None = None, vacancy_id: int | None = None, page: int = 1,
           page_size: int = 20, now: datetime) -> SearchPage:
    query = parse_query(q)
    page = min(max(page, 1), MAX_PAGE)
    plan = plan_query(keys, user, query, degree_level=degree_level, vacancy_id=vacancy_id, now=now)
    # Pages are windows of the ranked matches, so every match is on exactly one page. A
    # match that opening proves false (a token collision: rare at 32 bits) is dropped
    # from its page rather than replaced, which would repeat a line on the next page.
    # One row past the window says whether there is a next page.
    total, rows = ranked_rows(session, plan, (page - 1) * page_size, page_size + 1)
    cache: Cache = {}  # analysis of this page's cards; dropped with the request
    named = _named_companies(session, rows[:page_size])
    marker = Marker(query.words, cache)  # what excerpts mark, made once for the page
    # The page's data keys in one call to the KEK backend.
    sealers = record_sealers(keys, [(row[1], row[5], row[6]) for row in rows[:page_size]])
    hits = [hit for hit in (_hit(sealer, row, query.words, cache, named, marker)
                            for sealer, row in zip(sealers, rows[:page_size], strict=True))
            if hit is not None]
    has_next = len(rows) > page_size
    if not rows and page > 1:
        # Past the last page: count exactly (at most the offset) to name the last one.
        total = _exact_total(session, plan, (page - 1) * page_size)
    last_page = max(1, math.ceil(total / page_size)) if total < COUNT_CAP or not rows \
        else None
    return SearchPage(results=hits, total_estimate=total, page=page, has_next=has_next,
                      words=len(query.words), page_size=page_size, last_page=last_page)
