"""The durable mail queue: requests enqueue, a sender delivers, nothing is lost.

Why a queue: sending in the request made a known address answer slower than an
unknown one (the timing told who applied), made an application wait on the mail
server, and lost the mail when the server was down. Now a request only adds a sealed
row in its own transaction (an application and its confirmation are stored together
or not at all) and answers; a sender (`vault send-mail`, the retention job, or the
thread started after a response) delivers.

The sender's protocol, safe with any number of senders on any number of hosts:
1. Claim one due message in a short transaction: `SELECT ... FOR UPDATE SKIP LOCKED`
   on PostgreSQL (a message another sender is claiming is skipped, never waited on),
   the write lock of `BEGIN IMMEDIATE` on SQLite (see vault/database.py). The claim
   is a random token and a lease (MAIL_CLAIM_SECONDS); no lock is held while the mail
   server is spoken to, so a hanging server never blocks a request.
2. Open the message, deliver it with the SMTP timeout, then record the outcome only if
   the claim is still ours: sent (ciphertexts dropped), or a retry later with
   exponential backoff, or, after MAIL_MAX_ATTEMPTS, failed (kept, counted, never
   deleted). A server that is down ends the run: the next messages would only wait
   for the same timeout.
A message can be delivered twice only if a sender dies between delivering and
recording it (at-least-once, as with any mail queue); two live senders never do.

Erasure: mail about a record is bound to it (foreign key, sealed with its data key),
and the outbox file a delivery wrote is named in the row, so discard_mail_of deletes
both without looking anything up in plaintext.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from vault.crypto import DecryptionError, derived_data_key, key_id_of
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.keys import KeysChanged, VaultKeys
from vault.mail import MailError, OutgoingMail, deliver, header_safe, new_outbox_name
from vault.models import Candidate, MailMessage, new_uid
from vault.services import retry
from vault.services.sealing import RecordKeyMissing, Sealer, record_sealer

TABLE = "mail_queue"
QUEUED, SENT, FAILED = "queued", "sent", "failed"
APPLICATION_RECEIVED = "application_received"
PERSONAL_LINK = "personal_link"
CONSENT_REMINDER = "consent_reminder"
EMAIL_CONFIRMATION = "email_confirmation"
EMAIL_CHANGE_NOTICE = "email_notice"
# A request for a new personal link: the address as typed, not yet bound to a record.
LINK_REQUEST = "link_request"
# Mail to staff members: sealed with the system key, like a link request.
STAFF_PASSWORD_LINK = "staff_password"  # noqa: S105 (a mail kind)
STAFF_SECURITY_NOTICE = "staff_notice"
# Purpose of the key (derived from the primary KEK) that seals mail bound to no record.
SYSTEM_KEY_PURPOSE = "mail-queue"

# Finds the record an address belongs to and builds the mail with its new link, or
# None when no record has that address (then nothing is sent: no enumeration).
LinkResolver = Callable[[Session, VaultKeys, str], "tuple[Candidate, OutgoingMail] | None"]


@dataclass
class FlushResult:
    sent: int = 0
    retrying: int = 0  # failed this time, tried again later
    gave_up: int = 0  # failed MAIL_MAX_ATTEMPTS times: kept as failed
    resolved: int = 0  # link requests turned into a mail to a record's address
    unknown: int = 0  # link requests for an address no record has: nothing to send
    server_down: bool = False

    def line(self) -> str:
        text = (f"mail sent: {self.sent}, to retry: {self.retrying}, failed: {self.gave_up}, "
                f"link requests: {self.resolved + self.unknown}")
        return text + (" (mail server unreachable; retried later)" if self.server_down else "")


@dataclass(frozen=True)
class QueueStats:
    """What /metrics and the officer's desk show: nothing about any person."""

    queued: int  # waiting to be sent, retries included
    retrying: int  # of those, already failed at least once
    failed: int  # gave up after MAIL_MAX_ATTEMPTS; needs the operator
    oldest_queued_seconds: float  # age of the oldest waiting message (0 when none)

    @property
    def oldest_queued_minutes(self) -> int:
        return int(self.oldest_queued_seconds // 60)


def _system_sealer(keys: VaultKeys, version: int | None = None) -> Sealer:
    # No public id: such a row belongs to nobody yet; the row's uid still binds it.
    return Sealer(derived_data_key(keys.keyring, SYSTEM_KEY_PURPOSE, version), "")


def _seal(row: MailMessage, sealer: Sealer, mail: OutgoingMail) -> None:
    row.recipient = sealer.seal(TABLE, "recipient", mail.to, row.uid)
    row.subject = sealer.seal(TABLE, "subject", header_safe(mail.subject), row.uid)
    row.body = sealer.seal(TABLE, "body", mail.body, row.uid)
    # The HTML part carries the same personal link as the text: sealed the same way.
    row.html_body = (sealer.seal(TABLE, "html_body", mail.html, row.uid)
                     if mail.html is not None else None)
    row.sender_name = (sealer.seal(TABLE, "sender_name", mail.sender_name, row.uid)
                       if mail.sender_name is not None else None)


def enqueue_for_record(session: Session, keys: VaultKeys, candidate: Candidate,
                       mail: OutgoingMail, *, kind: str, now: datetime) -> MailMessage:
    """Queue a mail about a record, sealed with its data key (the caller commits)."""
    row = MailMessage(uid=new_uid(), candidate_id=candidate.id, kind=kind, status=QUEUED,
                      attempts=0, created_at=now, next_attempt_at=now)
    _seal(row, record_sealer(keys, candidate), mail)
    session.add(row)
    session.flush()
    return row


# What a queued message holds (enqueue_for_records writes them without the ORM).
_QUEUED_COLUMNS = ("uid", "candidate_id", "kind", "status", "attempts", "created_at",
                   "next_attempt_at", "recipient", "subject", "body", "html_body", "sender_name")


def enqueue_for_records(session: Session, keys: VaultKeys,
                        mails: Sequence[tuple[Candidate, OutgoingMail]], *, kind: str,
                        now: datetime) -> int:
    """enqueue_for_record for many records in one INSERT (a batch of an import's
    confirmations); call inside records_opened for the records, so their keys are
    unwrapped in one call. Returns the number queued (the caller commits)."""
    rows = []
    for candidate, mail in mails:
        row = MailMessage(uid=new_uid(), candidate_id=candidate.id, kind=kind, status=QUEUED,
                          attempts=0, created_at=now, next_attempt_at=now)
        _seal(row, record_sealer(keys, candidate), mail)
        rows.append({column: getattr(row, column) for column in _QUEUED_COLUMNS})
    if rows:
        session.execute(insert(MailMessage), rows)
    return len(rows)


def enqueue_for_staff(session: Session, keys: VaultKeys, mail: OutgoingMail, *, kind: str,
                      now: datetime) -> MailMessage:
    """Queue a mail to a staff member (password link, security notice), sealed under the
    key derived from the primary KEK: staff have no record key (the caller commits)."""
    row = MailMessage(uid=new_uid(), candidate_id=None, kind=kind, status=QUEUED,
                      attempts=0, created_at=now, next_attempt_at=now)
    _seal(row, _system_sealer(keys), mail)
    session.add(row)
    session.flush()
    return row


def enqueue_link_request(session: Session, keys: VaultKeys, address: str, *,
                         now: datetime) -> MailMessage:
    """Queue a request for a new personal link (the caller commits).

    The same work for every address: one sealing and one insert. Whether a record has
    this address is found out by the sender, after the answer has gone, so neither the
    answer nor its timing says whether the address is known.
    """
    row = MailMessage(uid=new_uid(), candidate_id=None, kind=LINK_REQUEST, status=QUEUED,
                      attempts=0, created_at=now, next_attempt_at=now)
    row.recipient = _system_sealer(keys).seal(TABLE, "recipient", address, row.uid)
    session.add(row)
    session.flush()
    return row


def discard_mail_of(session: Session, candidate_ids: Iterable[int],
                    outbox_path: Path | None) -> int:
    """Delete every queued or delivered mail of these records and their outbox files.

    For erasure: called before the records are deleted, in the erasure's transaction.
    Files go at once (a plaintext copy must not wait for a commit); a sender that is
    delivering one of these messages right now finds its row gone and deletes the file
    it wrote. Returns the number of messages discarded.
    """
    ids = list(candidate_ids)
    if not ids:
        return 0
    rows = session.execute(select(MailMessage.id, MailMessage.outbox_name).where(
        MailMessage.candidate_id.in_(ids))).all()
    if outbox_path is not None:
        for _id, name in rows:
            if name:
                _remove_outbox_file(outbox_path, name)
    session.execute(delete(MailMessage).where(MailMessage.candidate_id.in_(ids)))
    session.flush()
    return len(rows)


def _remove_outbox_file(outbox_path: Path, name: str) -> None:
    # The name is ours (random hex); refuse anything else rather than follow a path.
    if "/" in name or name.startswith("."):
        return
    (outbox_path / name).unlink(missing_ok=True)
    (outbox_path / f".{name}.tmp").unlink(missing_ok=True)


def stats(session: Session, now: datetime) -> QueueStats:
    queued, retrying, oldest = session.execute(select(
        func.count(), func.count().filter(MailMessage.attempts > 0),
        func.min(MailMessage.created_at)).where(MailMessage.status == QUEUED)).one()
    failed = session.scalar(select(func.count()).where(MailMessage.status == FAILED)) or 0
    if oldest is not None and oldest.tzinfo is None:  # should an aggregate lose the type
        oldest = oldest.replace(tzinfo=UTC)
    age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return QueueStats(int(queued), int(retrying), int(failed), age)


def retry_failed(session: Session, *, now: datetime) -> int:
    """Put messages that gave up back in the queue (after the operator fixed the cause)."""
    result = session.execute(update(MailMessage).where(MailMessage.status == FAILED).values(
        status=QUEUED, attempts=0, next_attempt_at=now, last_error=None))
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def backoff(attempts: int, config: Mapping[str, Any]) -> timedelta:
    return retry.backoff(attempts, config, "MAIL")


OUTBOX = retry.Outbox(MailMessage, "MAIL")
_Claim = retry.Claim


def _claim_next(session: Session, *, now: datetime, config: Mapping[str, Any]) -> _Claim | None:
    def name_outbox_file(row: MailMessage) -> None:
        if config["MAIL_BACKEND"] == "outbox" and row.kind != LINK_REQUEST and not row.outbox_name:
            # Named before the file exists, so erasure can find the file even if this
            # sender dies between writing it and recording the delivery.
            row.outbox_name = new_outbox_name()

    return OUTBOX.claim_next(session, now=now, config=config, prepare=name_outbox_file)


def _ours(claim: _Claim) -> Any:
    return OUTBOX.ours(claim)


def _open(session: Session, keys: VaultKeys, row: MailMessage) -> OutgoingMail:
    if row.candidate_id is not None:
        candidate = session.get(Candidate, row.candidate_id)
        if candidate is None:
            raise RecordKeyMissing
        sealer = record_sealer(keys, candidate)
    else:
        sealer = _system_sealer(keys, key_id_of(row.recipient or b""))
    return OutgoingMail(to=sealer.open(TABLE, "recipient", row.recipient, row.uid),
                        subject=sealer.open(TABLE, "subject", row.subject, row.uid),
                        body=sealer.open(TABLE, "body", row.body, row.uid),
                        html=sealer.open(TABLE, "html_body", row.html_body, row.uid)
                        if row.html_body is not None else None,
                        sender_name=sealer.open(TABLE, "sender_name", row.sender_name, row.uid)
                        if row.sender_name is not None else None)


def _record_failure(session: Session, claim: _Claim, error: str, *, now: datetime,
                    config: Mapping[str, Any], result: FlushResult, final: bool = False) -> None:
    row = OUTBOX.claimed(session, claim)
    if row is None:
        return
    # Kept with its ciphertexts when it gives up: visible, retryable, never lost.
    if OUTBOX.count_failure(row, error[:60], now=now, config=config, final=final):
        result.gave_up += 1
    else:
        result.retrying += 1
    session.commit()


def _record_sent(session: Session, claim: _Claim, outbox_name: str | None, *, now: datetime,
                 config: Mapping[str, Any], result: FlushResult) -> None:
    done = session.execute(update(MailMessage).where(_ours(claim)).values(
        status=SENT, sent_at=now, attempts=MailMessage.attempts + 1, last_error=None,
        recipient=None, subject=None, body=None, html_body=None, sender_name=None,
        claim=None, claimed_until=None))
    session.commit()
    result.sent += 1
    if not done.rowcount and outbox_name:  # type: ignore[attr-defined]
        # The row went while we delivered (the person was erased): the copy goes too.
        _remove_outbox_file(Path(config["MAIL_OUTBOX"]), outbox_name)


def _resolve_link_request(session: Session, keys: VaultKeys, claim: _Claim, row: MailMessage,
                          resolve: LinkResolver | None, *, now: datetime,
                          config: Mapping[str, Any], result: FlushResult) -> None:
    try:
        address = _system_sealer(keys, key_id_of(row.recipient or b"")).open(
            TABLE, "recipient", row.recipient, row.uid)
    except DecryptionError:  # its KEK version was retired: nobody can read it any more
        session.commit()
        _record_failure(session, claim, "DecryptionError", now=now, config=config,
                        result=result, final=True)
        return
    if resolve is None:
        session.commit()
        _record_failure(session, claim, "no link resolver", now=now, config=config,
                        result=result, final=True)
        return
    found = resolve(session, keys, address)
    if found is None:
        result.unknown += 1
    else:
        candidate, mail = found
        enqueue_for_record(session, keys, candidate, mail, kind=PERSONAL_LINK, now=now)
        result.resolved += 1
    # The request becomes the bound mail (or nothing) in one transaction.
    session.execute(delete(MailMessage).where(_ours(claim)))
    session.commit()


def flush_mail_queue(session: Session, keys: VaultKeys, *, now: datetime,
                     config: Mapping[str, Any], resolve_link: LinkResolver | None = None,
                     clock: Callable[[], datetime] | None = None) -> FlushResult:
    """Deliver due messages (at most MAIL_FLUSH_BATCH). Commits: it owns its protocol
    (see the module's docstring); call it with no transaction of the caller's open.
    `now` is when the run starts; `clock` (the app's clock) gives the time of each claim
    and of each outcome (when not given: `now` plus the time elapsed)."""
    tick = retry.run_clock(now, clock)
    result = FlushResult()
    session.commit()
    for _ in range(int(config["MAIL_FLUSH_BATCH"])):
        claim = _claim_next(session, now=tick(), config=config)
        if claim is None:
            break
        row = OUTBOX.claimed(session, claim)
        if row is None:
            continue
        if row.kind == LINK_REQUEST:
            _resolve_link_request(session, keys, claim, row, resolve_link, now=tick(),
                                  config=config, result=result)
            continue
        outbox_name = row.outbox_name
        try:
            mail = _open(session, keys, row)
        except (DecryptionError, RecordKeyMissing) as exc:
            session.commit()
            _record_failure(session, claim, exc.__class__.__name__, now=tick(), config=config,
                            result=result, final=True)
            continue
        except (KeysChanged, KeyManagerUnavailable) as exc:
            # This process's VAULT_KEYRING is behind a rotation, or the key manager does
            # not answer: the mail is intact and goes once the keys are back. Tried again,
            # not given up.
            session.commit()
            _record_failure(session, claim, exc.__class__.__name__, now=tick(), config=config,
                            result=result)
            continue
        # End the read transaction before speaking to the server: on SQLite it holds the
        # write lock, and nobody waits on a mail server.
        session.commit()
        try:
            deliver(mail, config, outbox_name=outbox_name)
        except MailError as exc:
            _record_failure(session, claim, str(exc), now=tick(), config=config, result=result)
            if exc.server_down:
                result.server_down = True
                break
            continue
        _record_sent(session, claim, outbox_name, now=tick(), config=config, result=result)
    return result
