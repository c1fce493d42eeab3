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
   -teur, -ière -> -ier; under every stemmer, in case a French text reads as
   another language), which Snowball alone leaves apart; agent nouns (-er, -or,
   -aar, -eur) lose only their plural, so a developer is not found by "development".

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

Prefixes (search as you type): every plain word of at least PREFIX_MIN + 1 letters
also gives its beginnings of PREFIX_MIN to PREFIX_MAX letters (never the whole word:
that is its term), unstemmed and language-neutral, so "pyth" finds Python and "ontwikk"
Javaontwikkelaar (compound heads give theirs too). A query word of PREFIX_MIN letters
or more matches a record holding it as a word or as the beginning of one; a shorter
one ("py") only as a word. Only letters: "201" finding every 2015 and 2016 would be
noise. Why stop at PREFIX_MAX letters: see its comment. The prefixes live apart from
the terms (blind_index.BlindIndex.prefix_token).

No Flask here. Plaintext words pass through the caller's per-run cache (a dict it owns
and drops when the run ends), never through a process-wide one.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter

import Stemmer

from vault.crypto.blind_index import MAX_WORD, MIN_WORD, normalise

LANGUAGES = ("en", "nl", "fr")
_SNOWBALL = {"en": "english", "nl": "dutch", "fr": "french"}
# Words this short (or holding a digit) are not stemmed: one neutral term for all
# languages. Snowball conflates too much at this length (data, date -> dat).
KEEP_WHOLE = 4
NEUTRAL = "="
# Beginnings of words indexed as prefixes: from 3 letters (the brief's floor: shorter
# ones match half the pool and say nothing), up to 10. Past 10 letters a beginning
# almost always names one word family already (the measured cost of each extra length
# is in benchmarks/README.md); a longer query word is looked up by its first 10 letters
# and checked against the words of each opened result, like any token collision.
PREFIX_MIN = 3
PREFIX_MAX = 10
_PIECES = re.compile(r"[^a-z0-9]+")

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
    "ms-sql": ("=sqlserver",), "power-bi": ("=powerbi",), "spring-boot": ("=springboot",),
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
# Terms of more than one word, found in the folded text (where their words count too);
# each is looked for only when both its words are among the record's words.
# The patterns start with a literal, which re searches for quickly; the word boundary
# before it is checked by hand (a look-behind first would make re try every position).
_PHRASES: tuple[tuple[tuple[str, str], re.Pattern[str], str], ...] = tuple(
    (words, re.compile(pattern), term) for words, pattern, term in (
        (("sql", "server"), r"sql[\s_]+server(?![0-9a-z])", "sqlserver"),
        (("ms", "sql"), r"ms[\s_]+sql(?![0-9a-z])", "sqlserver"),
        (("power", "bi"), r"power[\s_]+bi(?![0-9a-z])", "powerbi"),
        (("spring", "boot"), r"spring[\s_]+boot(?![0-9a-z])", "springboot"),
    ))
_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


def _phrase_count(pattern: re.Pattern[str], text: str) -> int:
    return sum(1 for m in pattern.finditer(text)
               if not m.start() or text[m.start() - 1] not in _ALNUM)


# Heads of Dutch (and loaned) compounds: "Javaontwikkelaar" is java + ontwikkelaar.
COMPOUND_HEADS = (
    "ontwikkelaar", "ontwikkeling", "programmeur", "beheerder", "beheer", "analist",
    "ingenieur", "architect", "consultant", "specialist", "ontwerper", "adviseur",
    "medewerker", "technicus", "tester", "engineer", "developer", "manager", "leider",
    "coordinator", "deskundige", "verantwoordelijke", "boekhouder", "verpleegkundige",
)
_COMPOUND = re.compile(
    "^([a-z0-9]{3,}?)(" + "|".join(sorted(COMPOUND_HEADS, key=len, reverse=True))
    + ")(s|en|e|n)?$")

# Words only one of the languages uses, and often: they tell a text's language (as many
# for each, since a language scores by how many of its own a text holds).
_MARKERS: dict[str, tuple[str, ...]] = {
    "en": ("the", "and", "of", "with", "for", "from", "this", "my"),
    "nl": ("het", "van", "een", "met", "voor", "bij", "ik", "ook"),
    "fr": ("les", "et", "des", "du", "pour", "avec", "dans", "une"),
}
# Stop words: a query does not need them.
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to with for on at from as my was are an by this that "
                    "which".split()),
    "nl": frozenset("het een van met voor op bij als naar ik te aan dat ook door zijn "
                    "wordt werd mijn".split()),
    "fr": frozenset("le la les et des du un une pour avec dans au aux sur je chez par "
                    "est mon ma mes".split()),
}
# Shared by the languages (so no sign of one), and no more needed in a query.
_SHARED_STOP_WORDS = frozenset("in is de en or ou of".split())
_ALL_STOP_WORDS = frozenset().union(_SHARED_STOP_WORDS, *STOP_WORDS.values())
# French feminine endings folded onto the masculine before stemming (any language).
_FEMININE = (("euses", "eurs"), ("euse", "eur"), ("trices", "teurs"), ("trice", "teur"),
             ("ieres", "iers"), ("iere", "ier"))

