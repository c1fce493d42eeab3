"""Blind-index tokens of a record: what search can find it by.

Indexed: CV text, interests/skills, position sought, education (degree, field,
institution), name, all under the one key of the free-text field TEXT, as the terms
of vault.crypto.analysis (stems tagged with the record's language, technical terms,
compound parts), plus the
degree level under its own key. Exact e-mail lives in Candidate.email_index, under
the e-mail key. Not indexed, on purpose: age, gender, phone, notes.

Why one key for the free-text fields: search asks "does this person's record mention
the word", never "in which field"; one token per distinct word then serves every
query with a single index lookup, and the stored set says less (not which field a
word came from, nor how many words each field holds) than a token per field would.
Keys still differ per purpose (text, degree level, e-mail), so a token of one can
never be matched against another.

How often a word occurs counts too, coarsely: a term found more than once (its forms
together: "developer" and "developers" are one stem) also gets
a tier-2 token, under a key of its own. Search ranks by the tiers the query's words
reach (see services.search): a CV that keeps coming back to a skill before one that
names it in passing. An observer of the table learns per record how many words
repeat, as repeated tokens would show; not which words, since a tier token cannot be
linked to its word's token without the key. A third tier (three times or more) was
tried and dropped: it multiplies the score levels a query walks (3 ** words instead
of 2 ** words) and the tokens stored, and made two- and three-word lookups slower.

Prefix tokens: each beginning of a word (vault.crypto.analysis.word_prefixes) gives a
token under the prefix domain of TEXT (BlindIndex.prefix_token: a key and an alphabet
of its own). A query word that can be a prefix is found by its readings or its prefix
token; it ranks a level lower when only the prefix is there, so whole words come
first (WordTokens.tiers). Records indexed before prefix tokens existed carry an older
INDEX_VERSION in candidate_index.analysis: `vault check` names them, `vault reindex`
brings them up to date.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from vault.crypto import BlindIndex, normalise
from vault.crypto.analysis import (
    PREFIX_MAX,
    Cache,
    QueryWord,
    document_index,
    document_terms,
    document_words,
    query_words,
)
from vault.services.sealing import Sealer

TEXT, DEGREE_LEVEL, EMAIL = "text", "degree_level", "email"
# Occurrence tiers: 1 (the word's own token), 2 (twice or more). Each tier above the
# first has its own key (TIER_FIELDS); services.search works for any number of tiers.
TIERS = 2
TIER_FIELDS = {2: "text.tier2"}
# What analysis a record's tokens come from (candidate_index.analysis): 1 before prefix
# tokens, 2 with them. A change to the analysis that needs `vault reindex` raises it.
INDEX_VERSION = 2

DEGREE_LEVELS = ("secondary", "bachelor", "master", "doctorate")
_LEVEL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("doctorate", re.compile(r"\b(phd|ph d|doctor|doctorate|doctoraat|dphil|promotor)\b")),
    ("master", re.compile(r"\b(master|masters|msc|ma|mba|meng|llm|ir|master of)\b")),
    ("bachelor", re.compile(r"\b(bachelor|bachelors|bsc|ba|beng|bba|professional bachelor|"
                            r"graduaat|licentiaat)\b")),
    ("secondary", re.compile(r"\b(secondary|high school|aso|tso|bso|kso|diploma secundair)\b")),
)


def degree_level(degree: str) -> str | None:
    """Coarse level of a degree title, for the search filter (None when unknown)."""
    text = re.sub(r"[^0-9a-z]+", " ", normalise(degree))
    for level, pattern in _LEVEL_PATTERNS:
        if pattern.search(text):
            return level
    return None


@dataclass(frozen=True)
class IndexedText:
    """The plaintext a record is indexed by: in memory while indexing, and at rest only
    sealed, as the record's search card (with the terms its tokens came from)."""

    full_name: str
    position: str
    interests: str
    cv_text: str
    education: tuple[tuple[str, str, str], ...]  # (degree, field, institution)
    terms: frozenset[str] | None = field(default=None, compare=False)  # from a card


# Where a search card is sealed (its associated data): table and column.
CARD = ("candidate_index", "card")
# json.dumps with options builds an encoder per call; bulk loads write a card a record.
_CARD_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def card_value(text: IndexedText, terms: Iterable[str] | None = None) -> str:
    """The plaintext of a record's search card (seal_card): a bulk load seals it, under
    CARD, in the one seal_many call of the record's other fields."""
    value: list[Any] = [text.full_name, text.position, text.interests, text.cv_text,
                        [list(entry) for entry in text.education]]
    if terms is not None:
        value.append(sorted(terms))
    return _CARD_JSON(value)


def seal_card(sealer: Sealer, text: IndexedText, terms: Iterable[str] | None = None) -> bytes:
    """The record's search card: the indexed text, sealed as one value.

    A result line needs the name, the position, an excerpt of the CV and, to drop
    collisions of truncated tokens, every term the tokens came from; kept together
    they cost one decryption per result instead of one per field. The terms are kept
    as analysed, since analysing each result's text again would cost more than the
    rest of the page. Sealed with the record's key, so erasing the record shreds it
    like every other field."""
    return sealer.seal(*CARD, card_value(text, terms))


def open_card(sealer: Sealer, sealed: bytes) -> IndexedText:
    full_name, position, interests, cv_text, education, *terms = json.loads(
        sealer.open(*CARD, sealed))
    return IndexedText(full_name, position, interests, cv_text,
                       tuple((degree, field, institution)
                             for degree, field, institution in education),
                       frozenset(terms[0]) if terms else None)


