"""Blind-index tokens of a record: what search can find it by.

Indexed: CV text, interests/skills, position sought, education (degree, field,
institution), name, all under the one key of the free-text field TEXT, plus the
degree level under its own key. Exact e-mail lives in Candidate.email_index, under
the e-mail key. Not indexed, on purpose: age, gender, phone, notes.

Why one key for the free-text fields: search asks "does this person's record mention
the word", never "in which field"; one token per distinct word then serves every
query with a single index lookup, and the stored set says less (not which field a
word came from, nor how many words each field holds) than a token per field would.
Keys still differ per purpose (text, degree level, e-mail), so a token of one can
never be matched against another.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from vault.crypto import BlindIndex, normalise, words

TEXT, DEGREE_LEVEL, EMAIL = "text", "degree_level", "email"
MAX_REPEAT = 3

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
    """The plaintext a record is indexed by (held only in memory while indexing)."""

    full_name: str
    position: str
    interests: str
    cv_text: str
    education: tuple[tuple[str, str, str], ...]  # (degree, field, institution)


def _text_of(text: IndexedText) -> str:
    return " ".join([text.full_name, text.position, text.interests, text.cv_text,
                     *(" ".join(entry) for entry in text.education)])


def record_tokens(index: BlindIndex, text: IndexedText,
                  memo: dict[str, str] | None = None) -> str:
    """The record's tokens, space-separated and sorted (so their order says nothing).

    A word's token is repeated as often as the word occurs, up to MAX_REPEAT: search
    ranks by how much of a record matches (bm25 over these counts), and beyond a few
    occurrences more says nothing. Bulk builders (reindex, import, seed-demo) pass a
    memo that lives for one run: words repeat across records, so most tokens are then
    looked up, not recomputed.
    """
    memo = {} if memo is None else memo
    get = memo.get
    tokens: list[str] = []
    for word, count in Counter(words(_text_of(text))).items():
        token = get(word)
        if token is None:
            token = memo[word] = index.token(TEXT, word)
        if count == 1:
            tokens.append(token)
        else:
            tokens.extend((token,) * min(count, MAX_REPEAT))
    for degree, _field, _institution in text.education:
        # Degree titles repeat too; a key no word can be (words have no spaces or NUL).
        key = "\0level " + degree
        level = memo.get(key)
        if level is None:
            found = degree_level(degree)
            level = memo[key] = index.token(DEGREE_LEVEL, found) if found else ""
        if level and level not in tokens:
            tokens.append(level)
    return " ".join(sorted(tokens))


def query_tokens(index: BlindIndex, word: str) -> list[str]:
    """The token(s) one normalised query word is looked up by."""
    return [index.token(TEXT, word)]
