"""Loading many records at once (`vault import` of JSON Lines, `vault seed-demo`).

The rows are the ones create_candidate, services.consent and services.audit write for
one record at a time (tests/services/test_bulkload.py proves it field by field); only
the way they reach the database differs:
- the CPU work (fields sealed, search tokens and card computed, data keys wrapped in one
  call per batch) runs in worker processes when the KEKs are in this process (the file
  keyring); with a key manager it runs here, since its client is not fork-safe;
- rows go in by COPY on PostgreSQL and executemany on SQLite, batch by batch, in the
  caller's one transaction: all or nothing per run, as the one-by-one path;
- nothing grows with the number of records: batches are written and dropped, the
  input is read as a stream, and the pool of workers works a bounded number of batches
  ahead (so memory stays flat from 100,000 to 1,000,000 records).

Plaintext stays in memory: between this process and its workers it travels through an
anonymous pipe (never a file), and what comes back is sealed.

An import asks each new record to confirm its address (Confirmations) in the same run:
the workers, which hold the record's data key, seal its pending change and its mail
(rendered once by the caller, each record's link put in), and the writer adds them and
their audit events with the record's rows. An import of a million records once spent
hours asking afterwards, one record at a time.

Search index rows are written in one place (_Writer.index_rows) from what
vault.services.indexing computes (record_index, card_value, INDEX_VERSION): a change of
the index layout there, or of the tables it fills, is made here once.
"""

from __future__ import annotations

import array
import ctypes
import logging
import multiprocessing
import os
import secrets
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import DateTime, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vault.crypto import new_data_key, seal_many
from vault.keys import VaultKeys
from vault.models import (
    AuditEvent,
    Candidate,
    CandidateCompany,
    CandidateIndex,
    CandidateKey,
    Consent,
    Document,
    Education,
    EmailChange,
    MailMessage,
    UTCDateTime,
    new_public_id,
    new_uid,
)
from vault.services import audit, identity, links, mail_queue
from vault.services.candidates import MAX_EDUCATION, CandidateInput, email_index
from vault.services.indexing import (
    CARD,
    INDEX_VERSION,
    IndexedText,
    TokenMemo,
    card_value,
    record_index,
)
from vault.services.sealing import CANDIDATE_FIELDS, DOCUMENT_FIELDS, EDUCATION_FIELDS, Sealer
from vault.services.search import token_ids

log = logging.getLogger(__name__)

BATCH = 1000  # records per batch: one key-wrapping call, one COPY/executemany per table
SQLITE_CACHE_KIB = -65536  # 64 MiB of page cache while loading (negative: in KiB)
AHEAD = 4  # batches a worker may have ready before the writer takes them
MEMO_ENTRIES = 200_000  # a worker's TokenMemo: at most about 45 MiB (see _work)
# A load that adds at least this share of the candidates the planner last counted has
# the tables analysed after its commit (autovacuum's default analyze scale factor).
ANALYZE_SHARE = 0.1


# What crosses the pipe from a worker is made of NamedTuples, not dataclasses: a tuple
# pickles without a dict of attribute names per object (the writer unpickles a batch in
# about half the CPU).
class ConsentRow(NamedTuple):
    """One event of the consent ledger, as services.consent.record_consent writes it."""

    purpose: str
    event: str
    notice_version: str
    source: str
    at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PlannedRecord:
    """Everything one record is made of, before it is sealed."""

    data: CandidateInput
    source: str
    consents: tuple[ConsentRow, ...]
    # Candidate.pool_consent_until once the ledger above is written (services.consent).
    pool_consent_until: datetime | None
    vacancy_id: int | None = None
    companies: tuple[str, ...] = ()
    email_confirmed: bool = True
    audit_detail: str | None = None  # a candidate.created event with this detail


# The language of every loaded record (the export schema carries none); the caller
# renders the confirmation mail in it.
LANGUAGE = "en"
# Where the link's token goes in Confirmations.body: URL-safe, so the URL carries it as
# it is, and the mail of each record is the rendered text with its own token put in.
TOKEN_MARK = "vault-confirmation-token-mark"  # noqa: S105 (a placeholder)


