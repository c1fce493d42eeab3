"""Candidate records: create, open, correct, erase (crypto-shredding).

Plaintext exists only in the dataclasses passed in and returned here; what reaches
the session is sealed bytes and blind-index tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.models import (
    Candidate,
    CandidateCompany,
    CandidateIndex,
    Document,
    Education,
    Note,
    new_public_id,
    new_uid,
)
from vault.services.indexing import (
    EMAIL,
    INDEX_VERSION,
    IndexedText,
    TokenMemo,
    record_index,
    seal_card,
)
from vault.services.sealing import Sealer, new_record_key, record_sealer

# What a candidate's fields may hold. The application form, the correction form and
# `vault import` all check these, so data never depends on the way it came in.
MAX_EDUCATION = 10
MAX_NAME = 200
MAX_EMAIL = 254
MAX_PHONE = 40
MAX_POSITION = 200
MAX_INTERESTS = 2000
MAX_EDUCATION_FIELD = 200
MIN_AGE, MAX_AGE = 16, 99
GENDERS = ("female", "male", "non-binary", "other")  # or "" when the person does not say
PHONE_PATTERN = r"[0-9+()./\s-]+"
YEAR_PATTERN = r"19[5-9]\d|20\d\d"


class UnknownCompany(ValueError):
    """A company named for an application that is not one of the group's."""