# Agent nouns keep their ending: Snowball makes "developer" and "development" (and
# "ontwikkelaar" and "ontwikkeling") one stem, but recruiters search for the person
# doing the work; only the plural is removed (developers, ontwikkelaars, ingénieurs).
_AGENT: dict[str, tuple[str, ...]] = {
    "en": ("ers", "er", "ors", "or"),
    "nl": ("aars", "aar", "ers", "er", "eurs", "eur", "ors", "or"),
    "fr": ("eurs", "eur"),
}
_FEMININE_ENDINGS = tuple(ending for ending, _masculine in _FEMININE)
# A raw word's terms in each language (one string per language, see _readings), then
# its prefixes as one tuple: a document's prefixes are a union of these tuples.
Readings = tuple[str, str, str, tuple[str, ...]]
Cache = dict[str, Readings]
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
    # In every language, not French alone: a French CV with few French words may be
    # read as English, and these endings are French wherever they stand.
    if word.endswith(_FEMININE_ENDINGS):  # one test in C before the loop
        for ending, masculine in _FEMININE:
            if word.endswith(ending):
                word = word[: -len(ending)] + masculine
                break
    agent = _AGENT[language]
    if word.endswith(agent):  # a job title: only its plural goes
        return f"{language}:{word[:-1] if word.endswith('s') else word}"
    return f"{language}:{_stemmer(language).stemWord(word)}"


def _prepared(text: str) -> str:
    """Folded, addresses dropped (each whole run of non-space characters holding one)."""
    folded = normalise(text)
    if "@" in folded or "://" in folded or "www." in folded:
        # One pass over the words: linear however many addresses a text holds.
        folded = " ".join(w for w in folded.split() if "@" not in w and "://" not in w
                          and "www." not in w)
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
    for separator in ("/", "-"):  # Python/Django, C#-ontwikkelaar, full-stack
        if separator in raw:
            pieces = [p for p in raw.split(separator) if p]
            bases = [b for piece in pieces for b in _bases(piece, query)]
            if separator == "-" and len(pieces) > 1 and not query and all(
                    p.isalpha() for p in pieces):
                bases.extend(_word_bases("".join(pieces), query))  # also fullstack
            return tuple(dict.fromkeys(bases))
    return tuple(dict.fromkeys(
        b for part in _PUNCTUATION.split(raw) for b in _word_bases(part, query)))


def _term(base: str, language: str) -> str:
    return base if base.startswith(NEUTRAL) else stem(language, base)


def detect_language(words: Iterable[str]) -> str:
    """The language with the most of its marker words among the distinct words (English
    when none)."""
    held = words if isinstance(words, set | frozenset | dict) else set(words)
    best, score = "en", 0
    for language, markers in _MARKERS.items():
        found = sum([w in held for w in markers])
        if found > score:
            best, score = language, found
    return best


_JOIN = "\x00"  # between the terms of a raw word that gives more than one
_READING = {language: itemgetter(n) for n, language in enumerate(LANGUAGES)}
_PREFIXES = itemgetter(len(LANGUAGES))


def plain_words(raw: str) -> tuple[str, ...]:
    """The plain words of a raw word that prefixes come from: its pieces made of letters
    alone (python/django gives both, k8s none), and the head of a Dutch compound."""
    found = []
    for word in _PIECES.split(raw):
        if word.isalpha():
            found.append(word)
            compound = _COMPOUND.match(word)
            if compound:
                found.append(compound[2] + (compound[3] or ""))
    return tuple(found)


def word_prefixes(word: str) -> list[str]:
    """The beginnings a plain word is also found by (PREFIX_MIN to PREFIX_MAX letters,
    never the whole word)."""
    if not word.isalpha() or not word.isascii():
        return []
    return [word[:n] for n in range(PREFIX_MIN, min(len(word) - 1, PREFIX_MAX) + 1)]


def _prefixes(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for w in plain_words(raw) for p in word_prefixes(w)))


def _readings(raw: str) -> Readings:
    """A raw word's terms in each language, as one string per language, then its
    prefixes."""
    bases = _bases(raw, query=False)
    if len(bases) == 1:  # most words: no joining
        en, nl, fr = (_term(bases[0], language) for language in LANGUAGES)
    else:
        en, nl, fr = (_JOIN.join(dict.fromkeys(_term(b, language) for b in bases))
                      for language in LANGUAGES)
    return en, nl, fr, _prefixes(raw)


def document_terms(text: str, cache: Cache | None = None,
                   language: str | None = None) -> Counter[str]:
    """Each term of a document with how often it occurs (forms of a word together).

    The cache maps a raw word to its terms in each language and its prefixes, for one
    run."""
    return document_index(text, cache, language)[0]


