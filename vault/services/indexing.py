"""Blind-index tokens of a record: what search can find it by.

Indexed: CV text, interests/skills, position sought, education (degree, field,
institution, degree level), name. Exact e-mail lives in Candidate.email_index.
Not indexed, on purpose: age, gender, phone, notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from vault.crypto import BlindIndex, normalise

NAME, POSITION, INTERESTS, CV = "name", "position", "interests", "cv"
DEGREE, FIELD, INSTITUTION, DEGREE_LEVEL = "degree", "field", "institution", "degree_level"
EMAIL = "email"
# Fields a free-text query word is looked up in (a word matches if any of them has it).
TEXT_FIELDS = (NAME, POSITION, INTERESTS, CV, DEGREE, FIELD, INSTITUTION)

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


def record_tokens(index: BlindIndex, text: IndexedText) -> str:
    """Space-separated, sorted, distinct tokens (sorted so their order says nothing)."""
    tokens: set[str] = set()
    tokens.update(index.tokens(NAME, text.full_name))
    tokens.update(index.tokens(POSITION, text.position))
    tokens.update(index.tokens(INTERESTS, text.interests))
    tokens.update(index.tokens(CV, text.cv_text))
    for degree, field, institution in text.education:
        tokens.update(index.tokens(DEGREE, degree))
        tokens.update(index.tokens(FIELD, field))
        tokens.update(index.tokens(INSTITUTION, institution))
        level = degree_level(degree)
        if level:
            tokens.add(index.token(DEGREE_LEVEL, level))
    return " ".join(sorted(tokens))


def query_tokens(index: BlindIndex, word: str, fields: Iterable[str] = TEXT_FIELDS) -> list[str]:
    """The tokens one normalised query word has in each searchable field."""
    return [index.token(field, word) for field in fields]
