from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.forensics import find_markers
from vault.appctx import vault_keys
from vault.crypto import DecryptionError
from vault.extensions import db
from vault.models import (
    Candidate,
)
from vault.services.candidates import (
    CandidateInput,
    Correction,
    DocumentInput,
    EducationInput,
    create_candidate,
    find_document,
    open_candidate,
    open_document,
    records_of_person,
)
from vault.services.indexing import word_tokens

MARK_NAME = "Zyxwolder"
MARK_MAIL = "qmarker7781@example.org"
MARK_CV = "Quuxfrobnicator"


def sample_input(name: str = f"Anna {MARK_NAME}", email: str = MARK_MAIL) -> CandidateInput:
    return CandidateInput(
        full_name=name, email=email, phone="+32 470 12 34 56", position="Data engineer",
        age="31", gender="female", interests="cycling, rust",
        education=(EducationInput("Master of Science", "Computer Science", "KU Leuven", "2018"),),
        cv=DocumentInput(content=b"%PDF-1.4 fake " + MARK_CV.encode(), filename="anna-cv.pdf",
                         media_type="application/pdf", extension="pdf",
                         text=f"Experienced {MARK_CV} with Python and Kafka", has_text=True))


def make(app, clock, **kwargs) -> str:
    with app.app_context():
        candidate = create_candidate(db.session, vault_keys(), sample_input(**kwargs), now=clock())
        db.session.commit()
        return candidate.public_id


def get(public_id: str) -> Candidate:
    return db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))


def test_created_record_opens_to_what_was_given(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        opened = open_candidate(vault_keys(), get(public_id))
        assert opened.full_name == f"Anna {MARK_NAME}"
        assert opened.email == MARK_MAIL
        assert opened.education[0].institution == "KU Leuven"
        assert opened.documents[0].filename == "anna-cv.pdf"
        name, media_type, content = open_document(
            vault_keys(), get(public_id), find_document(get(public_id)))
        assert (name, media_type) == ("anna-cv.pdf", "application/pdf")
        assert MARK_CV.encode() in content


def test_no_personal_data_in_plaintext_in_the_database(app, clock):
    make(app, clock)
    assert find_markers(app, [MARK_NAME.encode(), MARK_MAIL.encode(), MARK_CV.encode(),
                              b"anna-cv.pdf", b"KU Leuven"]) == []


def test_search_tokens_are_written_for_indexed_fields(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        tokens = get(public_id).index_row.tokens.split()
        index = vault_keys().blind_index
        assert word_tokens(index, MARK_NAME.lower()) & set(tokens)
        assert word_tokens(index, MARK_CV.lower()) & set(tokens)
        for private in ("31", "female", "470"):  # age, gender, phone: never indexed
            assert not word_tokens(index, private) & set(tokens)


def test_ciphertext_moved_to_another_person_fails_to_open(app, clock):
    first = make(app, clock)
    second = make(app, clock, name="Bert Other", email="bert@example.org")
    with app.app_context():
        a, b = get(first), get(second)
        b.full_name = a.full_name
        with pytest.raises(DecryptionError):
            open_candidate(vault_keys(), b)


def test_ciphertext_moved_to_another_column_fails_to_open(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        c = get(public_id)
        c.position = c.phone
        with pytest.raises(DecryptionError):
            open_candidate(vault_keys(), c)


def test_second_application_with_same_email_is_a_separate_linked_record(app, clock):
    first = make(app, clock)
    second = make(app, clock, name="Someone Else", email=MARK_MAIL.upper())
    with app.app_context():
        assert first != second
        assert open_candidate(vault_keys(), get(first)).full_name == f"Anna {MARK_NAME}"
        linked = records_of_person(db.session, get(first))
        assert [c.public_id for c in linked] == [first, second]


def test_correction_reseals_and_reindexes_but_keeps_consents(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        from vault.services.candidates import correct_candidate

        c = get(public_id)
        correct_candidate(db.session, vault_keys(), c,
                          Correction(full_name="Anna Newname", education=()), now=clock())
        db.session.commit()
        opened = open_candidate(vault_keys(), get(public_id))
        assert opened.full_name == "Anna Newname"
        assert opened.education == []
        tokens = get(public_id).index_row.tokens.split()
        index = vault_keys().blind_index
        assert word_tokens(index, "newname") & set(tokens)
        assert not word_tokens(index, MARK_NAME.lower()) & set(tokens)
        assert word_tokens(index, MARK_CV.lower()) & set(tokens)
