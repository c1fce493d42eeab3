"""Where each sealed column's associated data comes from, and a per-record sealer.

The context names the table, the column and the row (child rows by their random
uid), plus the person's public id: a ciphertext moved anywhere else fails to open.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from vault.crypto import (
    Context,
    DataKey,
    DecryptionError,
    WrappedKey,
    new_data_key,
    open_bytes,
    open_text,
    seal_bytes,
    seal_text,
)
from vault.keys import VaultKeys, opened_keys
from vault.models import Candidate, CandidateKey, DataRequest, MailMessage

CANDIDATE_FIELDS = ("full_name", "email", "phone", "position", "age", "gender", "interests")
EDUCATION_FIELDS = ("degree", "field", "institution", "year")
DOCUMENT_FIELDS = ("filename", "media_type", "content", "text")


class RecordKeyMissing(Exception):
    """The record has no data key (it was shredded, or the database is inconsistent)."""


@dataclass(frozen=True)
class Sealer:
    """Seals and opens the fields of one record with that record's data key."""

    dek: DataKey
    public_id: str

    def context(self, table: str, column: str, uid: str | None = None) -> Context:
        return Context(table, column if uid is None else f"{column}:{uid}", self.public_id)

    def seal(self, table: str, column: str, value: str, uid: str | None = None) -> bytes:
        return seal_text(self.dek, value, self.context(table, column, uid))

    def open(self, table: str, column: str, ciphertext: bytes | None,
             uid: str | None = None) -> str:
        if ciphertext is None:
            return ""
        return open_text(self.dek, ciphertext, self.context(table, column, uid))

    def seal_file(self, table: str, column: str, value: bytes, uid: str) -> bytes:
        return seal_bytes(self.dek, value, self.context(table, column, uid))

    def open_file(self, table: str, column: str, ciphertext: bytes, uid: str) -> bytes:
        return open_bytes(self.dek, ciphertext, self.context(table, column, uid))


def new_record_key(keys: VaultKeys, candidate: Candidate) -> Sealer:
    """A fresh DEK for a new record, wrapped by the primary KEK and attached to it."""
    dek = new_data_key()
    (wrapped,) = keys.kek.wrap([(dek, candidate.public_id)])
    candidate.key = CandidateKey(kek_version=wrapped.kek_version, wrapped=wrapped.blob)
    return Sealer(dek, candidate.public_id)


def record_sealer(keys: VaultKeys, candidate: Candidate) -> Sealer:
    """Unwrap the record's DEK. Raises DecryptionError when its KEK version is gone,
    KeysChanged when it is newer than this worker can load."""
    key = candidate.key
    if key is None:
        raise RecordKeyMissing
    return key_sealer(keys, candidate.public_id, key.kek_version, key.wrapped)


def key_sealer(keys: VaultKeys, public_id: str, kek_version: int, wrapped: bytes) -> Sealer:
    """The same from a wrapped key read without the ORM (a page of search results)."""
    dek = keys.unwrap(WrappedKey(kek_version, wrapped), public_id)
    return Sealer(dek, public_id)


def record_sealers(keys: VaultKeys, wrapped: Sequence[tuple[str, int, bytes]]
                   ) -> list[Sealer]:
    """Sealers of several records from their wrapped keys (public id, KEK version,
    wrapped key) read without the ORM (a page of search results): unwrapped in one call
    to the KEK backend (one Transit request for 20 results, not 20). DecryptionError
    when one of them does not open."""
    deks = keys.unwrap_many([(WrappedKey(version, blob), public_id)
                             for public_id, version, blob in wrapped])
    sealers = []
    for (public_id, _, _), dek in zip(wrapped, deks, strict=True):
        if dek is None:
            raise DecryptionError
        sealers.append(Sealer(dek, public_id))
    return sealers


@contextmanager
def records_opened(keys: VaultKeys, candidates: Iterable[Candidate]) -> Iterator[None]:
    """A block in which these records' data keys are already unwrapped, all in one call
    to the KEK backend (one Transit request for a page, not one per record), for every
    record_sealer (open_candidate, ...) inside it; they are dropped when it ends (inside
    a request's block, with the request's)."""
    with opened_keys():
        keys.prefetch([(WrappedKey(c.key.kek_version, c.key.wrapped), c.public_id)
                       for c in candidates if c.key is not None])
        yield


def sealed_values(candidate: Candidate) -> Iterator[tuple[str, str, str | None, bytes | None]]:
    """Every (table, column, uid, ciphertext) held for a record: what 'check' must open."""
    for column in CANDIDATE_FIELDS:
        yield "candidate", column, None, getattr(candidate, column)
    yield "candidate", "legal_hold_reason", None, candidate.legal_hold_reason
    for edu in candidate.education:
        for column in EDUCATION_FIELDS:
            yield "education", column, edu.uid, getattr(edu, column)
    for doc in candidate.documents:
        for column in DOCUMENT_FIELDS:
            yield "document", column, doc.uid, getattr(doc, column)
    for note in candidate.notes:
        yield "note", "body", note.uid, note.body
    if candidate.index_row is not None:
        yield "candidate_index", "card", None, candidate.index_row.card
    for change in candidate.email_changes:  # a new address waiting for confirmation
        yield "email_change", "new_email", change.uid, change.new_email


def check_opens(sealer: Sealer, candidate: Candidate,
                requests: list[DataRequest] | None = None,
                mails: list[MailMessage] | None = None) -> list[str]:
    """Names of the fields of a record that fail to open (empty when all open)."""
    failures: list[str] = []
    for table, column, uid, ciphertext in sealed_values(candidate):
        if ciphertext is None:
            continue
        try:
            open_bytes(sealer.dek, ciphertext, sealer.context(table, column, uid))
        except DecryptionError:
            failures.append(f"{table}.{column}")
    for request in requests or []:
        if request.details is not None:
            try:
                open_bytes(sealer.dek, request.details,
                           sealer.context("data_request", "details", request.uid))
            except DecryptionError:
                failures.append("data_request.details")
    for mail in mails or []:  # queued mail (delivered mail keeps no ciphertext)
        for column in ("recipient", "subject", "body", "html_body", "sender_name"):
            value = getattr(mail, column)
            if value is None:
                continue
            try:
                open_bytes(sealer.dek, value, sealer.context("mail_queue", column, mail.uid))
            except DecryptionError:
                failures.append(f"mail_queue.{column}")
    return failures

