"""Who a person is, and how that changes.

A person is the set of records sharing a *confirmed* e-mail address (DESIGN). The
address is what the self-service link stands on: a link opens every record of the
address, and links are only ever mailed to it. So an address may change only once its
new owner proves it: the new address is kept sealed in a pending EmailChange, and a
short-lived, single-use link mailed to that address applies it. Until then every
record keeps its old address and grouping.

Personal links carry a generation (services.links); each record holds the generation
its person's links were last issued under, and a link older than the highest one
among the person's records opens nothing. Issuing a new link on request, and any
confirmed change of address, raises it: older links die.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.models import Candidate, EmailChange, new_uid
from vault.services import audit, links
from vault.services.candidates import (
    Correction,
    correct_candidate,
    email_index,
    records_of_person,
)
from vault.services.sealing import record_sealer, records_opened

SELF_SERVICE, ADMIN, IMPORT = "self-service", "admin", "import"


@dataclass(frozen=True)
class ChangeTicket:
    """What the caller mails once it has committed: the confirmation link's token to the
    new address, and (when it differs) a notice to the old one."""

    token: str
    new_email: str
    old_email: str
    public_ids: list[str]

    @property
    def notify_old_address(self) -> bool:
        return self.old_email != self.new_email


# --- personal-link generations ------------------------------------------------------


def link_generation(records: Iterable[Candidate]) -> int:
    return max((r.link_generation for r in records), default=0)


def revoke_links(records: Sequence[Candidate]) -> int:
    """Raise the generation of every record of a person: links issued before stop
    working. Returns the generation new links are issued under."""
    generation = link_generation(records) + 1
    for record in records:
        record.link_generation = generation
    return generation


def person_generation(session: Session, record: Candidate) -> int:
    """The generation a new link to this record's person is issued under."""
    return link_generation(records_of_person(session, record))


# --- e-mail changes -------------------------------------------------------------------


def nonce_hash(nonce: str) -> str:
    """What a pending change stores of its link's nonce (the link itself is never stored)."""
    return hashlib.sha256(nonce.encode()).hexdigest()


def purge_expired_changes(session: Session, *, now: datetime) -> int:
    """Drop pending changes whose link has expired (their sealed address with them)."""
    # "fetch": the session forgets only the rows deleted (RETURNING their ids). The
    # default evaluates the criteria against every object the session holds: in an
    # import's confirmation batch that made each record cost as much as the batch.
    result = session.execute(delete(EmailChange).where(EmailChange.expires_at <= now),
                             execution_options={"synchronize_session": "fetch"})
    return int(getattr(result, "rowcount", 0) or 0)


def request_email_change(session: Session, keys: VaultKeys, record: Candidate, new_email: str,
                         *, now: datetime, lifetime_hours: int, secret_keys: Sequence[str],
                         requested_by: str, actor: audit.Actor) -> ChangeTicket | None:
    """Keep `new_email` pending for the person of `record` and make its confirmation link.

    None when there is nothing to confirm (the same, already confirmed address). No
    record changes here. One change per person is pending at a time: asking again
    makes earlier confirmation links useless. The caller commits, then mails.
    """
    new_email = new_email.strip()
    if record.email_confirmed_at is not None and \
            email_index(keys, new_email) == record.email_index:
        return None
    person = records_of_person(session, record)
    session.execute(delete(EmailChange).where(
        EmailChange.candidate_id.in_([r.id for r in person])),
        execution_options={"synchronize_session": "fetch"})  # as purge_expired_changes
    purge_expired_changes(session, now=now)
    sealer = record_sealer(keys, record)
    nonce = secrets.token_urlsafe(32)
    change = EmailChange(uid=new_uid(), nonce_hash=nonce_hash(nonce), requested_by=requested_by,
                         requested_at=now, expires_at=now + timedelta(hours=lifetime_hours))
    # Sealed with the record's key and bound to this row: no plaintext in the database,
    # and shredded with the record.
    change.new_email = sealer.seal("email_change", "new_email", new_email, change.uid)
    record.email_changes.append(change)
    audit.record(session, actor, audit.EMAIL_CHANGE_REQUESTED, now=now,
                 subject=record.public_id, detail=requested_by)
    session.flush()
    token = links.make_confirmation_token(secret_keys, change.uid, nonce, clock=lambda: now)
    return ChangeTicket(token, new_email, sealer.open("candidate", "email", record.email),
                        [r.public_id for r in person])