def card_terms(text: IndexedText, cache: Cache | None = None) -> frozenset[str]:
    """The card's terms, as search re-checks its matches against them: those sealed with
    it, or (a card from before they were) the same analysis as indexing."""
    if text.terms is not None:
        return text.terms
    return frozenset(document_terms(_text_of(text), cache))


def card_words(text: IndexedText) -> frozenset[str]:
    """The card's plain words, to check a prefix match (analysis.document_words)."""
    return document_words(_text_of(text))


def _text_of(text: IndexedText) -> str:
    return " ".join([text.full_name, text.position, text.interests, text.cv_text,
                     *(" ".join(entry) for entry in text.education)])


@dataclass
class TokenMemo:
    """What bulk builders (reindex, import, seed-demo) keep for one run: words repeat
    across records, so most of a record's analysis and tokens are looked up, not
    recomputed. One dict per kind of key: a prefix is spelled like a raw word ("java"),
    and a marker added to each of a record's ~250 prefixes, to keep them apart in one
    dict, cost more than looking them up."""

    words: Cache = field(default_factory=dict)  # raw word -> its readings (analysis)
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # term -> its tokens
    prefixes: dict[str, str] = field(default_factory=dict)  # prefix -> its prefix token
    levels: dict[str, str | None] = field(default_factory=dict)  # degree -> level token

    def entries(self) -> int:
        return len(self.words) + len(self.terms) + len(self.prefixes) + len(self.levels)


_FIRST = itemgetter(0)


def _tier_tokens(index: BlindIndex, term: str, tiers: int) -> tuple[str, ...]:
    return (index.token(TEXT, term),
            *(index.token(TIER_FIELDS[t], term) for t in range(2, tiers + 1)))


def record_index(index: BlindIndex, text: IndexedText, memo: TokenMemo | None = None
                 ) -> tuple[str, frozenset[str]]:
    """The record's tokens (as record_tokens) and the terms they came from (for its
    search card)."""
    memo = TokenMemo() if memo is None else memo
    counts, prefixes = document_index(_text_of(text), memo.words)
    return _tokens(index, text, counts, memo, prefixes), frozenset(counts)


def record_tokens(index: BlindIndex, text: IndexedText, memo: TokenMemo | None = None) -> str:
    """The record's tokens, space-separated and sorted (so their order says nothing).

    Every distinct term gives its token; a repeated term also its tier tokens (see the
    module notes). Bulk builders (reindex, import, seed-demo) pass a memo that lives for
    one run: words repeat across records, so most terms and tokens are then looked up,
    not recomputed.
    """
    memo = TokenMemo() if memo is None else memo
    counts, prefixes = document_index(_text_of(text), memo.words)
    return _tokens(index, text, counts, memo, prefixes)


def _prefix_token(index: BlindIndex, prefix: str) -> str:
    return index.prefix_token(TEXT, prefix[:PREFIX_MAX])


def _tokens(index: BlindIndex, text: IndexedText, counts: Counter[str], memo: TokenMemo,
            prefixes: frozenset[str] = frozenset()) -> str:
    terms = memo.terms
    # New to this run: every tier at once. (Not counts.keys() - terms.keys(): that walks
    # the whole memo, which grows with the run.)
    if not terms.keys() >= counts.keys():
        for term in [t for t in counts if t not in terms]:
            terms[term] = _tier_tokens(index, term, TIERS)
    # Every term gives its token; a term seen at least t times its tier-t token too.
    tokens = list(map(_FIRST, map(terms.__getitem__, counts)))
    for tier in range(2, TIERS + 1):
        tokens += [terms[term][tier - 1] for term, count in counts.items() if count >= tier]
    # Prefixes looked up in C, as terms are: a record has about three times as many
    # prefixes as terms. Most records bring none new to the run, so a miss is caught.
    known = memo.prefixes
    try:
        found = list(map(known.__getitem__, prefixes))
    except KeyError:
        for prefix in [p for p in prefixes if p not in known]:
            known[prefix] = _prefix_token(index, prefix)
        found = list(map(known.__getitem__, prefixes))
    tokens += found
    levels = memo.levels
    for degree, _field, _institution in text.education:
        # Degree titles repeat too.
        if degree not in levels:
            level = degree_level(degree)
            levels[degree] = index.token(DEGREE_LEVEL, level) if level else None
        token = levels[degree]
        if token is not None and token not in tokens:
            tokens.append(token)
    return " ".join(sorted(tokens))


@dataclass(frozen=True)
class WordTokens:
    """What one query word is looked up by, as levels a record reaches by holding any
    token of the level: for a word without prefix, (its readings, one per language, see
    vault.crypto.analysis), (their tier-2 tokens); for a word that is also a prefix,
    (its readings and its prefix token), (its readings), (their tier-2 tokens). Each
    level implies the ones before it, and a whole word ranks above a prefix."""

    tiers: tuple[tuple[str, ...], ...]

    @property
    def tokens(self) -> tuple[str, ...]:
        """What every record matching the word holds one of."""
        return self.tiers[0]


def word_tokens(index: BlindIndex, word: str) -> frozenset[str]:
    """The tokens a record holding this word holds one of (one per language reading;
    prefix tokens left out: a record holding the word need not hold them)."""
    return frozenset(index.token(TEXT, term) for w in query_words(word) for term in w.terms)


def query_tokens(index: BlindIndex, word: QueryWord) -> WordTokens:
    readings = [_tier_tokens(index, term, TIERS) for term in word.terms]
    tiers = tuple(tuple(r[t] for r in readings) for t in range(TIERS))
    if word.prefix is None:
        return WordTokens(tiers)
    return WordTokens(((*tiers[0], _prefix_token(index, word.prefix)), *tiers))
