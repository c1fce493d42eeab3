"""Blind indexes: search tokens over encrypted text (CipherSweet's key hierarchy).

Text is normalised (case, accents, letters such as ø and œ, punctuation) and split
into words, or analysed into search terms (vault.crypto.analysis: stems, technical
terms, compound parts); each word or term becomes HMAC-SHA256(field key, term)
truncated to a configured number of bits.
Each field has its own key derived from the index root key, so the same word in
the CV and in the name gives unrelated tokens, and tokens of one field say
nothing about another.

Why 32 bits by default: a query token collides with an unrelated stored token
with probability about N / 2**bits, N being the distinct (field, word) pairs in
the pool. For 100,000 candidates that is a few hundred thousand pairs, so one in
ten thousand lookups sees a stray hit, which the search removes after opening
the page of results. Fewer bits would make every token ambiguous between more
words (more deniability if the database leaks) but would flood result pages
with false positives; more bits buy nothing, because tokens are keyed: without
the index key nobody can compute one. The count of bits is configuration
(VAULT_BLIND_INDEX_BITS); changing it means 'vault reindex'.

Prefix tokens (search as you type: "pyth" finds Python) live in a domain of their
own, apart twice over: their key is derived under a label of its own (a prefix's HMAC
says nothing about the whole word's), and they are written in another alphabet (the
nibbles as the letters g to v, never 0-9a-f), so a prefix token can never equal a
word token, not even by an accident of truncation, and no token is a substring of
another kind's (search scores a record by finding its tokens in its token string).
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DEFAULT_BITS = 32
MIN_WORD = 2
MAX_WORD = 64
# Words are runs of ASCII letters and digits in the normalised text; everything else
# separates them. As a byte table: every other byte (UTF-8 sequences of what
# normalising left non-ASCII included) becomes a space, all in C, twice as fast as a
# regular expression over the text.
WORD_CHARACTERS = "0123456789abcdefghijklmnopqrstuvwxyz"
_SEPARATE = bytes(c if chr(c) in WORD_CHARACTERS else 0x20 for c in range(256))
# Hex digits -> the letters g..v: prefix tokens share no character with word tokens.
_PREFIX_ALPHABET = str.maketrans("0123456789abcdef", "ghijklmnopqrstuv")


# The combining-mark blocks that decomposed Latin, Greek and Cyrillic accents fall in.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


# Letters that are not an accented form of another (nothing to decompose), folded as a
# reader would type them: Ørsted is found by "orsted", mœlquix by "moelquix". Applied
# after case folding, and only to what is left non-ASCII (a pattern scan in C; a
# translate() with a table walks every character in Python's slow path).
_FOLD = {"ø": "o", "œ": "oe", "æ": "ae", "ð": "d", "þ": "th", "đ": "d", "ł": "l",
         "ħ": "h", "\u0131": "i", "ŀ": "l", "ŋ": "ng", "\u017f": "s", "ĸ": "k", "♯": "#"}
_FOLDED = re.compile("[" + "".join(_FOLD) + "]")


def _decomposed(text: str) -> str:
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def normalise(text: str) -> str:
    """Lower case, accents removed, compatibility forms folded (ﬁ -> fi, ² -> 2), and
    letters such as ø, œ, æ, ß folded to their ASCII spelling."""
    if text.isascii():  # most CV text: nothing to decompose
        return text.lower()
    decomposed = _decomposed(text)
    if decomposed.isascii():
        return decomposed
    return _FOLDED.sub(lambda m: _FOLD[m.group()], decomposed)


def _separated(text: str) -> list[str]:
    # surrogatepass: a lone surrogate (JSON can carry one) is just another separator.
    return normalise(text).encode("utf-8", "surrogatepass").translate(_SEPARATE).decode(
        "ascii").split()


def words(text: str) -> list[str]:
    """Every normalised word of a text, repeats included (punctuation splits words;
    words shorter than MIN_WORD or longer than MAX_WORD are left out)."""
    return [w for w in _separated(text) if MIN_WORD <= len(w) <= MAX_WORD]


def word_counts(text: str) -> Counter[str]:
    """How often each word of words(text) occurs (counted before the length filter,
    which then looks at each distinct word once)."""
    counts = Counter(_separated(text))
    for word in [w for w in counts if not MIN_WORD <= len(w) <= MAX_WORD]:
        del counts[word]
    return counts


def tokenise(text: str) -> list[str]:
    """Distinct words of a text, in first-seen order."""
    return list(dict.fromkeys(words(text)))


def normalise_exact(value: str) -> str:
    """For exact-match fields such as e-mail: trimmed, normalised, nothing split.

    Without the letter folding of normalise(): stored e-mail indexes stay valid, and
    two addresses differing by such a letter stay two addresses."""
    value = value.strip()
    return value.lower() if value.isascii() else _decomposed(value)


def is_prefix_token(token: str) -> bool:
    """Whether a stored token is a prefix token (told by its alphabet alone)."""
    return token[:1] in "ghijklmnopqrstuv"


class BlindIndex:
    def __init__(self, root_key: bytes, bits: int = DEFAULT_BITS) -> None:
        if bits % 8 or not 16 <= bits <= 256:
            raise ValueError("blind index bits must be a multiple of 8 between 16 and 256")
        self._root = root_key
        self._bytes = bits // 8
        self._keys: dict[str, bytes] = {}

    @property
    def bits(self) -> int:
        return self._bytes * 8

    def field_key(self, field: str) -> bytes:
        key = self._keys.get(field)
        if key is None:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"vault.blind-index.v1:" + field.encode()).derive(self._root)
            self._keys[field] = key
        return key

    def token(self, field: str, word: str) -> str:
        return hmac.digest(self.field_key(field), word.encode(), "sha256")[: self._bytes].hex()

    def prefix_token(self, field: str, prefix: str) -> str:
        """A prefix token: its own key (the field's, under a prefix label) and its own
        alphabet (g-v), so it never equals a word token of any field."""
        key = self.field_key("prefix:" + field)
        return hmac.digest(key, prefix.encode(), "sha256")[: self._bytes].hex().translate(
            _PREFIX_ALPHABET)

    def tokens(self, field: str, text: str) -> list[str]:
        key = self.field_key(field)
        n = self._bytes
        return [hmac.digest(key, w.encode(), "sha256")[:n].hex() for w in tokenise(text)]

    def tokens_for_words(self, field: str, words: Iterable[str]) -> list[str]:
        return [self.token(field, w) for w in words]

    def exact(self, field: str, value: str) -> str:
        """Untruncated: used to link a person's records, where a collision would be a leak."""
        return hmac.digest(self.field_key(field), normalise_exact(value).encode(), "sha256").hex()
