"""Text analysis for the blind index: the terms a record is found by, the terms a query
asks for. Documents and queries go through the same steps, before any keyed hashing:

1. Folding: case, accents, and letters that do not decompose (ø -> o, œ -> oe, æ -> ae,
   ß -> ss; see blind_index.normalise).
2. E-mail addresses and web addresses are dropped: the e-mail has an exact index of its
   own, and the pieces of an address are not words the person wrote (``example.net``
   must not read as .NET, a domain name must not read as a skill).
3. Technical terms are kept whole before punctuation splits words (C#, C++, .NET,
   Node.js, SQL Server, CI/CD, ...) and, with a small synonym table (Postgres and
   PostgreSQL, JS and JavaScript, ...), become one language-neutral term.
4. Dutch compounds are split on known heads, so "Javaontwikkelaar" is also "java" and
   "ontwikkelaar"; hyphenated words are also their joined form.
5. Stemming with the Snowball stemmer of the document's language (English, Dutch or
   French, detected from its stop words), so developer/developers,
   développeur/développeuse/développeurs, ontwikkelaar/ontwikkelaars meet. French
   feminine endings are first folded onto the masculine (-euse -> -eur, -trice ->
   -teur, -ière -> -ier), which Snowball alone leaves apart.

Why stems tagged with their language, and a query word read in every language: the
language of a one-word query cannot be known, so a query word matches any of its three
readings (en:stem, nl:stem, fr:stem), and a document holds each word's stem under its
own language only. A query then meets a French CV through the French stemmer alone:
an English word whose French stem happens to be a French word's stem is the only
cross-language match left, and words of four letters or fewer (or with a digit) are
kept whole (one language-neutral term), since that is where the stemmers conflate
unrelated words (data/date both give the French stem "dat"). A word found verbatim
always matches, since the same stemmer gives the same stem; the stem is the only term
a word gives (no separate exact-form term), which keeps the tokens per record fewer
than distinct words, and ranking counts a word's forms together (services.indexing).

No Flask here. Plaintext words pass through the caller's per-run cache (a dict it owns
and drops when the run ends), never through a process-wide one.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import Stemmer

from vault.crypto.blind_index import MAX_WORD, MIN_WORD, normalise

LANGUAGES = ("en", "nl", "fr")
_SNOWBALL = {"en": "english", "nl": "dutch", "fr": "french"}
# Words this short (or holding a digit) are not stemmed: one neutral term for all
# languages. Snowball conflates too much at this length (data, date -> dat).
KEEP_WHOLE = 4
NEUTRAL = "="

# Characters kept inside a raw word so technical terms survive until they are looked up
# (c#, c++, .net, node.js, ci/cd, t-sql); every other byte separates raw words.
_RAW_CHARACTERS = "0123456789abcdefghijklmnopqrstuvwxyz#+./-"
_SEPARATE = bytes(c if chr(c) in _RAW_CHARACTERS else 0x20 for c in range(256))
_PUNCTUATION = re.compile(r"[.#+]+")

# A raw word (after sentence-final dots are stripped) -> its terms: the first is what a
# query asks for, the others are added to documents too (ASP.NET is also .NET).
TECHNICAL: dict[str, tuple[str, ...]] = {
    "c#": ("=csharp",), "f#": ("=fsharp",), "c++": ("=cplusplus",),
    ".net": ("=dotnet",), "asp.net": ("=aspnet", "=dotnet"), "vb.net": ("=vbnet", "=dotnet"),
    "ado.net": ("=adonet", "=dotnet"),
    "node.js": ("=nodejs", "node"), "vue.js": ("=vuejs", "vue"), "react.js": ("=react",),
    "next.js": ("=nextjs",), "express.js": ("=expressjs", "express"),
    "angular.js": ("=angularjs", "angular"), "d3.js": ("=d3js",), "three.js": ("=threejs",),
    "ci/cd": ("=cicd",), "pl/sql": ("=plsql",), "t-sql": ("=tsql",), "tcp/ip": ("=tcpip",),
    "objective-c": ("=objectivec",), "ui/ux": ("ui", "ux"), "ux/ui": ("ux", "ui"),
}
# Single words that name the same thing as a technical term, or each other.
SYNONYMS: dict[str, str] = {
    "csharp": "=csharp", "fsharp": "=fsharp", "cplusplus": "=cplusplus", "cpp": "=cplusplus",
    "dotnet": "=dotnet", "aspnet": "=aspnet", "vbnet": "=vbnet",
    "nodejs": "=nodejs", "vuejs": "=vuejs", "reactjs": "=react", "react": "=react",
    "nextjs": "=nextjs", "angularjs": "=angularjs", "expressjs": "=expressjs",
    "postgres": "=postgresql", "postgresql": "=postgresql", "psql": "=postgresql",
    "js": "=javascript", "javascript": "=javascript", "ecmascript": "=javascript",
    "ts": "=typescript", "typescript": "=typescript",
    "k8s": "=kubernetes", "kubernetes": "=kubernetes",
    "sqlserver": "=sqlserver", "mssql": "=sqlserver", "tsql": "=tsql", "plsql": "=plsql",
    "cicd": "=cicd", "powerbi": "=powerbi", "springboot": "=springboot",
    "objectivec": "=objectivec", "golang": "=golang",
}
# Terms of more than one word: found in the folded text, where the words also count.
_PHRASES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (trigger, re.compile(pattern), term) for trigger, pattern, term in (
        ("sql", r"(?<![0-9a-z])sql[\s_]+server(?![0-9a-z])", "sqlserver"),
        ("ms", r"(?<![0-9a-z])ms[\s_-]*sql(?![0-9a-z])", "sqlserver"),
        ("power", r"(?<![0-9a-z])power[\s_-]+bi(?![0-9a-z])", "powerbi"),
        ("spring", r"(?<![0-9a-z])spring[\s_-]+boot(?![0-9a-z])", "springboot"),
    ))

# Heads of Dutch (and loaned) compounds: "Javaontwikkelaar" is java + ontwikkelaar.
COMPOUND_HEADS = (
    "ontwikkelaar", "ontwikkeling", "programmeur", "beheerder", "beheer", "analist",
    "ingenieur", "architect", "consultant", "specialist", "ontwerper", "adviseur",
    "medewerker", "technicus", "tester", "engineer", "developer", "manager", "leider",
    "coordinator", "deskundige", "verantwoordelijke", "boekhouder", "verpleegkundige",
)
_COMPOUND = re.compile(
    "^([a-z0-9]{3,}?)(" + "|".join(sorted(COMPOUND_HEADS, key=len, reverse=True))
    + ")(s|en|e)?$")

# Stop words: they tell the language, and a query does not need them.
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to with for on at from as my was are an by this that "
                    "years experience which".split()),
    "nl": frozenset("het een van met voor op bij als naar ik jaar ervaring te aan dat "
                    "ook door zijn wordt werd mijn".split()),
    "fr": frozenset("le la les et des du un une pour avec dans au aux sur je ans chez par "
                    "est mon ma mes".split()),
}
_ALL_STOP_WORDS = frozenset().union(*STOP_WORDS.values())
# French feminine endings folded onto the masculine before stemming.
_FEMININE = (("euses", "eurs"), ("euse", "eur"), ("trices", "teurs"), ("trice", "teur"),
             ("ieres", "iers"), ("iere", "ier"))

Cache = dict[str, tuple[str, ...]]
_local = threading.local()  # PyStemmer objects must not be shared between threads


def _stemmer(language: str) -> Stemmer.Stemmer:
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {k: Stemmer.Stemmer(v) for k, v in _SNOWBALL.items()}
    return stemmers[language]


def stem(language: str, word: str) -> str:
    """The term of one plain word under one language."""
    if len(word) <= KEEP_WHOLE or not word.isalpha():
        return NEUTRAL + word
    if language == "fr":
        for ending, masculine in _FEMININE:
            if word.endswith(ending):
                word = word[: -len(ending)] + masculine
                break
    return f"{language}:{_stemmer(language).stemWord(word)}"


def _prepared(text: str) -> str:
    """Folded, addresses dropped."""
    folded = normalise(text)
    if "@" in folded or "://" in folded or "www." in folded:
        folded = " ".join(w for w in folded.split()
                          if "@" not in w and "://" not in w and not w.startswith("www."))
    return folded


def _raw_words(prepared: str) -> list[str]:
    # surrogatepass: a lone surrogate (JSON can carry one) is just another separator.
    return prepared.encode("utf-8", "surrogatepass").translate(_SEPARATE).decode(
        "ascii").split()


def _word_bases(word: str, query: bool) -> tuple[str, ...]:
    """A plain word (letters and digits) -> neutral terms and words still to stem."""
    if not MIN_WORD <= len(word) <= MAX_WORD:
        return ()
    synonym = SYNONYMS.get(word)
    if synonym:
        return (synonym,)
    compound = _COMPOUND.match(word)
    if compound:
        parts = (*_word_bases(compound[1], query), compound[2] + (compound[3] or ""))
        # A query asks for the parts (each must be there); a document holds both.
        return parts if query else (word, *parts)
    return (word,)


def _bases(raw: str, query: bool) -> tuple[str, ...]:
    """A raw word (may hold # + . / -) -> neutral terms and words still to stem."""
    for candidate in (raw, raw.rstrip(".")):
        technical = TECHNICAL.get(candidate)
        if technical:
            return technical[:1] if query else technical
    if "/" in raw:
        return tuple(b for part in raw.split("/") if part for b in _bases(part, query))
    bases: list[str] = []
    for part in _PUNCTUATION.split(raw):
        pieces = [p for p in part.split("-") if p]
        for piece in pieces:
            bases.extend(_word_bases(piece, query))
        if len(pieces) > 1 and not query:  # full-stack is also fullstack
            bases.extend(_word_bases("".join(pieces), query))
    return tuple(dict.fromkeys(bases))


def _term(base: str, language: str) -> str:
    return base if base.startswith(NEUTRAL) else stem(language, base)


def detect_language(raw_counts: Counter[str] | dict[str, int]) -> str:
    """The language whose stop words the text uses most (English when none)."""
    best, score = "en", 0
    for language, stop in STOP_WORDS.items():
        found = sum(raw_counts[w] for w in stop & raw_counts.keys())
        if found > score:
            best, score = language, found
    return best


def document_terms(text: str, cache: Cache | None = None,
                   language: str | None = None) -> dict[str, int]:
    """Each term of a document with how often it occurs (forms of a word together).

    The cache maps (language, raw word) to terms for one run; keys begin with a control
    character, so a caller may keep it in the same dict as its tokens by term."""
    cache = {} if cache is None else cache
    prepared = _prepared(text)
    raw = Counter(_raw_words(prepared))
    language = language or detect_language(raw)
    prefix = "\x01" + language
    counts: dict[str, int] = {}
    get = counts.get
    for word, n in raw.items():
        key = prefix + word
        terms = cache.get(key)
        if terms is None:
            terms = cache[key] = tuple(dict.fromkeys(
                _term(b, language) for b in _bases(word, query=False)))
        for term in terms:
            counts[term] = get(term, 0) + n
    for trigger, pattern, term in _PHRASES:
        if trigger in prepared:
            found = len(pattern.findall(prepared))
            if found:
                counts[NEUTRAL + term] = get(NEUTRAL + term, 0) + found
    return counts


@dataclass(frozen=True)
class QueryWord:
    """One word of a query: a record matches it by holding any of its terms."""

    word: str  # as analysed, before stemming (for excerpts)
    terms: tuple[str, ...]


def query_words(q: str) -> list[QueryWord]:
    """The words of a query, each with its readings in every language; stop words are
    dropped unless nothing else is left."""
    prepared = _prepared(q)
    for _trigger, pattern, term in _PHRASES:
        prepared = pattern.sub(" " + term + " ", prepared)
    bases = [b for raw in _raw_words(prepared) for b in _bases(raw, query=True)]
    meaningful = [b for b in bases if b not in _ALL_STOP_WORDS]
    found: dict[tuple[str, ...], QueryWord] = {}
    for base in meaningful or bases:
        terms = tuple(dict.fromkeys(_term(base, language) for language in LANGUAGES))
        found.setdefault(terms, QueryWord(base.removeprefix(NEUTRAL), terms))
    return list(found.values())


def matches(terms: Iterable[str] | set[str], words: list[QueryWord]) -> bool:
    """Whether a document's terms hold every query word (any of its readings)."""
    held = terms if isinstance(terms, set) else set(terms)
    return all(not held.isdisjoint(w.terms) for w in words)
