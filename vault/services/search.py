"""Keyword search over the blind index, within what the user may see.

Every query word becomes its keyed token in each searchable field; a record matches
when it has, for every word, at least one of that word's tokens (several words
narrow). The database finds candidates by token alone (FTS5 on SQLite, a GIN index
on PostgreSQL), restricted by the access rule in the same query. Ranking counts
matching tokens, on ids and tokens only. Only the page shown is opened; since tokens
are truncated, a match is re-checked against the opened text and dropped if it was
a collision. Queries can hold names: they never reach a log or the audit trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from vault.crypto import tokenise
from vault.keys import VaultKeys
from vault.models import Candidate, CandidateIndex, User
from vault.services.access import visible_clause
from vault.services.candidates import (
    OpenedCandidate,
    email_index,
    find_document,
    open_candidate,
    open_document_text,
)
from vault.services.indexing import DEGREE_LEVEL, query_tokens

MAX_WORDS = 10
MAX_RANKED = 5_000  # beyond this many matches, ranking looks at the newest only
EXCERPT = 160
EMAIL_PATTERN = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


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
    score: int
    excerpt: str


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchHit]
    total_estimate: int
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


def _match_tokens(session: Session, statement: Select, groups: list[list[str]]) -> Select:
    if not groups:
        return statement
    if session.get_bind().dialect.name == "sqlite":
        # Tokens are hex words; quoting keeps FTS5 from reading one as an operator.
        expression = " AND ".join("(" + " OR ".join(f'"{t}"' for t in group) + ")"
                                  for group in groups)
        found = text("SELECT rowid FROM candidate_search WHERE candidate_search MATCH :m"
                     ).bindparams(m=expression)
        return statement.where(Candidate.id.in_(found))
    array = func.string_to_array(CandidateIndex.tokens, " ")
    for group in groups:
        statement = statement.where(array.op("&&")(cast(group, ARRAY(Text))))
    return statement


def _base(session: Session, keys: VaultKeys, user: User, query: ParsedQuery,
          degree_level: str | None, vacancy_id: int | None, now: datetime) -> Select:
    statement = (select(Candidate.id, CandidateIndex.tokens)
                 .join(CandidateIndex, CandidateIndex.candidate_id == Candidate.id)
                 .where(visible_clause(user, now)))
    if vacancy_id is not None:
        statement = statement.where(Candidate.vacancy_id == vacancy_id)
    for address in query.emails:
        statement = statement.where(Candidate.email_index == email_index(keys, address))
    return _match_tokens(session, statement, _token_groups(keys, query, degree_level))


def _rank(rows: list[tuple[int, str]], keys: VaultKeys, query: ParsedQuery
          ) -> list[tuple[int, int]]:
    wanted = {t for word in query.words for t in query_tokens(keys.blind_index, word)}
    scored = [(len(wanted.intersection(tokens.split())), cid) for cid, tokens in rows]
    scored.sort(key=lambda item: (-item[0], -item[1]))  # best first, then newest
    return scored


def open_searchable(keys: VaultKeys, candidate: Candidate
           ) -> tuple[OpenedCandidate, set[str], str]:
    opened = open_candidate(keys, candidate, with_notes=False)
    document = find_document(candidate)
    cv_text = open_document_text(keys, candidate, document) if document else ""
    fields = {
        "name": opened.full_name, "position": opened.position, "interests": opened.interests,
        "cv": cv_text,
        "education": " ".join(f"{e.degree} {e.field} {e.institution}"
                              for e in opened.education)}
    return opened, set(tokenise(" ".join(fields.values()))), cv_text


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
    statement = _base(session, keys, user, query, degree_level, vacancy_id, now)
    if query.words:
        rows = [(cid, tokens) for cid, tokens in session.execute(
            statement.order_by(Candidate.id.desc()).limit(MAX_RANKED))]
        ranked = _rank(rows, keys, query)
    else:
        matches = statement.subquery()
        ids = session.scalars(select(matches.c.id).order_by(matches.c.id.desc())
                              .limit(MAX_RANKED)).all()
        ranked = [(0, cid) for cid in ids]
    hits: list[SearchHit] = []
    position = (page - 1) * page_size
    while position < len(ranked) and len(hits) < page_size:
        score, cid = ranked[position]
        position += 1
        candidate = session.get(Candidate, cid)
        if candidate is None:
            continue
        opened, words, cv_text = open_searchable(keys, candidate)
        # A truncated token can collide: keep only records the opened text confirms.
        if not all(word in words for word in query.words):
            continue
        vacancy = candidate.vacancy
        hits.append(SearchHit(
            public_id=candidate.public_id, full_name=opened.full_name,
            position=opened.position, status=candidate.status,
            created_at=candidate.created_at,
            vacancy_title=vacancy.title if vacancy else None,
            company=vacancy.company if vacancy else None,
            pool_consent_until=candidate.pool_consent_until, score=score,
            excerpt=_excerpt(cv_text, query.words)))
    return SearchPage(results=hits, total_estimate=len(ranked), page=page,
                      has_next=position < len(ranked), words=len(query.words))
