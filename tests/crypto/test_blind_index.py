from __future__ import annotations

import os
from collections import Counter

import pytest

from vault.crypto import BlindIndex, normalise, tokenise, word_counts, words
from vault.crypto.blind_index import is_prefix_token

ROOT = bytes(range(32))


def test_normalisation_folds_case_accents_and_compatibility_forms():
    assert normalise("Émile Ĳzerman ﬁle") == "emile ijzerman file"


def test_tokenise_splits_on_punctuation_and_drops_duplicates_and_single_letters():
    assert tokenise("C++, Python/Django; python! a") == ["python", "django"]


def test_tokens_are_stable_per_field_and_differ_between_fields():
    index = BlindIndex(ROOT)
    assert index.token("cv", "python") == BlindIndex(ROOT).token("cv", "python")
    assert index.token("cv", "python") != index.token("name", "python")
    assert index.tokens("cv", "Pythön") == [index.token("cv", "python")]


def test_tokens_are_truncated_to_the_configured_bits():
    assert len(BlindIndex(ROOT, bits=32).token("cv", "python")) == 8
    assert len(BlindIndex(ROOT, bits=64).token("cv", "python")) == 16


def test_another_root_key_gives_other_tokens():
    assert BlindIndex(ROOT).token("cv", "x1") != BlindIndex(bytes(32)).token("cv", "x1")


def test_exact_index_is_untruncated_and_normalised():
    index = BlindIndex(ROOT)
    assert index.exact("email", " Anna@Example.ORG ") == index.exact("email", "anna@example.org")
    assert len(index.exact("email", "a@b.c")) == 64


@pytest.mark.parametrize("bits", [12, 20, 512])
def test_unsupported_truncation_is_refused(bits):
    with pytest.raises(ValueError):
        BlindIndex(ROOT, bits=bits)


def test_words_split_on_everything_but_ascii_letters_and_digits():
    assert words("Ünïcode—naïve C++/Go, ab\ud800cd 漢字x9 a") == [
        "unicode", "naive", "go", "ab", "cd", "x9"]
    assert words("q" * 64 + " " + "q" * 65) == ["q" * 64]  # over MAX_WORD: left out


def test_word_counts_count_what_words_finds():
    text = "Go go GO, c c++ python Pythön " + "q" * 65
    assert word_counts(text) == Counter(words(text)) == {"go": 3, "python": 2}


def test_prefix_tokens_live_in_their_own_alphabet_and_key():
    index = BlindIndex(os.urandom(32))
    word_token, prefix_token = index.token("text", "pyth"), index.prefix_token("text", "pyth")
    assert set(word_token) <= set("0123456789abcdef")
    assert set(prefix_token) <= set("ghijklmnopqrstuv") and len(prefix_token) == len(word_token)
    assert is_prefix_token(prefix_token) and not is_prefix_token(word_token)
    # Another key too: the prefix token is not the word token written in other letters.
    assert prefix_token != word_token.translate(str.maketrans("0123456789abcdef",
                                                              "ghijklmnopqrstuv"))


@pytest.mark.parametrize("bits", [16, 32])
def test_a_prefix_token_never_equals_a_word_token_even_truncated(bits):
    # At 16 bits word tokens collide with each other within a few hundred words; a
    # prefix token cannot collide with any, nor sit inside a token string's word token.
    index = BlindIndex(os.urandom(32), bits=bits)
    words = [f"w{n:05d}" for n in range(3000)]
    word_tokens = {index.token("text", w) for w in words}
    prefix_tokens = {index.prefix_token("text", w) for w in words}
    if bits == 16:
        assert len(word_tokens) < len(words)  # collisions among word tokens do happen
    assert not word_tokens & prefix_tokens
    stored = " ".join(sorted(word_tokens))
    assert not any(p in stored for p in prefix_tokens)