@dataclass(frozen=True)
class Confirmations:
    """How each loaded record whose address is not confirmed (an import) is asked to
    confirm it, in the run's own transaction: what identity.ask_to_confirm and
    notifications.queue_import_confirmations write after the fact, made by the workers
    with the record's other rows (its key is at hand there, and no record of the run
    is ever left without its link)."""

    requested_by: str
    expires_at: datetime
    subject: str  # the mail's, header-safe
    body: str  # the mail's text, rendered once, TOKEN_MARK where the token goes


class BuiltRecord(NamedTuple):
    """One record's rows, sealed (what crosses back from a worker)."""

    public_id: str
    candidate: tuple[Any, ...]  # _CANDIDATE_COLUMNS without id
    kek_version: int
    wrapped: bytes
    companies: tuple[str, ...]
    education: list[tuple[Any, ...]]  # _EDUCATION_COLUMNS without candidate_id
    documents: list[tuple[Any, ...]]  # _DOCUMENT_COLUMNS without candidate_id
    index: tuple[str, bytes, int]  # tokens, card, analysis
    consents: tuple[ConsentRow, ...]
    audit_detail: str | None
    token_array: bytes | None = None  # token_ids for PostgreSQL's COPY (token_array)
    # With Confirmations: (email_change row, mail_queue row), each without candidate_id.
    confirmation: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None


def _utc(moment: datetime | None) -> datetime | None:
    # Stored as naive UTC, as models.UTCDateTime does.
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


_CANDIDATE_COLUMNS = (
    "id",
    "public_id",
    "created_at",
    "updated_at",
    "source",
    "vacancy_id",
    "status",
    "email_index",
    "email_confirmed_at",
    "link_generation",
    "pool_consent_until",
    "legal_hold",
    "language",
    *CANDIDATE_FIELDS,
)
_EDUCATION_COLUMNS = ("candidate_id", "uid", "position", "degree", "field", "institution", "year")
_DOCUMENT_COLUMNS = (
    "candidate_id",
    "uid",
    "kind",
    "stored_name",
    "filename",
    "media_type",
    "content",
    "text",
    "has_text",
    "created_at",
)
_KEY_COLUMNS = ("candidate_id", "kek_version", "wrapped", "created_at")
_COMPANY_COLUMNS = ("candidate_id", "company")
_INDEX_COLUMNS = ("candidate_id", "tokens", "card", "analysis")
_CONSENT_COLUMNS = (
    "candidate_id",
    "purpose",
    "event",
    "notice_version",
    "source",
    "created_at",
    "expires_at",
)
_EMAIL_CHANGE_COLUMNS = (
    "candidate_id",
    "uid",
    "new_email",
    "nonce_hash",
    "requested_by",
    "requested_at",
    "expires_at",
)
# Where a pending change's row (_Asked.rows: the columns after candidate_id) holds who
# asked, which its audit event names.
_REQUESTED_BY = _EMAIL_CHANGE_COLUMNS.index("requested_by") - 1
_MAIL_COLUMNS = (
    "candidate_id",
    "uid",
    "kind",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
    "recipient",
    "subject",
    "body",
)
_AUDIT_COLUMNS = (
    "created_at",
    "actor_type",
    "actor_id",
    "actor_role",
    "action",
    "subject_public_id",
    "detail",
    "prev_hash",
    "hash",
)


def _indexed_text(data: CandidateInput) -> IndexedText:
    return IndexedText(
        full_name=data.full_name,
        position=data.position,
        interests=data.interests,
        cv_text=data.cv.text if data.cv else "",
        education=tuple((e.degree, e.field, e.institution) for e in data.education),
    )


