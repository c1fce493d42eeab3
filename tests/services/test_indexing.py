from __future__ import annotations

import os

import pytest

from tests.services.test_candidates import MARK_CV, MARK_NAME, get, make
from vault.appctx import vault_keys
from vault.crypto import BlindIndex, DecryptionError
from vault.crypto.analysis import query_words, stem
from vault.crypto.blind_index import is_prefix_token
from vault.extensions import db
from vault.services.candidates import Correction, correct_candidate
from vault.services.indexing import (
    TEXT,
    TIER_FIELDS,
    TIERS,
    IndexedText,
    TokenMemo,
    open_card,
    query_tokens,
    record_tokens,
)
from vault.services.sealing import record_sealer


def _text(cv: str) -> IndexedText:
    return IndexedText("", "", "", cv, ())


def _tiers(index: BlindIndex, word: str, language: str = "en") -> list[str]:
    """The tier tokens a record in that language holds for a word (one per tier; the
    level of prefixes, first, left out)."""
    tiers = query_tokens(index, query_words(word)[0]).tiers[1:]
    reading = query_words(word)[0].terms.index(stem(language, word))
    return [tier[reading] for tier in tiers]


def _word_tokens(tokens: list[str]) -> list[str]:
    return [t for t in tokens if not is_prefix_token(t)]


def test_a_repeated_word_gets_one_tier_token_per_tier_reached():
    index = BlindIndex(os.urandom(32))
    tokens = record_tokens(index, _text("kafka spark spark rusty rusty rusty rusty")).split()
    kafka, spark, rusty = (_tiers(index, w) for w in ("kafka", "spark", "rusty"))
    assert sorted(_word_tokens(tokens)) == sorted([kafka[0], spark[0], spark[1], *rusty])
    assert len(tokens) == len(set(tokens))  # a count shows only as tiers, never as repeats


def test_forms_of_a_word_count_together_for_the_tiers():
    index = BlindIndex(os.urandom(32))
    tokens = record_tokens(index, _text("the developer and the developers")).split()
    assert set(_tiers(index, "developer")) <= set(tokens)  # tier 2: two forms, one stem


def test_a_query_word_is_read_in_every_language():
    index = BlindIndex(os.urandom(32))
    word = query_words("ontwikkelaars")[0]
    assert word.terms == ("en:ontwikkelaar", "nl:ontwikkelaar", "fr:ontwikkelaar")
    tokens = query_tokens(index, word)
    # Any reading, or the prefix (a longer word it begins; its first PREFIX_MAX letters).
    assert tokens.tokens == (*(index.token(TEXT, term) for term in word.terms),
                             index.prefix_token(TEXT, "ontwikkela"))


def test_tier_tokens_cannot_be_linked_to_their_word():
    index = BlindIndex(os.urandom(32))
    tiers = _tiers(index, "python")
    assert len(set(tiers)) == TIERS
    assert tiers[0] == index.token(TEXT, "en:python")
    # Each tier has its own key: a tier token is no word's plain token.
    assert tiers[1] == index.token(TIER_FIELDS[2], "en:python") != index.token(TEXT, tiers[1])


def test_a_bulk_memo_gives_the_same_tokens():
    index = BlindIndex(os.urandom(32))
    text = IndexedText("Ann Lee", "Engineer", "chess", "Python python Go go go",
                       (("Master of Science", "Physics", "KU Leuven"),))
    memo = TokenMemo()
    assert record_tokens(index, text, memo) == record_tokens(index, text)
    assert record_tokens(index, text, memo) == record_tokens(index, text)  # memo reused


def test_the_search_card_holds_the_indexed_text_sealed_with_the_record_key(app, clock):
    first = make(app, clock)
    second = make(app, clock, name="Bert Other", email="bert@example.org")
    with app.app_context():
        record = get(first)
        card = open_card(record_sealer(vault_keys(), record), record.index_row.card)
        assert card.full_name == f"Anna {MARK_NAME}"
        assert MARK_CV in card.cv_text
        assert card.education == (("Master of Science", "Computer Science", "KU Leuven"),)
        assert MARK_CV.encode() not in record.index_row.card
        other = get(second)
        with pytest.raises(DecryptionError):  # bound to its record: a moved card fails
            open_card(record_sealer(vault_keys(), other), record.index_row.card)


def test_a_correction_rewrites_the_search_card(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        record = get(public_id)
        correct_candidate(db.session, vault_keys(), record,
                          Correction(full_name="Anna Newname", interests="chess"), now=clock())
        db.session.commit()
        record = get(public_id)
        card = open_card(record_sealer(vault_keys(), record), record.index_row.card)
        assert (card.full_name, card.interests) == ("Anna Newname", "chess")


def test_the_search_card_holds_the_terms_its_tokens_came_from(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        record = get(public_id)
        card = open_card(record_sealer(vault_keys(), record), record.index_row.card)
        assert card.terms is not None
        assert not card.terms.isdisjoint(query_words(MARK_CV)[0].terms)
        # The tokens are those of exactly these terms (each term's own token).
        index = vault_keys().blind_index
        assert {index.token(TEXT, t) for t in card.terms} <= set(
            record.index_row.tokens.split())