def chosen_companies(named: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    """The companies an application names, once each, in alphabetical order (the order
    Candidate.companies reads them back in).

    Raises UnknownCompany for a name outside `known` (a record must never name a
    company whose recruiters do not exist, nor be shown to a made-up one) and
    ValueError when none is named."""
    wanted = {name for name in named if name}  # an empty value names nothing
    if wanted - set(known):
        raise UnknownCompany("unknown company")
    if not wanted:
        raise ValueError("no company named")
    return tuple(sorted(wanted))


@dataclass(frozen=True)
class EducationInput:
    degree: str
    field: str
    institution: str
    year: str = ""


@dataclass(frozen=True)
class DocumentInput:
    content: bytes
    filename: str  # the original name, kept sealed for the candidate's own download
    media_type: str
    extension: str
    text: str
    has_text: bool


@dataclass(frozen=True)
class CandidateInput:
    full_name: str
    email: str
    phone: str = ""
    position: str = ""
    age: str = ""
    gender: str = ""
    interests: str = ""
    education: tuple[EducationInput, ...] = ()
    cv: DocumentInput | None = None


@dataclass(frozen=True)
class OpenedEducation:
    uid: str
    degree: str
    field: str
    institution: str
    year: str


@dataclass(frozen=True)
class OpenedDocument:
    uid: str
    kind: str
    stored_name: str
    filename: str
    media_type: str
    has_text: bool
    created_at: datetime


@dataclass(frozen=True)
class OpenedNote:
    uid: str
    body: str
    author_id: int | None
    created_at: datetime
    company: str | None = None  # the company whose staff wrote it


@dataclass
class OpenedCandidate:
    public_id: str
    created_at: datetime
    source: str
    status: str
    vacancy_id: int | None
    full_name: str
    email: str
    phone: str
    position: str
    age: str
    gender: str
    interests: str
    education: list[OpenedEducation] = field(default_factory=list)
    documents: list[OpenedDocument] = field(default_factory=list)
    notes: list[OpenedNote] = field(default_factory=list)


def email_index(keys: VaultKeys, email: str) -> str:
    return keys.blind_index.exact(EMAIL, email)


def _seal_education(sealer: Sealer, entries: tuple[EducationInput, ...]) -> list[Education]:
    rows = []
    for position, entry in enumerate(entries):
        row = Education(position=position)
        row.uid = new_uid()
        row.degree = sealer.seal("education", "degree", entry.degree, row.uid)
        row.field = sealer.seal("education", "field", entry.field, row.uid)
        row.institution = sealer.seal("education", "institution", entry.institution, row.uid)
        row.year = sealer.seal("education", "year", entry.year, row.uid)
        rows.append(row)
    return rows


def _seal_document(sealer: Sealer, doc: DocumentInput, kind: str = "cv") -> Document:
    uid = new_uid()
    return Document(
        uid=uid, kind=kind, stored_name=f"{kind}-{uid}.{doc.extension}", has_text=doc.has_text,
        filename=sealer.seal("document", "filename", doc.filename, uid),
        media_type=sealer.seal("document", "media_type", doc.media_type, uid),
        content=sealer.seal_file("document", "content", doc.content, uid),
        text=sealer.seal("document", "text", doc.text, uid),
    )


def _seal_fields(sealer: Sealer, candidate: Candidate, data: CandidateInput) -> None:
    for column in ("full_name", "email", "phone", "position", "age", "gender", "interests"):
        setattr(candidate, column, sealer.seal("candidate", column, getattr(data, column)))


def _indexed_text(data: CandidateInput, cv_text: str) -> IndexedText:
    return IndexedText(
        full_name=data.full_name, position=data.position, interests=data.interests,
        cv_text=cv_text,
        education=tuple((e.degree, e.field, e.institution) for e in data.education))


def create_candidate(session: Session, keys: VaultKeys, data: CandidateInput, *,
                     now: datetime, source: str = "apply", vacancy_id: int | None = None,
                     token_memo: TokenMemo | None = None,
                     email_confirmed: bool = True,
                     companies: Sequence[str] = (),
                     flush: bool = True) -> Candidate:
    """Seal a new record and add it to the session (the caller commits).

    Bulk loaders pass a token memo that lives for their run (see record_tokens). An
    application is the person's own data under the address they typed, so it joins the
    records of that address (only that address ever receives a link to them); a record
    whose data came from elsewhere (import) passes email_confirmed=False and stays on
    its own until its address confirms by link (services.identity).

    companies: those a record without a vacancy is for (checked by chosen_companies);
    an application to a vacancy is for the vacancy's company and names none."""
    if len(data.education) > MAX_EDUCATION:
        raise ValueError("too many education entries")
    if companies and vacancy_id is not None:
        raise ValueError("an application to a vacancy is for the vacancy's company")
    candidate = Candidate(source=source, vacancy_id=vacancy_id, created_at=now, updated_at=now,
                          status="new", email_index=email_index(keys, data.email),
                          email_confirmed_at=now if email_confirmed else None)
    candidate.named_companies = [CandidateCompany(company=c) for c in companies]
    candidate.public_id = new_public_id()
    sealer = new_record_key(keys, candidate)
    _seal_fields(sealer, candidate, data)
    candidate.education = _seal_education(sealer, data.education)
    if data.cv is not None:
        candidate.documents = [_seal_document(sealer, data.cv)]
    _set_index(keys, sealer, candidate, _indexed_text(data, data.cv.text if data.cv else ""),
               token_memo)
    session.add(candidate)
    if flush:  # a bulk loader (a benchmark's corpus) flushes a thousand at once instead
        session.flush()
    return candidate


def open_candidate(keys: VaultKeys, candidate: Candidate, *, with_notes: bool = True,
                   note_filter: Callable[[Note], bool] | None = None) -> OpenedCandidate:
    """Open a record for a caller who has already been found allowed to see it.

    note_filter (vault.services.access.note_reader) keeps the notes this caller may
    read; the others are not even opened. None: every note (the officer, the person)."""
    sealer = record_sealer(keys, candidate)
    opened = OpenedCandidate(
        public_id=candidate.public_id, created_at=candidate.created_at, source=candidate.source,
        status=candidate.status, vacancy_id=candidate.vacancy_id,
        **{c: sealer.open("candidate", c, getattr(candidate, c))
           for c in ("full_name", "email", "phone", "position", "age", "gender", "interests")})
    opened.education = [
        OpenedEducation(e.uid, *(sealer.open("education", c, getattr(e, c), e.uid)
                                 for c in ("degree", "field", "institution", "year")))
        for e in candidate.education]
    opened.documents = [
        OpenedDocument(d.uid, d.kind, d.stored_name,
                       sealer.open("document", "filename", d.filename, d.uid),
                       sealer.open("document", "media_type", d.media_type, d.uid),
                       d.has_text, d.created_at)
        for d in candidate.documents]
    if with_notes:
        opened.notes = [OpenedNote(n.uid, sealer.open("note", "body", n.body, n.uid),
                                   n.author_id, n.created_at, n.company)
                        for n in candidate.notes
                        if note_filter is None or note_filter(n)]
    return opened


def find_document(candidate: Candidate, uid: str | None = None) -> Document | None:
    """The record's document with this uid, or its latest CV."""
    docs = [d for d in candidate.documents if uid is None or d.uid == uid]
    return docs[-1] if docs else None


def open_document(keys: VaultKeys, candidate: Candidate,
                  document: Document) -> tuple[str, str, bytes]:
    """(original file name, media type, bytes) of one document."""
    sealer = record_sealer(keys, candidate)
    return (sealer.open("document", "filename", document.filename, document.uid),
            sealer.open("document", "media_type", document.media_type, document.uid),
            sealer.open_file("document", "content", document.content, document.uid))


def open_document_text(keys: VaultKeys, candidate: Candidate, document: Document) -> str:
    return record_sealer(keys, candidate).open("document", "text", document.text, document.uid)


@dataclass(frozen=True)
class Correction:
    """What a candidate may correct. None leaves a value as it is."""

    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    position: str | None = None
    age: str | None = None
    gender: str | None = None
    interests: str | None = None
    education: tuple[EducationInput, ...] | None = None


class UnconfirmedEmail(ValueError):
    """A correction tried to move a record to another e-mail address without the proof
    that the new address belongs to the person (services.identity)."""


def correct_candidate(session: Session, keys: VaultKeys, candidate: Candidate,
                      correction: Correction, *, now: datetime,
                      email_confirmed: bool = False) -> None:
    """Re-seal the corrected fields and rebuild the record's search tokens.

    Consents are not touched: correcting data is not consenting to anything new. A new
    address (another e-mail index) is refused unless its owner confirmed it by link:
    the address decides whose self-service view a record is in, so changing it on
    someone's word alone would hand them another person's records.
    """
    if (correction.email is not None and not email_confirmed
            and email_index(keys, correction.email) != candidate.email_index):
        raise UnconfirmedEmail("a new e-mail address takes effect only once confirmed")
    sealer = record_sealer(keys, candidate)
    current = open_candidate(keys, candidate, with_notes=False)
    merged = CandidateInput(
        **{c: (getattr(correction, c) if getattr(correction, c) is not None
               else getattr(current, c))
           for c in ("full_name", "email", "phone", "position", "age", "gender", "interests")},
        education=correction.education if correction.education is not None else tuple(
            EducationInput(e.degree, e.field, e.institution, e.year) for e in current.education))
    if len(merged.education) > MAX_EDUCATION:
        raise ValueError("too many education entries")
    _seal_fields(sealer, candidate, merged)
    if correction.education is not None:
        candidate.education = _seal_education(sealer, merged.education)
    _index(keys, sealer, candidate, merged)
    candidate.updated_at = now
    session.flush()


def reindex_candidate(keys: VaultKeys, candidate: Candidate,
                      token_memo: TokenMemo | None = None) -> None:
    """Recompute a record's tokens and e-mail index (after the index key or bits change)."""
    current = open_candidate(keys, candidate, with_notes=False)
    _index(keys, record_sealer(keys, candidate), candidate, CandidateInput(
        **{c: getattr(current, c)
           for c in ("full_name", "email", "phone", "position", "age", "gender", "interests")},
        education=tuple(EducationInput(e.degree, e.field, e.institution, e.year)
                        for e in current.education)), token_memo)


def _index(keys: VaultKeys, sealer: Sealer, candidate: Candidate, data: CandidateInput,
           token_memo: TokenMemo | None = None) -> None:
    candidate.email_index = email_index(keys, data.email)
    doc = find_document(candidate)
    cv_text = sealer.open("document", "text", doc.text, doc.uid) if doc else ""
    _set_index(keys, sealer, candidate, _indexed_text(data, cv_text), token_memo)


def _set_index(keys: VaultKeys, sealer: Sealer, candidate: Candidate, text: IndexedText,
               token_memo: TokenMemo | None) -> None:
    """Tokens and search card always change together: a card is what its tokens say."""
    tokens, terms = record_index(keys.blind_index, text, token_memo)
    card = seal_card(sealer, text, terms)
    if candidate.index_row is None:
        candidate.index_row = CandidateIndex(tokens=tokens, card=card, analysis=INDEX_VERSION)
    else:
        candidate.index_row.tokens = tokens
        candidate.index_row.card = card
        candidate.index_row.analysis = INDEX_VERSION


def records_of_person(session: Session, candidate: Candidate) -> list[Candidate]:
    """Every record sharing this record's *confirmed* e-mail address (the same person).

    A record whose address is not confirmed (an import waiting for its link) is a
    person of its own: it neither sees nor is seen by the records of that address.
    """
    if candidate.email_confirmed_at is None:
        return [candidate]
    return list(session.scalars(select(Candidate).where(
        Candidate.email_index == candidate.email_index,
        Candidate.email_confirmed_at.is_not(None)).order_by(Candidate.id)))



