"""The piece of a CV shown on a search result line, with the query's words marked.

An excerpt is about EXCERPT characters around the first word of the CV that matches
the query (as search matches it: a reading of a query word, or a word it begins), or
the start of the CV when none does (the record matched by its name or education). It
starts and ends between words, never inside one, and says when text was left out
before or after it. The marked words come back as segments, not markup: the template
escapes every segment, so a CV holding "<script>" shows it as text.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from vault.crypto import normalise
from vault.crypto.analysis import TECHNICAL, Cache, QueryWord, highlights, needles

EXCERPT = 160
LEAD = EXCERPT // 3  # how much comes before the first match
_CHUNK = re.compile(r"\S+")
# A written word inside a chunk: letters and digits, with # and + (C#, C++), joined by
# . / - (node.js, CI/CD, full-stack), perhaps after a dot (.NET).
_WORD = re.compile(r"\.?[\w#+]+(?:[./-][\w#+]+)*")
_JOINERS = re.compile(r"[/-]")
_BOUNDARY = re.compile(r"\W")


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


@dataclass(frozen=True)
class Excerpt:
    segments: tuple[Segment, ...]
    before: bool  # text left out before the excerpt
    after: bool  # text left out after it

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def marked(self) -> list[str]:
        return [s.text for s in self.segments if s.marked]

    def __str__(self) -> str:
        return ("…" if self.before else "") + self.text + ("…" if self.after else "")

    def __bool__(self) -> bool:
        return bool(self.segments)


class _Marker:
    """Which written words of a chunk match the query; analysis cached for the page."""

    def __init__(self, words: list[QueryWord], cache: Cache) -> None:
        self.words, self.cache = words, cache
        self.needles = needles(words)

    def worth(self, chunk: str) -> bool:
        lowered = normalise(chunk)
        return any(n in lowered for n in self.needles)

    def spans(self, chunk: str) -> Iterator[tuple[int, int]]:
        if not self.words or not self.worth(chunk):
            return
        for m in _WORD.finditer(chunk):
            written = m.group()
            parts = [m.span()]
            if _JOINERS.search(written) and normalise(written) not in TECHNICAL:
                # Python/Django, full-stack: each piece marked on its own.
                parts, at = [], m.start()
                for piece in _JOINERS.split(written):
                    parts.append((at, at + len(piece)))
                    at += len(piece) + 1
            for start, end in parts:
                if end > start and highlights(chunk[start:end], self.words, self.cache):
                    yield start, end


def _fitted(chunk: str, room: int) -> str:
    """A chunk longer than the whole excerpt (a run of text without a space): cut
    after the last non-word character that fits, so no word is cut."""
    cut = max((m.start() for m in _BOUNDARY.finditer(chunk, 0, room)), default=0)
    return chunk[:cut + 1] if cut else chunk[:room]


def excerpt(cv_text: str, words: list[QueryWord], cache: Cache | None = None) -> Excerpt:
    cache = {} if cache is None else cache
    marker = _Marker(words, cache)
    chunks = _CHUNK.finditer(cv_text)
    lead: deque[str] = deque()
    lead_length, dropped, anchor = 0, False, None
    for m in chunks:
        chunk = m.group()
        if words and any(True for _ in marker.spans(chunk)):
            anchor = chunk
            break
        lead.append(chunk)
        lead_length += len(chunk) + 1
        while lead and lead_length > LEAD:
            lead_length -= len(lead.popleft()) + 1
            dropped = True
    if anchor is None:  # no word of the query in the CV: its beginning
        chunks = _CHUNK.finditer(cv_text)
        first = next(chunks, None)
        if first is None:
            return Excerpt((), False, False)
        lead, anchor, dropped = deque(), first.group(), False
    window = [*lead, anchor]
    length = sum(len(c) for c in window) + len(window) - 1
    after = False
    if length > EXCERPT:  # the anchor alone is too long
        window = [_fitted(anchor, EXCERPT)]
        after = True
    else:
        for m in chunks:
            if length + 1 + len(m.group()) > EXCERPT:
                after = True
                break
            window.append(m.group())
            length += 1 + len(m.group())
    return Excerpt(_segments(window, marker), dropped, after)


def _segments(window: list[str], marker: _Marker) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    plain: list[str] = []
    for number, chunk in enumerate(window):
        if number:
            plain.append(" ")
        at = 0
        for start, end in marker.spans(chunk):
            plain.append(chunk[at:start])
            if any(plain):
                segments.append(Segment("".join(plain), False))
            plain = []
            segments.append(Segment(chunk[start:end], True))
            at = end
        plain.append(chunk[at:])
    if any(plain):
        segments.append(Segment("".join(plain), False))
    return tuple(segments)
