"""Search quality over the labelled corpus (tests/search_corpus.py), through the real
path: each CV is uploaded with the application form (POST /apply), then found with the
search service the recruiter's /candidates page calls.

Targets: every CV with a text layer accepted; at least 95% of the placed words found;
at least 90% recall on natural queries, at most 3 wrong results over the whole query
set, and recall at least that of plain SQLite FTS5 with the porter tokenizer over the
same text.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests import search_corpus
from tests.journey import apply
from vault.appctx import vault_keys
from vault.crypto import normalise
from vault.extensions import db
from vault.models import Candidate, User
from vault.services.indexing import open_card
from vault.services.sealing import record_sealer
from vault.services.search import search

# Words placed where this branch's upload extraction does not read yet (DOCX headers
# and footers, words broken by a hyphen at a PDF line end): they count once the upload
# side extracts them; until then the targets are held over the other places.
PENDING_EXTRACTION = {("docx", "header"), ("docx", "footer"), ("pdf", "hyphenated")}


def _applicant(cv: search_corpus.CV) -> dict[str, object]:
    content, filename = search_corpus.file_of(cv)
    return {"full_name": cv.full_name, "email": cv.email, "position": cv.position,
            "interests": "", "education-0-degree": "Bachelor",
            "education-0-field": "General studies", "education-0-institution": "Hogeschool",
            "cv": lambda: (io.BytesIO(content), filename)}


@pytest.fixture
def corpus(app, client):
    """Every corpus CV uploaded through the form; returns (responses, find, texts)."""
    statuses = {cv.key: apply(client, **_applicant(cv)).status_code
                for cv in search_corpus.CVS}
    with app.app_context():
        admin = User(email="officer@x", password_hash="-", role="admin", company="Ingenium")
        db.session.add(admin)
        db.session.commit()
        keys = vault_keys()
        by_name = {cv.full_name: cv.key for cv in search_corpus.CVS}
        key_of, texts, has_text = {}, {}, {}
        for record in db.session.scalars(select(Candidate)):
            sealer = record_sealer(keys, record)
            card = open_card(sealer, record.index_row.card)
            key = key_of[record.public_id] = by_name[card.full_name]
            # The same text the vault indexes, for the plaintext baselines.
            texts[key] = " ".join([card.full_name, card.position, card.interests,
                                   card.cv_text, *(" ".join(e) for e in card.education)])
            has_text[key] = bool(card.cv_text.strip())
        admin_id = admin.id

    def find(q: str) -> set[str]:
        with app.app_context():
            user = db.session.get(User, admin_id)
            page = search(db.session, vault_keys(), user, q=q, page_size=100,
                          now=app.config["CLOCK"]())
            return {key_of[hit.public_id] for hit in page.results}

    return statuses, has_text, find, texts


def _ready_places() -> set[tuple[str, str]]:
    return {(fmt, place) for fmt in ("docx", "pdf") for place in search_corpus.PLACES
            } - PENDING_EXTRACTION


def test_every_corpus_cv_with_a_text_layer_is_accepted(corpus):
    statuses, has_text, _find, _texts = corpus
    assert statuses == {cv.key: 302 for cv in search_corpus.CVS}
    assert all(has_text.values()) and len(has_text) == len(search_corpus.CVS)


def test_the_corpus_places_each_word_where_it_says():
    for cv in search_corpus.CVS:
        for word, place in cv.placed.items():
            assert normalise(word) in normalise(search_corpus.place_text(cv, place)), (
                cv.key, word)


def test_placed_words_are_found(corpus):
    _statuses, _has_text, find, _texts = corpus
    quality = search_corpus.measure(find, ready=_ready_places())
    assert quality.placed_share >= 0.95, quality.missed_words


def test_placed_words_are_found_in_every_place(corpus):
    _statuses, _has_text, find, _texts = corpus
    quality = search_corpus.measure(find)
    assert quality.placed_share >= 0.95, quality.missed_words


def test_natural_queries_find_the_relevant_candidates_and_few_others(corpus):
    _statuses, _has_text, find, texts = corpus
    quality = search_corpus.measure(find)
    porter = search_corpus.measure(search_corpus.fts5_finder(texts, "porter unicode61 "
                                                             "remove_diacritics 2"))
    assert quality.recall >= 0.90, quality.missed_relevant
    assert quality.wrong <= 3, quality.wrong_results
    assert quality.recall >= porter.recall