def document_index(text: str, cache: Cache | None = None, language: str | None = None
                   ) -> tuple[Counter[str], frozenset[str]]:
    """A document's terms with their counts (as document_terms) and its prefixes."""
    cache = {} if cache is None else cache
    prepared = _prepared(text)
    words = _raw_words(prepared)
    distinct = set(words)
    language = language or detect_language(distinct)
    # Every occurrence mapped to its terms and counted in C (map, itemgetter, Counter):
    # bulk builds run this for every record, and a Python loop per word halved their rate.
    # Most records bring no word new to the run, so a miss is caught, not tested for.
    reading = _READING[language]
    try:
        counts = Counter(map(reading, map(cache.__getitem__, words)))
    except KeyError:
        for word in [w for w in distinct if w not in cache]:
            cache[word] = _readings(word)
        counts = Counter(map(reading, map(cache.__getitem__, words)))
    counts.pop("", None)  # words too short or too long
    # Compounds, ASP.NET, full-stack: rare, so first one test over all terms at once.
    for joined in [t for t in counts if _JOIN in t] if _JOIN in "".join(counts) else ():
        n = counts.pop(joined)
        for term in joined.split(_JOIN):
            counts[term] += n
    for (first, second), pattern, term in _PHRASES:
        if first in distinct and (second in distinct or second + "." in distinct):
            found = _phrase_count(pattern, prepared)
            if found:
                counts[NEUTRAL + term] += found
    # In C, as the terms above: bulk builds run this for every record.
    return counts, frozenset().union(*map(_PREFIXES, map(cache.__getitem__, distinct)))


def document_words(text: str) -> frozenset[str]:
    """The plain words of a document that its prefixes come from (to check a prefix
    match on an opened record)."""
    return frozenset(w for raw in set(_raw_words(_prepared(text))) for w in plain_words(raw))


@dataclass(frozen=True)
class QueryWord:
    """One word of a query: a record matches it by holding any of its terms."""

    word: str  # as analysed, before stemming (for excerpts)
    terms: tuple[str, ...]
    # The beginning of words it also matches (itself, PREFIX_MIN letters or more, only
    # letters); None for a shorter word, a technical term or a synonym.
    prefix: str | None = None

    def matches_prefix(self, words: Iterable[str]) -> bool:
        prefix = self.prefix
        return prefix is not None and any(w.startswith(prefix) for w in words)


def query_words(q: str) -> list[QueryWord]:
    """The words of a query, each with its readings in every language; stop words are
    dropped unless nothing else is left."""
    prepared = _prepared(q)
    for _words, pattern, term in _PHRASES:
        prepared = pattern.sub(lambda m, term=term: (
            m.group() if m.start() and m.string[m.start() - 1] in _ALNUM
            else " " + term + " "), prepared)
    bases = [b for raw in _raw_words(prepared) for b in _bases(raw, query=True)]
    meaningful = [b for b in bases if b not in _ALL_STOP_WORDS]
    found: dict[tuple[str, ...], QueryWord] = {}
    for base in meaningful or bases:
        terms = tuple(dict.fromkeys(_term(base, language) for language in LANGUAGES))
        prefix = base if len(base) >= PREFIX_MIN and base.isalpha() and base.isascii() \
            else None
        found.setdefault(terms, QueryWord(base.removeprefix(NEUTRAL), terms, prefix))
    return list(found.values())


def matches(terms: Iterable[str], words: list[QueryWord],
            plain: Callable[[], Iterable[str]] | None = None) -> bool:
    """Whether a document holds every query word: any of its readings among its terms,
    or (with `plain`, the document's plain words, asked for only when needed) a word
    beginning with the query word's prefix."""
    held = terms if isinstance(terms, set | frozenset) else set(terms)
    plain_held: Iterable[str] | None = None
    for word in words:
        if not held.isdisjoint(word.terms):
            continue
        if plain is None or word.prefix is None:
            return False
        if plain_held is None:
            plain_held = plain()
        if not word.matches_prefix(plain_held):
            return False
    return True



def needles(words: list[QueryWord]) -> tuple[str, ...]:
    """Strings a written word must contain to be worth analysing against these query
    words (a cheap test before highlights()): the first letters of each query word, of
    each of its terms, and of the technical terms and synonyms that give one of them."""
    found: set[str] = set()
    for word in words:
        found.add(word.word[:3])
        found.update(term.split(":")[-1].removeprefix(NEUTRAL)[:3] for term in word.terms)
        wanted = set(word.terms)
        found.update(raw[:3] for raw, terms in TECHNICAL.items() if wanted & set(terms))
        found.update(raw[:3] for raw, term in SYNONYMS.items() if term in wanted)
    found.discard("")
    return tuple(found)


def highlights(written: str, words: list[QueryWord], cache: Cache) -> bool:
    """Whether a word as written in a text (Développeurs, C#, node.js) matches one of
    the query words: one of its readings, or a word beginning with its prefix."""
    for raw in _raw_words(_prepared(written)):
        entry = cache.get(raw)
        if entry is None:
            entry = cache[raw] = _readings(raw)
        terms = {t for reading in entry[:len(LANGUAGES)] for t in reading.split(_JOIN)}
        plain = plain_words(raw)
        if any(not terms.isdisjoint(w.terms) or w.matches_prefix(plain) for w in words):
            return True
    return False
