"""Keyword search over the blind index, within what the user may see.

Every query word becomes its keyed token in each searchable field; a record matches
when it has, for every word, at least one of that word's tokens (several words
narrow). The database finds, ranks and pages the matches by token alone (FTS5 with
bm25 on SQLite, a GIN index and the count of matching tokens on PostgreSQL), with the
access rule in the same query. Only the page shown is opened; since tokens are
truncated, each match is re-checked against the opened text and dropped if it was a
collision. Queries can hold names: they never reach a log or the audit trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    cast,
    column,
    func,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from vault.crypto import WrappedKey, normalise, tokenise, unwrap_data_key
from vault.keys import VaultKeys
from vault.models import (
    Candidate,
    CandidateIndex,
    CandidateKey,
    Document,
    Education,
    User,
    Vacancy,
)
from vault.services.access import visible_clause
from vault.services.candidates import email_index
from vault.services.indexing import DEGREE_LEVEL, query_tokens
from vault.services.sealing import Sealer

MAX_WORDS = 10
COUNT_CAP = 1_000  # "1,000+ matches" is all a person needs to know past that
EXCERPT = 160
EMAIL_PATTERN = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# The FTS5 table the migration keeps in step with candidate_index (SQLite only).
FTS = table("candidate_search", column("rowid"), column("rank"), column("candidate_search"))


@dataclass(frozen=True)
class SearchHit:
    public_id: str
    full_name: str
    position: str
    status: str
    created_at: datetime
    vacancy_title: str | None
    company: str | None
    pool_consent_until: datetime | None
    excerpt: str


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchHit]
    total_estimate: int  # capped at COUNT_CAP
    page: int
    has_next: bool
    words: int


@dataclass(frozen=True)
class ParsedQuery:
    words: list[str]
    emails: list[str]


def parse_query(q: str) -> ParsedQuery:
    emails = EMAIL_PATTERN.findall(q)[:MAX_WORDS]
    rest = EMAIL_PATTERN.sub(" ", q)
    return ParsedQuery(tokenise(rest)[:MAX_WORDS], emails)


def _token_groups(keys: VaultKeys, query: ParsedQuery, degree_level: str | None
                  ) -> list[list[str]]:
    groups = [query_tokens(keys.blind_index, word) for word in query.words]
    if degree_level:
        groups.append([keys.blind_index.token(DEGREE_LEVEL, degree_level)])
    return groups


def fts_expression(groups: list[list[str]]) -> str:
    # Tokens are hex words; quoting keeps FTS5 from reading one as an operator.
    return " AND ".join("(" + " OR ".join(f'"{t}"' for t in group) + ")" for group in groups)


def matching_ids(session: Session, keys: VaultKeys, user: User, query: ParsedQuery, *,
                 degree_level: str | None, vacancy_id: int | None,
                 now: datetime) -> Select[tuple[int]]:
    """Ids of visible matches, best first; nothing is decrypted to find or rank them."""
    filters: list[ColumnElement[bool]] = []
    if user.role != "admin" or not user.active:  # the admin sees every record
        filters.append(visible_clause(user, now))
    if vacancy_id is not None:
        filters.append(Candidate.vacancy_id == vacancy_id)
    filters.extend(Candidate.email_index == email_index(keys, a) for a in query.emails)
    groups = _token_groups(keys, query, degree_level)
    if not groups:
        return select(Candidate.id).where(*filters).order_by(Candidate.id.desc())
    if session.get_bind().dialect.name == "sqlite":
        matched = (select(FTS.c.rowid)
                   .where(FTS.c.candidate_search.op("MATCH")(fts_expression(groups)))
                   .order_by(FTS.c.rank))
        if not filters:
            return matched  # straight from the index, bm25 order, no join
        return matched.join(Candidate, Candidate.id == FTS.c.rowid).where(*filters)
    tokens = func.string_to_array(CandidateIndex.tokens, " ")
    every = [t for group in groups for t in group]
    overlap = func.cardinality(func.array(
        select(func.unnest(tokens)).intersect(select(func.unnest(cast(every, ARRAY(Text))))
                                              ).scalar_subquery()))
    statement = select(Candidate.id).join(CandidateIndex,
                                          CandidateIndex.candidate_id == Candidate.id)
    for group in groups:
        statement = statement.where(tokens.op("&&")(cast(group, ARRAY(Text))))
    return statement.where(*filters).order_by(overlap.desc(), Candidate.id.desc())


@dataclass
class _PageRecord:
    """The columns a result line needs, read with Core (no ORM objects for a page)."""

    public_id: str
    status: str
    created_at: datetime
    pool_consent_until: datetime | None
    vacancy_title: str | None
    company: str | None
    kek_version: int
    wrapped: bytes
    full_name: bytes
    position: bytes | None
    interests: bytes | None
    education: list[tuple[str, bytes, bytes, bytes]]
    cv: tuple[str, bytes] | None = None


def _load_page(session: Session, ids: list[int]) -> dict[int, _PageRecord]:
    connection = session.connection()
    records = {
        row.id: _PageRecord(row.public_id, row.status, row.created_at, row.pool_consent_until,
                            row.title, row.company, row.kek_version, row.wrapped,
                            row.full_name, row.position, row.interests, [])
        for row in connection.execute(
            select(Candidate.id, Candidate.public_id, Candidate.status, Candidate.created_at,
                   Candidate.pool_consent_until, Candidate.full_name, Candidate.position,
                   Candidate.interests, CandidateKey.kek_version, CandidateKey.wrapped,
                   Vacancy.title, Vacancy.company)
            .join(CandidateKey, CandidateKey.candidate_id == Candidate.id)
            .outerjoin(Vacancy, Vacancy.id == Candidate.vacancy_id)
            .where(Candidate.id.in_(ids)))}
    for row in connection.execute(
            select(Education.candidate_id, Education.uid, Education.degree, Education.field,
                   Education.institution)
            .where(Education.candidate_id.in_(ids)).order_by(Education.position)):
        records[row.candidate_id].education.append(
            (row.uid, row.degree, row.field, row.institution))
    # The CV's text, never its bytes: a page of results does not read files.
    for row in connection.execute(
            select(Document.candidate_id, Document.uid, Document.text)
            .where(Document.candidate_id.in_(ids), Document.kind == "cv")
            .order_by(Document.id)):
        records[row.candidate_id].cv = (row.uid, row.text)
    return records


@dataclass(frozen=True)
class _Opened:
    full_name: str
    position: str
    cv_text: str
    searchable: str  # normalised, for the collision check


def _open_for_page(keys: VaultKeys, record: _PageRecord) -> _Opened:
    """Only what the result line and the collision check need, nothing more."""
    dek = unwrap_data_key(keys.keyring, WrappedKey(record.kek_version, record.wrapped),
                          record.public_id)
    sealer = Sealer(dek, record.public_id)
    name = sealer.open("candidate", "full_name", record.full_name)
    position = sealer.open("candidate", "position", record.position)
    interests = sealer.open("candidate", "interests", record.interests)
    education = " ".join(sealer.open("education", column, value, uid)
                         for uid, *values in record.education
                         for column, value in zip(("degree", "field", "institution"), values,
                                                  strict=True))
    cv_text = sealer.open("document", "text", record.cv[1], record.cv[0]) if record.cv else ""
    return _Opened(name, position, cv_text,
                   normalise(" ".join((name, position, interests, education, cv_text))))


def _has_word(normalised: str, word: str) -> bool:
    return re.search(rf"(?<![0-9a-z]){re.escape(word)}(?![0-9a-z])", normalised) is not None


def _excerpt(cv_text: str, words: list[str]) -> str:
    flat = " ".join(cv_text.split())
    if not flat:
        return ""
    lowered = flat.casefold()
    start = 0
    for word in words:
        at = lowered.find(word)
        if at >= 0:
            start = max(0, at - EXCERPT // 3)
            break
    piece = flat[start:start + EXCERPT]
    return ("…" if start else "") + piece + ("…" if start + EXCERPT < len(flat) else "")


def search(session: Session, keys: VaultKeys, user: User, *, q: str,
           degree_level: str | None = None, vacancy_id: int | None = None, page: int = 1,
           page_size: int = 20, now: datetime) -> SearchPage:
    query = parse_query(q)
    page = max(page, 1)
    ids_query = matching_ids(session, keys, user, query, degree_level=degree_level,
                             vacancy_id=vacancy_id, now=now)
    # Ids only: Core on the session's connection, no ORM bookkeeping for plain integers.
    connection = session.connection()
    total = connection.execute(select(func.count()).select_from(
        ids_query.order_by(None).limit(COUNT_CAP).subquery())).scalar() or 0
    # A few extra ids cover matches that opening proves false (rare at 32 bits).
    ids = list(connection.execute(ids_query.offset((page - 1) * page_size)
                                  .limit(page_size + page_size // 2 + 1)).scalars())
    records = _load_page(session, ids)
    hits: list[SearchHit] = []
    used = 0
    for cid in ids:
        if len(hits) == page_size:
            break
        used += 1
        record = records.get(cid)
        if record is None:
            continue
        opened = _open_for_page(keys, record)
        if not all(_has_word(opened.searchable, word) for word in query.words):
            continue
        hits.append(SearchHit(
            public_id=record.public_id, full_name=opened.full_name, position=opened.position,
            status=record.status, created_at=record.created_at,
            vacancy_title=record.vacancy_title, company=record.company,
            pool_consent_until=record.pool_consent_until,
            excerpt=_excerpt(opened.cv_text, query.words)))
    has_next = used < len(ids) or total > (page - 1) * page_size + len(ids)
    return SearchPage(results=hits, total_estimate=total, page=page, has_next=has_next,
                      words=len(query.words))


