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
    Index,
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


def due_index(table: str) -> Index:
    """An outbox's (mail_queue, webhook_delivery) rows in the order a sender claims the
    queued ones (vault.services.retry.Outbox.next_due): the first due row is read off
    the index, however many are queued. Status first, so the claim's equality on it
    leaves the index in (next_attempt_at, id) order on every database."""
    return Index(f"ix_{table}_due", "status", "next_attempt_at", "id")


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
    # permanent | fixed_term | freelance | internship | student, or "" (not stated).
    contract_type: Mapped[str] = mapped_column(String(20), default="", server_default="")
    hours_per_week: Mapped[int | None] = mapped_column(Integer)
    # The day shown as "posted on": a day, not a moment (set when the vacancy opens;
    # the migration fills it in for older vacancies). Nullable in the schema only
    # because SQLite cannot make an added column NOT NULL without rebuilding the table,
    # which the candidate rows' foreign keys forbid.
    posted_on: Mapped[date | None] = mapped_column(Date, default=lambda: utcnow().date())
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
    # A person is the set of records sharing a *confirmed* address (DESIGN). Set when the
    # record is created from what the person typed about themselves (an application),
    # or when a link mailed to the address was opened; NULL for an imported record until
    # its address confirms: such a record joins nobody's self-service view.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Personal links carry the generation they were issued under; a link older than the
    # highest generation among the person's records is revoked (services.identity).
    link_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Derived from the consent ledger (kept in step by services.consent), so search can
    # filter on live talent-pool consent in SQL: NULL when there is none.
    pool_consent_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # nl | fr | en: the language the person applied in, so every mail reaches them in it.
    # Not personal data (three possible values), so kept in the clear.
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")
    legal_hold_reason: Mapped[bytes | None] = mapped_column(Sealed)

    full_name: Mapped[bytes] = mapped_column(Sealed)
    email: Mapped[bytes] = mapped_column(Sealed)
    phone: Mapped[bytes | None] = mapped_column(Sealed)
    position: Mapped[bytes | None] = mapped_column(Sealed)
    age: Mapped[bytes | None] = mapped_column(Sealed)
    gender: Mapped[bytes | None] = mapped_column(Sealed)
    interests: Mapped[bytes | None] = mapped_column(Sealed)

    vacancy: Mapped[Vacancy | None] = relationship()
    # A spontaneous application's companies (an application to a vacancy has its
    # vacancy's); not personal data, so plaintext and queryable by the access rule.
    named_companies: Mapped[list[CandidateCompany]] = relationship(
        order_by="CandidateCompany.company", cascade="all, delete-orphan",
        passive_deletes=True)
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
    email_changes: Mapped[list[EmailChange]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)

    @property
    def companies(self) -> tuple[str, ...]:
        """The companies this application is for: its vacancy's, or those a spontaneous
        application names (empty for a record that names none: import, demo, older)."""
        if self.vacancy is not None:
            return (self.vacancy.company,)
        return tuple(c.company for c in self.named_companies)


class CandidateCompany(db.Model):
    """A company a spontaneous application is for (one row per company named)."""

    __tablename__ = "candidate_company"

    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True)
    company: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


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


class KeyringState(db.Model):
    """One row: the keyring's generation, bumped by every KEK rotation and retirement,
    and the KEK versions retired. Workers compare the generation with the one they
    loaded and reload their keyring when it moved, so a key change reaches every
    worker on every host without a restart; a version listed as retired is never used
    again even by a worker whose keyring (VAULT_KEYRING) still holds it."""

    __tablename__ = "keyring_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    # Comma-separated KEK versions; a few integers, read on every generation change.
    retired: Mapped[str] = mapped_column(String(400), default="")


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
    # Which analysis the tokens come from (services.indexing.INDEX_VERSION); rows
    # written before prefix tokens are 1, and `vault check` names them until reindexed.
    analysis: Mapped[int] = mapped_column(Integer, server_default="1")