def build_batch(
    keys: VaultKeys,
    planned: Sequence[PlannedRecord],
    *,
    now: datetime,
    memo: TokenMemo,
    token_arrays: bool = False,
    confirmations: Confirmations | None = None,
    secret_keys: Sequence[str] = (),
) -> list[BuiltRecord]:
    """Seal a batch: a fresh data key per record, wrapped in one call to the KEK backend.
    With token_arrays (a load into PostgreSQL), also each record's token_ids as COPY
    takes them: computed here, in a worker, rather than by the one writing process.
    With confirmations, each record whose address is not confirmed also gets its pending
    change and its confirmation mail, the link signed with secret_keys."""
    sign = None
    if confirmations is not None:
        sign = links.confirmation_signer(secret_keys, clock=lambda: now)
    deks = [new_data_key() for _ in planned]
    public_ids = [new_public_id() for _ in planned]
    wrapped = keys.kek.wrap(list(zip(deks, public_ids, strict=True)))
    moment = _utc(now)
    built = []
    for item, dek, public_id, key in zip(planned, deks, public_ids, wrapped, strict=True):
        data = item.data
        if len(data.education) > MAX_EDUCATION:
            raise ValueError("too many education entries")
        if item.companies and item.vacancy_id is not None:
            raise ValueError("an application to a vacancy is for the vacancy's company")
        sealer = Sealer(dek, public_id)
        # Every field of the record in one call (one cipher object for its key), under
        # the contexts Sealer.seal gives them.
        fields = [
            (getattr(data, column), sealer.context("candidate", column))
            for column in CANDIDATE_FIELDS
        ]
        education_uids = [new_uid() for _ in data.education]
        for entry, uid in zip(data.education, education_uids, strict=True):
            fields += [
                (getattr(entry, column), sealer.context("education", column, uid))
                for column in EDUCATION_FIELDS
            ]
        document_uid = new_uid()
        if data.cv is not None:
            fields += [
                (getattr(data.cv, column), sealer.context("document", column, document_uid))
                for column in DOCUMENT_FIELDS
            ]
        asked = None
        if confirmations is not None and sign is not None and not item.email_confirmed:
            asked = _Asked(confirmations, sign, sealer, data.email)
            fields += asked.fields
        # The search tokens and card, as services.candidates._set_index makes them; the
        # card sealed last, with the rest.
        indexed = _indexed_text(data)
        tokens, terms = record_index(keys.blind_index, indexed, memo)
        fields.append((card_value(indexed, terms), sealer.context(*CARD)))
        sealed = iter(
            seal_many(
                dek, [(v if isinstance(v, bytes) else v.encode("utf-8"), c) for v, c in fields]
            )
        )
        candidate = (
            public_id,
            moment,
            moment,
            item.source,
            item.vacancy_id,
            "new",
            email_index(keys, data.email),
            moment if item.email_confirmed else None,
            0,
            _utc(item.pool_consent_until),
            False,
            LANGUAGE,
            *(next(sealed) for _ in CANDIDATE_FIELDS),
        )
        education = [
            (uid, position, *(next(sealed) for _ in EDUCATION_FIELDS))
            for position, uid in enumerate(education_uids)
        ]
        documents = []
        if data.cv is not None:
            filename, media_type, content, cv_text = (next(sealed) for _ in DOCUMENT_FIELDS)
            documents.append(
                (
                    document_uid,
                    "cv",
                    f"cv-{document_uid}.{data.cv.extension}",
                    filename,
                    media_type,
                    content,
                    cv_text,
                    data.cv.has_text,
                )
            )
        confirmation = asked.rows(sealed, moment) if asked is not None else None
        index = (tokens, next(sealed), INDEX_VERSION)
        built.append(
            BuiltRecord(
                public_id=public_id,
                candidate=candidate,
                kek_version=key.kek_version,
                wrapped=key.blob,
                companies=tuple(sorted(item.companies)),
                education=education,
                documents=documents,
                index=index,
                consents=item.consents,
                audit_detail=item.audit_detail,
                token_array=token_array(tokens) if token_arrays else None,
                confirmation=confirmation,
            )
        )
    return built


