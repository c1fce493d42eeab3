"""Staff passwords: argon2id (argon2-cffi's RFC 9106 defaults) and the strength policy.

The policy (ASVS 2.1): at least 12 characters, and not guessable as judged by zxcvbn, an
offline estimator with its own dictionaries of common passwords, names and words, fed
the account's own e-mail address and company (a password built from them is weak).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 1024  # bounds the work an attacker can make one login attempt cost
MIN_SCORE = 3  # zxcvbn: 3 is "safely unguessable", about 10^8 guesses or more
# zxcvbn's time grows with length; past this many characters the rest only adds strength.
ESTIMATED_LENGTH = 100

_hasher = PasswordHasher()
# Verified against when the e-mail matches no account, so that a wrong e-mail and a
# wrong password cost the same time and cannot be told apart.
_DUMMY_HASH = _hasher.hash("no account has this password")


class PasswordRejected(ValueError):
    pass


def context_words(*values: str) -> list[str]:
    """The account's own words (address parts, company, name) for the estimator."""
    words: list[str] = []
    for value in values:
        if value:
            words.append(value.lower())
            words.extend(w for w in re.split(r"[\s@._+\-]+", value.lower()) if len(w) > 2)
    return words


def _why(result: dict) -> str:
    patterns = {m.get("pattern") for m in result.get("sequence", [])}
    dictionaries = {m.get("dictionary_name") for m in result.get("sequence", [])
                    if m.get("pattern") == "dictionary"}
    if "user_inputs" in dictionaries:
        return _("It contains your e-mail address, your name or your company's name.")
    if "passwords" in dictionaries:
        return _("It is one of the most common passwords, or built from one.")
    if dictionaries & {"surnames", "male_names", "female_names"}:
        return _("It is built from common first names or surnames.")
    if "date" in patterns or "regex" in patterns:
        return _("It relies on a date or a year, which are easy to guess.")
    if patterns & {"sequence", "repeat", "spatial"}:
        return _("It relies on repeated characters, sequences such as 1234 or abcd, "
                 "or keyboard patterns.")
    return _("It is built from common words in a predictable way.")


def _leans_on_context(password: str, words: list[str]) -> bool:
    """zxcvbn counts each of the account's own words as one rare guess; three of them in a
    row ("JanPeetersIngenium") still score 3. What is left once they are taken out must
    be strong on its own."""
    rest = password.lower()[:ESTIMATED_LENGTH]
    for word in sorted({w for w in words if len(w) > 2}, key=len, reverse=True):
        rest = rest.replace(word, "")
    if rest == password.lower()[:ESTIMATED_LENGTH]:
        return False
    return len(rest.strip()) < MIN_LENGTH // 2 or zxcvbn(rest)["score"] < MIN_SCORE


def check_strength(password: str, context: Iterable[str] = ()) -> None:
    """Raises PasswordRejected with a message saying why and what would pass."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(
            _("The password must have at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(
            _("The password must have at most %(n)d characters.", n=MAX_LENGTH))
    words = list(context)
    result = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=words)
    if result["score"] >= MIN_SCORE and _leans_on_context(password, words):
        result = {"score": 0, "sequence": [{"pattern": "dictionary",
                                            "dictionary_name": "user_inputs"}]}
    if result["score"] < MIN_SCORE:
        raise PasswordRejected(" ".join((
            _("This password is too easy to guess."), _why(result),
            _("A phrase of four or more uncommon words, or a longer mix of words, "
              "numbers and signs that means nothing to others, will pass."))))


def hash_password(password: str, context: Iterable[str] = ()) -> str:
    check_strength(password, context)
    return _hasher.hash(password)


def hash_unusable() -> str:
    """A hash no password matches (an account waiting for its set-your-password link);
    still a real argon2 hash, so a login against it costs the same time."""
    import secrets

    return _hasher.hash(secrets.token_urlsafe(32))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a hash to check against."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def rehash(password: str) -> str:
    """The same password under today's parameters (no policy check: it was accepted)."""
    return _hasher.hash(password)