class EmailChange(db.Model):
    """A new e-mail address waiting for its owner to confirm it by the link mailed to it.

    The address is sealed with the record's data key (shredded with the person); the
    link carries a random nonce whose SHA-256 alone is stored, and the row is deleted
    when the link is used, so it works once. Until then every record keeps its old
    address and grouping.
    """

    __tablename__ = "email_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True, default=new_uid)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    new_email: Mapped[bytes] = mapped_column(Sealed)
    nonce_hash: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(20))  # self-service | admin | import
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


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
    # Shown to the privacy officer (audit trail, notes); candidates see role and company.
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP (RFC 6238): the shared secret sealed under a key derived from the KEK (see
    # vault/services/totp.py); enabled once a first code confirmed the enrolment. The
    # last accepted time step refuses a code used twice.
    totp_secret: Mapped[bytes | None] = mapped_column(Sealed)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # A passkey alone logs this user in (no password first), by their own choice.
    passwordless: Mapped[bool] = mapped_column(Boolean, default=False)

    # The raw token of the server-side session this object was loaded for (never stored):
    # Flask-Login keeps get_id() in the cookie, so the cookie names one session, not a user.
    session_key = None  # set per instance; not a column

    def get_id(self) -> str:
        return str(self.session_key or "")

    @property
    def label(self) -> str:
        """How the officer sees this account: the name, else the e-mail address."""
        return self.display_name or self.email

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class StaffSession(db.Model):
    """One logged-in browser of a staff member, checked on every request.

    The cookie carries a random token; only its SHA-256 is stored, so a database copy
    logs nobody in. Idle and absolute limits are enforced from these times, not from the
    cookie; ending a session (logout, password change, disabling) is setting ended_at.
    """

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Firefox on Linux": enough to recognise one's own browsers, nothing more.
    user_agent: Mapped[str] = mapped_column(String(80), default="")
    # password | totp | recovery | passkey: how the last factor was proved
    factor: Mapped[str] = mapped_column(String(12), default="password")
    # When the user last proved who they are (login or re-authentication).
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffToken(db.Model):
    """A single-use password link: reset (asked by the user) or set-up (new account).
    Only the token's SHA-256 is stored; a newer link of the same user revokes it."""

    __tablename__ = "staff_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(8))  # reset | setup
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """A single-use recovery code of the second factor, stored salted and hashed."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebAuthnCredential(db.Model):
    """A passkey (WebAuthn credential) of a staff member: public key and signature counter."""

    __tablename__ = "webauthn_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(db.Model):
    """A failed login, keyed by keyed hashes of the typed account and of the client:
    throttling counts them per pair (hard) and per account (soft). No address stored."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(40), index=True)
    client_key: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


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


class PendingScrub(db.Model):
    """An erasure whose deleted bytes may still sit in the database files (a reader held
    SQLite's write-ahead log). The retention job retries; `vault check` reports it."""

    __tablename__ = "pending_scrub"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


class MailMessage(db.Model):
    """The durable mail queue: a request only adds a row here, in the same transaction as
    the data that caused the mail; `vault send-mail`, the retention job or the thread
    started after a response delivers it.

    No plaintext: recipient, subject and body are sealed. Mail about a record is bound to
    it (sealed with its data key, the row deleted with it), so erasure finds it without
    any plaintext lookup and shredding the key kills what is still queued. A request for
    a new personal link is not yet bound to anyone (the address is looked up by the
    sender, not by the request): it is sealed under a key derived from the primary KEK.
    After delivery the ciphertexts are dropped; the row stays, with the outbox file's
    name when the outbox backend wrote one, so that erasure can delete that file too.
    """

    __tablename__ = "mail_queue"
    # The sender's claim takes the first due row in (next_attempt_at, id) order: without
    # this index it sorted every queued row for each message (17 ms a claim with 20,000
    # queued on PostgreSQL, about a second with an import's million).
    __table_args__ = (due_index("mail_queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random: part of each ciphertext's associated data (a sealed value moved to another
    # row fails to open).
    uid: Mapped[str] = mapped_column(String(16), unique=True, default=new_uid)
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True)
    # application_received | personal_link | consent_reminder | link_request
    kind: Mapped[str] = mapped_column(String(24))
    # queued | sent | failed (failed: MAIL_MAX_ATTEMPTS used up; kept, never deleted)
    status: Mapped[str] = mapped_column(String(8), default="queued")  # due_index
    recipient: Mapped[bytes | None] = mapped_column(Sealed)
    subject: Mapped[bytes | None] = mapped_column(Sealed)
    body: Mapped[bytes | None] = mapped_column(Sealed)
    # The HTML alternative of the body and the From display name ("Ingenium
    # Recruitment"), sealed like the body: the HTML holds the personal link.
    html_body: Mapped[bytes | None] = mapped_column(Sealed)
    sender_name: Mapped[bytes | None] = mapped_column(Sealed)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # due_index
    # A sender's lease: while it runs no other sender takes the message.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The error's class only: an SMTP reply can quote the address.
    last_error: Mapped[str | None] = mapped_column(String(60))
    # Random name of the .eml file in the outbox (never derived from the address).
    outbox_name: Mapped[str | None] = mapped_column(String(40))


class HeldUpload(db.Model):
    """A CV held between two tries of the application form (vault.services.held_uploads).

    Sealed under a key split between the applicant's session cookie and the keyring
    (vault.crypto.split_key): this row alone opens nothing. The lookup key is the SHA-256
    of a random token the form carries; the row is deleted when the application is sent,
    when the applicant removes the CV, and by the retention job once it expires."""

    __tablename__ = "held_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[bytes] = mapped_column(Sealed)
    details: Mapped[bytes] = mapped_column(Sealed)  # media type, extension, text
    content: Mapped[bytes] = mapped_column(Sealed)
    has_text: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiClient(db.Model):
    """A system that calls /api/v1 (a job board, an HR system), created by the privacy
    officer (vault.services.api_clients).

    The bearer token is `vlt_<key_id>_<secret>`: key_id finds the row (public, indexed),
    the secret is 256 random bits of which only a keyed hash is stored (HMAC-SHA256
    under a key derived from the KEK, prefixed by that KEK version), so a database copy
    neither holds a usable token nor lets anyone with write access mint one."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # One of the group's companies: candidates:read sees only its hired candidates.
    company: Mapped[str] = mapped_column(String(40))
    scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated scope names
    key_id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    secret_hash: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class ApiIdempotency(db.Model):
    """The first answer to an API POST with an Idempotency-Key, so that a retry of the
    same request gets the same answer instead of making a second application.

    No personal data: the key is stored as its SHA-256, the request as an HMAC-SHA256
    (under a key derived from the KEK, prefixed by that version) over its fields and the
    CV's digest, and the answer holds the public id and times only."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("client_id", "key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(80))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebhookEndpoint(db.Model):
    """Where an API client hears of erasures (vault.services.webhooks): one per client.

    The signing secret is sealed under a key derived from the primary KEK, not hashed:
    the sender must compute the HMAC with it. It is shown once, when it is set."""

    __tablename__ = "webhook_endpoint"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True)
    # https only (checked at entry); no personal data.
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[bytes | None] = mapped_column(Sealed)
    secret_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """The webhook outbox: one erasure notice for one client, added in the erasure's own
    transaction (an erasure and its notices are stored together or not at all) and
    posted by `vault send-webhooks`. The payload holds a public id and a time only."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("client_id", "event_id"), due_index("webhook_delivery"))

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    # The same for every client and every replay of the same erasure: receivers
    # de-duplicate on it.
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    # queued | delivered | failed (attempts used up) | cancelled (client revoked)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # due_index
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # due_index
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    # What went wrong, in our own words (an error class or "HTTP 500"): never the
    # receiver's response body.
    last_error: Mapped[str | None] = mapped_column(String(80))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