class _Asked:
    """One record's confirmation (Confirmations): the values to seal with its fields, then
    its rows. The same rows as identity.ask_to_confirm and mail_queue.enqueue_for_records:
    the address sealed in the change bound to its uid, the nonce kept only as its hash,
    the mail sealed with the record's key and bound to its own uid."""

    def __init__(self, confirmations: Confirmations, sign: Callable[[str, str], str],
                 sealer: Sealer, email: str) -> None:
        self.confirmations = confirmations
        self.change_uid, self.mail_uid = new_uid(), new_uid()
        nonce = secrets.token_urlsafe(32)
        self.nonce_hash = identity.nonce_hash(nonce)
        address = email.strip()
        body = confirmations.body.replace(TOKEN_MARK, sign(self.change_uid, nonce))
        table = mail_queue.TABLE
        self.fields = [
            (address, sealer.context("email_change", "new_email", self.change_uid)),
            (address, sealer.context(table, "recipient", self.mail_uid)),
            (confirmations.subject, sealer.context(table, "subject", self.mail_uid)),
            (body, sealer.context(table, "body", self.mail_uid)),
        ]

    def rows(self, sealed: Iterator[bytes], moment: datetime | None
             ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        new_email, recipient, subject, body = (next(sealed) for _ in self.fields)
        change = (self.change_uid, new_email, self.nonce_hash, self.confirmations.requested_by,
                  moment, _utc(self.confirmations.expires_at))
        mail = (self.mail_uid, mail_queue.EMAIL_CONFIRMATION, mail_queue.QUEUED, 0, moment,
                moment, recipient, subject, body)
        return change, mail


_INT4_OID = 23
_BYTEA_OID = 17


def token_arrays_for(session: Session) -> bool:
    """Whether a load into this session's database has its workers make each record's
    token_ids (build_batch's token_arrays): PostgreSQL's search reads them; SQLite's
    FTS5 has none."""
    return session.get_bind().dialect.name == "postgresql"


def token_array(tokens: str) -> bytes:
    """A record's token_ids (search.token_ids) as the bytes of PostgreSQL's binary int4[]
    (array_recv), built in C: psycopg's array dumper packs value by value in Python,
    which was most of a load's client time. Header (dimensions, has-nulls, element
    type, length, lower bound), then each value as its length (4) and its big-endian
    bytes."""
    values = token_ids(tokens)
    if values:
        words = array.array("i", [4]) * (2 * len(values))
        words[1::2] = array.array("i", values)
        body = array.array("i", [1, 0, _INT4_OID, len(values), 1]) + words
    else:
        body = array.array("i", [0, 0, _INT4_OID])  # no dimensions: '{}'
    if sys.byteorder == "little":
        body.byteswap()
    return body.tobytes()


class _Writer:
    """Writes built batches into the session's transaction with the database's bulk path."""

    def __init__(self, session: Session, keys: VaultKeys) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.chain_key = keys.audit_chain_key
        # The records to audit, chained at the end of the run (finish), as runs of
        # consecutive ids with the same events: [first id, count, the number of the
        # candidate.created detail, that of the email_change_requested detail or -1
        # (Confirmations)]. A run's ids come in batches from one sequence, so a million
        # records are a few runs, not 16 MB of ids held to the end.
        self.audited: list[list[int]] = []
        self.details: dict[str, int] = {}
        self.next_id: int | None = None
        self.converters: dict[str, list[Callable[[Any], Any] | None]] = {}
        self.pg_types: dict[str, list[int]] = {}

    # -- ids -------------------------------------------------------------------------
    def _candidate_ids(self, count: int) -> list[int]:
        if self.dialect == "postgresql":
            return list(
                self.connection.execute(
                    text(
                        "SELECT nextval(pg_get_serial_sequence('candidate', 'id')) "
                        "FROM generate_series(1, :n)"
                    ),
                    {"n": count},
                ).scalars()
            )
        if self.next_id is None:
            # BEGIN IMMEDIATE holds SQLite's write lock for the whole run, so nobody else
            # can take these ids before the run commits.
            self.next_id = (
                int(
                    self.connection.execute(
                        text("SELECT coalesce(max(id), 0) FROM candidate")
                    ).scalar_one()
                )
                + 1
            )
        first, self.next_id = self.next_id, self.next_id + count
        return list(range(first, first + count))

    # -- the two bulk paths ----------------------------------------------------------
    def _rows(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.dialect == "postgresql":
            types = self._pg_types(table, columns)
            raw = self.connection.connection.driver_connection
            # Binary COPY: sealed values go as their bytes (text COPY doubles them into
            # hex, which this process writes and the server parses back).
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    f'COPY "{table}" ({", ".join(columns)}) FROM STDIN (FORMAT BINARY)'
                ) as copy,
            ):
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            return
        converters = self._converters(table, columns)
        converted = [(n, c) for n, c in enumerate(converters) if c is not None]
        if converted:
            # Only the date-time columns, each distinct value once (a batch's records
            # mostly share their moments): walking every value of every row in Python
            # was a fifth of the writer's time.
            done: dict[Any, Any] = {None: None}
            rows = [list(row) for row in rows]
            for row in rows:
                for n, convert in converted:
                    value = row[n]
                    if value in done:
                        row[n] = done[value]
                    else:
                        row[n] = done[value] = convert(value)
        raw = self.connection.connection.driver_connection
        # Table and column names are this module's constants, never input.
        raw.executemany(
            f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES '  # noqa: S608
            f"({', '.join('?' * len(columns))})",
            rows,
        )

    def _pg_types(self, table: str, columns: Sequence[str]) -> list[int]:
        """The columns' type oids, as binary COPY needs them (read once per table)."""
        if table not in self.pg_types:
            oids = dict(
                self.connection.execute(
                    text(
                        "SELECT attname, atttypid::int FROM pg_attribute "
                        "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0"
                    ),
                    {"table": table},
                ).all()
            )
            # token_ids goes as the bytes of its binary form (token_array): sent
            # as they are, and read by the server as the column's type, int4[].
            self.pg_types[table] = [
                _BYTEA_OID if name == "token_ids" else oids[name] for name in columns
            ]
        return self.pg_types[table]

    def _converters(self, table: str, columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
        # SQLite keeps date-times as text in SQLAlchemy's format: the dialect's own bind
        # processor writes them, so they read back as the ORM's rows do.
        if table not in self.converters:
            model = _TABLES[table]
            processors: list[Callable[[Any], Any] | None] = []
            for name in columns:
                column = model.__table__.c[name]
                if isinstance(column.type, UTCDateTime):
                    dialect = self.connection.dialect
                    processors.append(DateTime().dialect_impl(dialect).bind_processor(dialect))
                else:
                    processors.append(None)
            self.converters[table] = processors
        return self.converters[table]

    # -- one batch -------------------------------------------------------------------
    def write(self, batch: list[BuiltRecord]) -> None:
        ids = self._candidate_ids(len(batch))
        moment = _utc(datetime.now(UTC))  # created_at of keys and documents: the wall clock
        self._rows(
            "candidate",
            _CANDIDATE_COLUMNS,
            [(cid, *b.candidate) for cid, b in zip(ids, batch, strict=True)],
        )
        self._rows(
            "candidate_key",
            _KEY_COLUMNS,
            [(cid, b.kek_version, b.wrapped, moment) for cid, b in zip(ids, batch, strict=True)],
        )
        self._rows(
            "candidate_company",
            _COMPANY_COLUMNS,
            [(cid, company) for cid, b in zip(ids, batch, strict=True) for company in b.companies],
        )
        self._rows(
            "education",
            _EDUCATION_COLUMNS,
            [(cid, *row) for cid, b in zip(ids, batch, strict=True) for row in b.education],
        )
        self._rows(
            "document",
            _DOCUMENT_COLUMNS,
            [(cid, *row, moment) for cid, b in zip(ids, batch, strict=True) for row in b.documents],
        )
        self.index_rows(ids, batch)
        asked = [(cid, b.confirmation) for cid, b in zip(ids, batch, strict=True)
                 if b.confirmation is not None]
        self._rows("email_change", _EMAIL_CHANGE_COLUMNS,
                   [(cid, *change) for cid, (change, _) in asked])
        self._rows("mail_queue", _MAIL_COLUMNS, [(cid, *mail) for cid, (_, mail) in asked])
        self._rows(
            "consent",
            _CONSENT_COLUMNS,
            [
                (
                    cid,
                    c.purpose,
                    c.event,
                    c.notice_version,
                    c.source,
                    _utc(c.at),
                    _utc(c.expires_at),
                )
                for cid, b in zip(ids, batch, strict=True)
                for c in b.consents
            ],
        )
        self._note_audited(ids, batch)

    def index_rows(self, ids: list[int], batch: list[BuiltRecord]) -> None:
        """The search index: candidate_index rows (SQLite's FTS5 table follows them by
        its triggers, PostgreSQL's GIN index by itself), as create_candidate leaves them."""
        rows = [(cid, *b.index) for cid, b in zip(ids, batch, strict=True)]
        if self.dialect == "postgresql":
            # The int4[] the search looks tokens up by, as the column's trigger would
            # compute it (migration 0016 keeps an array given on insert): in SQL it
            # costs the database about 0.7 ms a record, most of a load's time.
            self._rows(
                "candidate_index",
                (*_INDEX_COLUMNS, "token_ids"),
                [
                    (*row, b.token_array or token_array(b.index[0]))
                    for row, b in zip(rows, batch, strict=True)
                ],
            )
            return
        self._rows("candidate_index", _INDEX_COLUMNS, rows)

    def _note_audited(self, ids: list[int], batch: list[BuiltRecord]) -> None:
        """Remember which records get a candidate.created event, and which also an
        email_change_requested one, with the numbers of their details among the run's
        few distinct details."""
        runs = self.audited
        for cid, record in zip(ids, batch, strict=True):
            if record.audit_detail is None:
                continue
            created = self.details.setdefault(record.audit_detail[:200], len(self.details))
            requested = -1
            if record.confirmation is not None:
                by = record.confirmation[0][_REQUESTED_BY][:200]
                requested = self.details.setdefault(by, len(self.details))
            last = runs[-1] if runs else None
            if last is not None and last[0] + last[1] == cid and last[2:] == [created, requested]:
                last[1] += 1
            else:
                runs.append([cid, 1, created, requested])

    def _audited_ids(self) -> Iterator[tuple[list[int], int, int]]:
        """(up to BATCH ids, created detail number, requested detail number) in order."""
        for first, count, created, requested in self.audited:
            for start in range(first, first + count, BATCH):
                yield list(range(start, min(start + BATCH, first + count))), created, requested

    def finish(self, *, now: datetime) -> None:
        """The run's audit events, chained after every record is in. On PostgreSQL the
        chain's lock (audit.record's advisory lock, held to the end of the transaction)
        is taken only now: taken at the first batch, it would stop every other writer
        of the trail, so most of the vault, for the whole of a long import."""
        if not self.audited:
            return
        if self.dialect == "postgresql":
            # As audit.record: serialise writers so no other event chains to the same
            # parent.
            self.connection.execute(text("SELECT pg_advisory_xact_lock(7316)"))
        prev_hash = (
            self.connection.execute(
                text("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1")
            ).scalar()
            or audit.GENESIS
        )
        details = list(self.details)
        actor = audit.CLI
        moment = _utc(now)
        for ids, created, requested in self._audited_ids():
            public_ids = {
                cid: public_id
                for cid, public_id in self.connection.execute(
                    select(Candidate.id, Candidate.public_id).where(Candidate.id.in_(ids))
                )
            }
            events = [(audit.CANDIDATE_CREATED, details[created])]
            if requested >= 0:  # as identity.ask_to_confirm records it
                events.append((audit.EMAIL_CHANGE_REQUESTED, details[requested]))
            rows = []
            for cid in ids:
                for action, detail in events:
                    event = (actor.type, actor.id, actor.role, action, public_ids[cid], detail)
                    link = audit.event_hash(self.chain_key, prev_hash, now, *event)
                    rows.append((moment, *event, prev_hash, link))
                    prev_hash = link
            self._rows("audit_event", _AUDIT_COLUMNS, rows)


_TABLES: dict[str, Any] = {
    "candidate": Candidate,
    "candidate_key": CandidateKey,
    "candidate_company": CandidateCompany,
    "education": Education,
    "document": Document,
    "candidate_index": CandidateIndex,
    "consent": Consent,
    "audit_event": AuditEvent,
    "email_change": EmailChange,
    "mail_queue": MailMessage,
}


def analyze_after_load(session: Session, written: int) -> bool:
    """(PostgreSQL) The planner's statistics of the tables a load filled, read afresh
    after its commit when the load is large against what they last counted (or they
    were never read). Returns whether they were.

    The search's plans depend on them: without them the planner guesses how many
    records hold a token, takes a two-word search that 14,755 of 100,000 candidates
    match for 481, and ranks its first page from a bitmap of every match (15 to 18 ms)
    instead of walking the newest records (1.2 ms); over HTTP, 16 and 30 search pages
    a second (1 and 8 clients) became 18 and 42. Autovacuum reads them within minutes
    where it runs; searches made meanwhile, or on a server that runs without it,
    should not pay for a load. SQLite's search is driven by its FTS5 table, which keeps
    its own counts. ANALYZE samples a bounded number of rows: about 2 s at 100,000
    candidates."""
    if session.get_bind().dialect.name != "postgresql" or written <= 0:
        return False
    try:
        # reltuples: the rows the last ANALYZE or VACUUM counted; -1 when none has run.
        counted = session.execute(text(
            "SELECT reltuples FROM pg_class WHERE oid = 'candidate'::regclass")).scalar()
        if counted is not None and counted >= 0 and written < ANALYZE_SHARE * counted:
            return False
        session.execute(text(f"ANALYZE {', '.join(_TABLES)}"))
        session.commit()
    except SQLAlchemyError as exc:
        # The load is committed: a failure here (a lock wait cut short, a lost
        # connection) must not read as a failed load. Autovacuum gets there later.
        session.rollback()
        log.warning("planner statistics not refreshed after a load: %s", type(exc).__name__)
        return False
    return True


# -- workers ---------------------------------------------------------------------------
# Set in this process before the pool forks, so the workers inherit the keys without
# them ever being sent anywhere.
_WORK: dict[str, Any] = {}


def _work(task: Any) -> Any:
    job: Callable[..., Any] = _WORK["job"]
    memo: TokenMemo | None = _WORK.get("memo")
    if memo is None or memo.entries() > MEMO_ENTRIES:
        # The memo grows with the run's vocabulary (every new name, place or CV word):
        # started afresh past MEMO_ENTRIES, so a worker's memory stays flat however many
        # records of however many words a run loads. Common words are back in a batch.
        memo = _WORK["memo"] = TokenMemo()
    return job(_WORK["keys"], task, memo)


def default_workers(keys: VaultKeys) -> int:
    """Worker processes for a run: one per CPU when the KEKs are in this process; none
    (everything here) with a key manager, whose client connection must not be shared
    across a fork."""
    if keys.manager is not None:
        return 0
    return max(1, min(os.cpu_count() or 1, 4))


def run_jobs(
    keys: VaultKeys,
    job: Callable[[VaultKeys, Any, TokenMemo], Any],
    tasks: Iterable[Any],
    *,
    workers: int,
    secret_keys: Sequence[str] = (),
) -> Iterator[Any]:
    """job(keys, task, memo) for every task, results in the order of the tasks; in
    `workers` forked processes (0: here). At most AHEAD tasks per worker are in flight,
    so a stream of a million tasks never piles up in memory. A worker that dies (killed,
    out of memory) raises BrokenProcessPool here, so the caller rolls its run back
    instead of waiting for a result that never comes. A job that signs links reads
    secret_keys with run_secret_keys()."""
    if keys.manager is not None:
        # A key manager's client (an HTTP session with its token, a PKCS#11 session)
        # must not be shared across a fork, whatever number of workers was asked for.
        workers = 0
    _WORK.clear()
    _WORK.update(job=job, keys=keys, secret_keys=tuple(secret_keys))
    try:
        if workers <= 0:
            for task in tasks:
                yield _work(task)
            return
        yield from _in_workers(tasks, workers)
    finally:
        _WORK.clear()


def run_secret_keys() -> tuple[str, ...]:
    """The secret keys of the run (run_jobs) a job runs in: a worker inherits them with
    the KEKs when it is forked; they are never sent to it."""
    return tuple(_WORK["secret_keys"])


def _in_workers(tasks: Iterable[Any], workers: int) -> Iterator[Any]:
    in_flight: deque[Future[Any]] = deque()
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        for task in tasks:
            in_flight.append(pool.submit(_work, task))
            if len(in_flight) >= workers * AHEAD:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
    finally:
        for future in in_flight:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _steady_heap() -> None:
    """Large buffers (a batch of demo people pickles to about 12 MB) straight from the
    kernel and back. glibc raises its mmap threshold each time such a buffer is freed,
    so the next ones come from the heap and leave it fragmented: a 1,000,000 seed-demo
    on PostgreSQL peaked at 273 MiB, 233 MiB with the threshold fixed at 1 MiB (201 MiB
    at 100,000), for about 6% more CPU. Set for this process and the workers it forks
    next (a command's run); nothing where the C library has no mallopt."""
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):
        return


def load(
    session: Session,
    keys: VaultKeys,
    batches: Iterable[list[BuiltRecord]],
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write built batches into the session's transaction (the caller commits or rolls
    back). Returns the number of records written."""
    session.flush()  # what the session holds goes first (the ids below follow it)
    _steady_heap()
    writer = _Writer(session, keys)
    sqlite = writer.dialect == "sqlite"
    if sqlite:
        # A fixed page cache for the run (the indexes and FTS5 touch many pages per
        # batch): bounded, so memory stays flat however many records come.
        before = writer.connection.exec_driver_sql("PRAGMA cache_size").scalar()
        writer.connection.exec_driver_sql(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
    written = 0
    try:
        for batch in batches:
            if not batch:
                continue
            writer.write(batch)
            written += len(batch)
            if progress is not None:
                progress(len(batch))
        writer.finish(now=now)
    finally:
        if sqlite:
            writer.connection.exec_driver_sql(f"PRAGMA cache_size={int(before)}")
    return written
