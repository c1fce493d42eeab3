"""The piece of a CV shown on a search result line, with the query's words marked.

An excerpt is about EXCERPT characters around the first word of the CV that matches
the query (as search matches it: a reading of a query word, or a word it begins), or
the start of the CV when none does (the record matched by its name or education). It
starts and ends between words, never inside one, and says when text was left out
before or after it. The marked words come back as segments, not markup: the template
escapes every segment, so a CV holding "<script>" shows it as text.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Iterator
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
_SPACE = re.compile(r"\s")


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


class Marker:
    """Which written words of a chunk match the query; analysis cached for the page.
    Made once per page of results (its needles and pattern cost more than an excerpt)."""

    def __init__(self, words: list[QueryWord], cache: Cache) -> None:
        self.words, self.cache = words, cache
        # The marked spans of each chunk analysed, for the page: a page's CVs share most
        # of their words, and each excerpt analyses its anchor twice (to find it, to mark
        # it). Plaintext, so it lives and dies with the Marker, as the cache does.
        self._spans: dict[str, tuple[tuple[int, int], ...]] = {}
        self.needles = needles(words)
        # Longest first, so the alternation finds a needle wherever one starts.
        self.pattern = re.compile("|".join(
            re.escape(n) for n in sorted(self.needles, key=len, reverse=True)) or "(?!)")

    def worth(self, chunk: str) -> bool:
        return self.pattern.search(normalise(chunk)) is not None

    def first(self, text: str) -> tuple[int, int] | None:
        """Where the first chunk with a matching word starts and ends. The needles are
        searched in the whole folded text at once (in C), and only the chunks holding
        one are analysed: a chunk at a time cost a page of 20 results milliseconds."""
        folded = normalise(text)
        if len(folded) != len(text):  # folding moved positions (ß, ligatures): chunk by chunk
            for m in _CHUNK.finditer(text):
                if self.spans(m.group()):
                    return m.span()
            return None
        at = 0
        while (found := self.pattern.search(folded, at)) is not None:
            start = found.start()
            while start and not text[start - 1].isspace():
                start -= 1
            space = _SPACE.search(text, found.end())
            end = space.start() if space else len(text)
            if self.spans(text[start:end]):
                return start, end
            at = end
        return None

    def spans(self, chunk: str) -> tuple[tuple[int, int], ...]:
        """Where the chunk's written words that match the query start and end."""
        found = self._spans.get(chunk)
        if found is None:
            found = self._spans[chunk] = tuple(self._find_spans(chunk))
        return found

    def _find_spans(self, chunk: str) -> Iterator[tuple[int, int]]:
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


def excerpt(cv_text: str, words: list[QueryWord], cache: Cache | None = None, *,
            marker: Marker | None = None) -> Excerpt:
    marker = marker or Marker(words, {} if cache is None else cache)
    found = marker.first(cv_text) if marker.words else None
    if found is None:  # no word of the query in the CV: its beginning
        first = _CHUNK.search(cv_text)
        if first is None:
            return Excerpt((), False, False)
        start, end, lead, length = first.start(), first.end(), [], 0
    else:
        start, end = found
        # Whole chunks before it, up to LEAD characters (the first cut chunk left out).
        cut = max(0, start - LEAD - 1)
        lead = cv_text[cut:start].split()
        if cut and lead and not cv_text[cut - 1].isspace() and not cv_text[cut].isspace():
            lead.pop(0)
        length = sum(map(len, lead)) + len(lead)  # the lead and a space after each chunk
        while lead and length > LEAD:
            length -= len(lead.pop(0)) + 1
    anchor = cv_text[start:end]
    window = [*lead, anchor]
    length += len(anchor)
    after = False
    if length > EXCERPT:  # the anchor alone is too long
        return Excerpt(_segments([_fitted(anchor, EXCERPT)], marker),
                       bool(cv_text[:start].strip()), True)
    # Text left out before: more chunks before the anchor than the lead keeps (split
    # from the right at most len(lead) times, not the whole beginning of the CV).
    dropped = len(cv_text[:start].rsplit(None, len(lead))) > len(lead)
    # The chunks after it, from a slice split in C; a slice cut inside a chunk loses
    # that chunk, and one that runs out before the excerpt is full (long runs of
    # spaces) is walked again chunk by chunk.
    stop = end + 2 * EXCERPT
    following = cv_text[end:stop].split()
    if stop < len(cv_text) and not cv_text[stop - 1].isspace() and not cv_text[stop].isspace():
        following.pop()
    for chunk in following:
        length += 1 + len(chunk)
        if length > EXCERPT:
            after = True
            break
        window.append(chunk)
    else:
        if stop < len(cv_text):
            window, length = [*lead, anchor], length - sum(map(len, following)) - len(following)
            for m in _CHUNK.finditer(cv_text, end):
                if length + 1 + len(m.group()) > EXCERPT:
                    after = True
                    break
                window.append(m.group())
                length += 1 + len(m.group())
    return Excerpt(_segments(window, marker), dropped, after)


def _segments(window: list[str], marker: Marker) -> tuple[Segment, ...]:
    """The window's text, as segments: the spans the marker finds marked. Only the
    chunks that hold a needle are analysed (one search over the whole window)."""
    joined = " ".join(window)
    folded = normalise(joined)
    # Where each chunk starts in the joined text.
    starts = list(itertools.accumulate(map((1).__add__, map(len, window)), initial=0))
    if len(folded) != len(joined):
        worth: Iterable[int] = range(len(window))
    else:
        worth = sorted({bisect.bisect_right(starts, m.start()) - 1
                        for m in marker.pattern.finditer(folded)})
    if not worth:  # nothing to mark: one segment
        return (Segment(joined, False),)
    segments: list[Segment] = []
    at = 0
    for number in worth:
        offset = starts[number]
        for start, end in marker.spans(window[number]):
            if at < start + offset:
                segments.append(Segment(joined[at:start + offset], False))
            segments.append(Segment(joined[start + offset:end + offset], True))
            at = end + offset
    if at < len(joined):
        segments.append(Segment(joined[at:], False))
    return tuple(segments)