def ask_to_confirm(session: Session, keys: VaultKeys, records: Sequence[Candidate], *,
                   now: datetime, lifetime_hours: int, secret_keys: Sequence[str],
                   requested_by: str, actor: audit.Actor) -> list[tuple[Candidate, ChangeTicket]]:
    """A confirmation of each record's own address (imported records waiting to join the
    records of their address), with what request_email_change does for one, but a
    statement per step for all of them: an import confirms a million addresses. Records
    already confirmed have nothing to confirm and get no ticket. The caller commits."""
    waiting = [r for r in records if r.email_confirmed_at is None]
    if not waiting:
        return []
    # An unconfirmed record is a person of its own (records_of_person): its pending
    # change is the only one asking again replaces.
    session.execute(delete(EmailChange).where(
        EmailChange.candidate_id.in_([r.id for r in waiting])),
        execution_options={"synchronize_session": "fetch"})
    purge_expired_changes(session, now=now)
    expires = now + timedelta(hours=lifetime_hours)
    rows, tickets = [], []
    with records_opened(keys, waiting):  # the batch's keys in one call to the KEK backend
        for record in waiting:
            sealer = record_sealer(keys, record)
            address = sealer.open("candidate", "email", record.email)
            nonce, uid = secrets.token_urlsafe(32), new_uid()
            # Sealed with the record's key and bound to its row, as request_email_change.
            rows.append({"uid": uid, "candidate_id": record.id, "nonce_hash": nonce_hash(nonce),
                         "requested_by": requested_by, "requested_at": now,
                         "expires_at": expires,
                         "new_email": sealer.seal("email_change", "new_email", address, uid)})
            token = links.make_confirmation_token(secret_keys, uid, nonce, clock=lambda: now)
            tickets.append((record, ChangeTicket(token, address, address, [record.public_id])))
    session.execute(insert(EmailChange), rows)
    for record in waiting:
        session.expire(record, ["email_changes"])  # the rows went in without the ORM
    audit.record_many(session, actor, audit.EMAIL_CHANGE_REQUESTED,
                      [(r.public_id, requested_by) for r in waiting], now=now)
    return tickets


def unconfirmed_records(session: Session, keys: VaultKeys, address: str) -> list[Candidate]:
    """Records under this address that wait for it to confirm (imports)."""
    return list(session.scalars(select(Candidate).where(
        Candidate.email_index == email_index(keys, address),
        Candidate.email_confirmed_at.is_(None)).order_by(Candidate.id)))


@dataclass(frozen=True)
class PendingChange:
    id: int
    uid: str
    candidate_id: int
    new_email: bytes


def pending_change(session: Session, token: str, *, secret_keys: Sequence[str], now: datetime,
                   max_age_hours: int) -> PendingChange:
    """The change a confirmation link names, or LinkError: tampered, expired, already
    used, replaced by a newer request, or its record erased (the row went with it)."""
    change_uid, nonce = links.read_confirmation_token(secret_keys, token,
                                                      max_age_hours=max_age_hours,
                                                      clock=lambda: now)
    row = session.execute(select(
        EmailChange.id, EmailChange.uid, EmailChange.candidate_id, EmailChange.new_email,
        EmailChange.nonce_hash, EmailChange.expires_at).where(
        EmailChange.uid == change_uid)).one_or_none()
    if row is None or not hmac.compare_digest(row.nonce_hash, nonce_hash(nonce)):
        raise links.LinkError(links.LinkProblem.INVALID)
    if row.expires_at <= now:  # the row's own expiry: a longer max age cannot extend it
        raise links.LinkError(links.LinkProblem.EXPIRED)
    return PendingChange(row.id, row.uid, row.candidate_id, row.new_email)


@dataclass(frozen=True)
class Confirmed:
    anchor: Candidate
    records: list[Candidate]


def confirm_email_change(session: Session, keys: VaultKeys, token: str, *,
                         secret_keys: Sequence[str], now: datetime,
                         max_age_hours: int) -> Confirmed:
    """Apply a pending change: every record of the person takes the new address (its
    e-mail field, blind index, search tokens and card), the records are confirmed, and
    every personal link issued before stops working. The caller commits."""
    pending = pending_change(session, token, secret_keys=secret_keys, now=now,
                             max_age_hours=max_age_hours)
    # Claim the change by deleting its row: only one confirmation can do so, even two
    # at the same moment, so the link works once.
    claimed = session.execute(delete(EmailChange).where(EmailChange.id == pending.id))
    if getattr(claimed, "rowcount", 0) != 1:
        raise links.LinkError(links.LinkProblem.INVALID)
    anchor = session.get(Candidate, pending.candidate_id)
    if anchor is None:
        raise links.LinkError(links.LinkProblem.INVALID)
    session.expire(anchor, ["email_changes"])
    new_email = record_sealer(keys, anchor).open("email_change", "new_email", pending.new_email,
                                                 pending.uid)
    for record in records_of_person(session, anchor):
        correct_candidate(session, keys, record, Correction(email=new_email), now=now,
                          email_confirmed=True)
        record.email_confirmed_at = now
        audit.record(session, audit.CANDIDATE, audit.EMAIL_CONFIRMED, now=now,
                     subject=record.public_id)
    session.flush()
    # The records may now share an address with others: the links of that whole person
    # were issued before this proof, and one of them may be held by whoever asked.
    person = records_of_person(session, anchor)
    revoke_links(person)
    session.flush()
    return Confirmed(anchor, person)
