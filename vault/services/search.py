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
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.types import Text

from vault.crypto import tokenise
from vault.keys import VaultKeys
from vault.models import Candidate, CandidateIndex, Document, User
from vault.services.access import visible_clause
from vault.services.candidates import email_index
from vault.services.indexing import DEGREE_LEVEL, query_tokens
from vault.services.sealing import Sealer, record_sealer

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


@dataclass(frozen=True)
class _Opened:
    full_name: str
    position: str
    cv_text: str
    words: set[str]


def _open_for_page(sealer: Sealer, record: Candidate) -> _Opened:
    """Only what the result line and the collision check need, nothing more."""
    name = sealer.open("candidate", "full_name", record.full_name)
    position = sealer.open("candidate", "position", record.position)
    interests = sealer.open("candidate", "interests", record.interests)
    education = " ".join(sealer.open("education", c, getattr(e, c), e.uid)
                         for e in record.education for c in ("degree", "field", "institution"))
    cvs = [d for d in record.documents if d.kind == "cv"]
    cv_text = sealer.open("document", "text", cvs[-1].text, cvs[-1].uid) if cvs else ""
    return _Opened(name, position, cv_text,
                   set(tokenise(" ".join((name, position, interests, education, cv_text)))))


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


def _load(session: Session, ids: list[int]) -> dict[int, Candidate]:
    records = session.scalars(
        select(Candidate).where(Candidate.id.in_(ids)).options(
            selectinload(Candidate.key), selectinload(Candidate.education),
            # The CV's text, not its bytes: a page of results never reads the files.
            selectinload(Candidate.documents).defer(Document.content),
            joinedload(Candidate.vacancy)))
    return {r.id: r for r in records}


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
    records = _load(session, ids)
    hits: list[SearchHit] = []
    used = 0
    for cid in ids:
        if len(hits) == page_size:
            break
        used += 1
        record = records.get(cid)
        if record is None:
            continue
        opened = _open_for_page(record_sealer(keys, record), record)
        if not all(word in opened.words for word in query.words):
            continue
        vacancy = record.vacancy
        hits.append(SearchHit(
            public_id=record.public_id, full_name=opened.full_name, position=opened.position,
            status=record.status, created_at=record.created_at,
            vacancy_title=vacancy.title if vacancy else None,
            company=vacancy.company if vacancy else None,
            pool_consent_until=record.pool_consent_until,
            excerpt=_excerpt(opened.cv_text, query.words)))
    has_next = used < len(ids) or total > (page - 1) * page_size + len(ids)
    return SearchPage(results=hits, total_estimate=total, page=page, has_next=has_next,
                      words=len(query.words))


