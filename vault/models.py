"""SQLAlchemy 2 typed models.

Every column that holds an applicant's personal data is a LargeBinary sealed by
vault.crypto with that person's data key; its name says what it holds, its
bytes say nothing. Columns in plaintext hold only what is not personal data:
random public ids, statuses, timestamps, blind-index tokens, staff accounts.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vault.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    # 128 random bits: public ids appear in URLs and the erasure ledger, so they must
    # not be guessable and must say nothing about the person. Never with a leading "-",
    # which a command line would read as an option (`vault erase -abc…`).
    while True:
        public_id = secrets.token_urlsafe(16)
        if not public_id.startswith("-"):
            return public_id


def new_uid() -> str:
    return secrets.token_hex(8)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite has no time zones), always returned aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not accepted; use UTC-aware ones")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


Sealed = LargeBinary


class Vacancy(db.Model):
    __tablename__ = "vacancy"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    company: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class Candidate(db.Model):
    """One record: one application (to a vacancy or spontaneous) or one imported profile.

    A person who applies twice has two records, linked by email_index (a keyed,
    untruncated blind index of the address), never merged: an application must
    not change what someone else typed under the same address.
    """

    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # apply | spontaneous | import | demo
    source: Mapped[str] = mapped_column(String(20), default="apply")
    vacancy_id: Mapped[int | None] = mapped_column(ForeignKey("vacancy.id"), index=True)
    # new | reviewing | rejected | hired: set by a person, never by the system.
    status: Mapped[str] = mapped_column(String(12), default="new")
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    application_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_index: Mapped[str] = mapped_column(String(64), index=True)
    # Derived from the consent ledger (kept in step by services.consent), so search can
    # filter on live talent-pool consent in SQL: NULL when there is none.
    pool_consent_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_hold_reason: Mapped[bytes | None] = mapped_column(Sealed)

    full_name: Mapped[bytes] = mapped_column(Sealed)
    email: Mapped[bytes] = mapped_column(Sealed)
    phone: Mapped[bytes | None] = mapped_column(Sealed)
    position: Mapped[bytes | None] = mapped_column(Sealed)
    age: Mapped[bytes | None] = mapped_column(Sealed)
    gender: Mapped[bytes | None] = mapped_column(Sealed)
    interests: Mapped[bytes | None] = mapped_column(Sealed)

    vacancy: Mapped[Vacancy | None] = relationship()
    key: Mapped[CandidateKey | None] = relationship(
        back_populates="candidate", cascade="all, delete-orphan", passive_deletes=True)
    education: Mapped[list[Education]] = relationship(
        order_by="Education.position", cascade="all, delete-orphan", passive_deletes=True)
    documents: Mapped[list[Document]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)
    consents: Mapped[list[Consent]] = relationship(
        order_by="Consent.id", cascade="all, delete-orphan", passive_deletes=True)
    notes: Mapped[list[Note]] = relationship(
        order_by="Note.id", cascade="all, delete-orphan", passive_deletes=True)
    index_row: Mapped[CandidateIndex | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)


class CandidateKey(db.Model):
    """The person's data key, wrapped by a KEK version. Deleting this row shreds the person."""

    __tablename__ = "candidate_key"

    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True)
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rewrapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    candidate: Mapped[Candidate] = relationship(back_populates="key")


class Education(db.Model):
    __tablename__ = "education"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), default=new_uid)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    degree: Mapped[bytes] = mapped_column(Sealed)
    field: Mapped[bytes] = mapped_column(Sealed)
    institution: Mapped[bytes] = mapped_column(Sealed)
    year: Mapped[bytes | None] = mapped_column(Sealed)


class Document(db.Model):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), default=new_uid)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="cv")
    # The name the app gives the file (uid + extension); the original name is sealed.
    stored_name: Mapped[str] = mapped_column(String(40))
    filename: Mapped[bytes] = mapped_column(Sealed)
    media_type: Mapped[bytes] = mapped_column(Sealed)
    content: Mapped[bytes] = mapped_column(Sealed)
    text: Mapped[bytes] = mapped_column(Sealed)
    has_text: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CandidateIndex(db.Model):
    """What search reads of one record: its blind-index tokens, space-separated
    (searched through FTS5 or GIN), and its search card, sealed with the record's key:
    the text the tokens were made from, so a result line and its collision check open
    one value instead of every field (see services.indexing)."""

    __tablename__ = "candidate_index"

    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True)
    tokens: Mapped[str] = mapped_column(Text, default="")
    card: Mapped[bytes] = mapped_column(Sealed)


class Consent(db.Model):
    """Append-only consent ledger: granted, renewed, withdrawn, expired."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # application | talent_pool
    event: Mapped[str] = mapped_column(String(12))  # granted | renewed | withdrawn | expired
    notice_version: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Note(db.Model):
    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), default=new_uid)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The company whose staff wrote it, and so may read it (vault.services.access);
    # None for the privacy officer's own notes, read by the officer (and the candidate).
    company: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[bytes] = mapped_column(Sealed)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class User(UserMixin, db.Model):
    """Staff accounts (recruiters and the privacy officer); not applicants."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(12))  # recruiter | admin
    company: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changing it invalidates every session of the user (logout, disable, password change).
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def get_id(self) -> str:
        # The session holds the rotating session token, never the row id: rotating the
        # token (logout, disable, password change) makes every old cookie worthless.
        return self.session_token

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class DataRequest(db.Model):
    """A data-subject request and its legal deadline. Survives the subject's erasure."""

    __tablename__ = "data_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), default=new_uid)
    subject_public_id: Mapped[str] = mapped_column(String(32), index=True)
    # access | export | correct | withdraw | object | erase | renew
    kind: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(20))  # self-service | admin | cli
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | fulfilled | rejected
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[bytes | None] = mapped_column(Sealed)  # sealed with the subject's key


class AuditEvent(db.Model):
    """Append-only, hash-chained; holds no personal data (ids, roles, actions only)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(12))  # user | candidate | system | cli
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str | None] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject_public_id: Mapped[str | None] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(String(200), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ErasureRecord(db.Model):
    """In-database copy of the erasure ledger (the authoritative one lives outside it)."""

    __tablename__ = "erasure_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(40))


class RetentionNotice(db.Model):
    """A reminder sent before talent-pool consent expires; the unique key makes it once-only."""

    __tablename__ = "retention_notice"
    __table_args__ = (UniqueConstraint("candidate_id", "kind", "consent_expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    consent_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApplicationStatistic(db.Model):
    """What reporting keeps after a record is shredded: nothing that identifies a person."""

    __tablename__ = "application_statistic"

    id: Mapped[int] = mapped_column(primary_key=True)
    vacancy_id: Mapped[int | None] = mapped_column(Integer)
    company: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    applied_on: Mapped[date] = mapped_column(Date)
    erased_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(40))
