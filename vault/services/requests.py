"""Data-subject requests: every access, export, correction, withdrawal, objection and
erasure is logged with its legal due date (4 weeks by default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.crypto import DecryptionError
from vault.keys import VaultKeys
from vault.models import Candidate, DataRequest, new_uid
from vault.services.sealing import RecordKeyMissing, Sealer, record_sealer

KINDS = ("access", "export", "correct", "withdraw", "object", "erase", "renew")
SELF_SERVICE, ADMIN, CLI = "self-service", "admin", "cli"


def log_request(session: Session, subject_public_id: str, kind: str, *, channel: str,
                now: datetime, due_days: int, fulfilled: bool = False,
                details: str | None = None, sealer: Sealer | None = None) -> DataRequest:
    """Record a request. Free-text details are sealed with the subject's key (they may
    contain personal data), so they are shredded with the person."""
    if kind not in KINDS:
        raise ValueError(f"unknown request kind {kind!r}")
    # The uid is given here, not left to the column default at flush: the details are
    # sealed with it in their associated data, and open_details reads it back.
    request = DataRequest(uid=new_uid(), subject_public_id=subject_public_id, kind=kind,
                          channel=channel, received_at=now, due_at=now + timedelta(days=due_days),
                          status="fulfilled" if fulfilled else "open",
                          fulfilled_at=now if fulfilled else None)
    session.add(request)
    if details:
        if sealer is None:
            raise ValueError("details need the subject's sealer")
        request.details = sealer.seal("data_request", "details", details, request.uid)
    session.flush()
    return request


def fulfil(request: DataRequest, *, now: datetime, status: str = "fulfilled") -> None:
    request.status = status
    request.fulfilled_at = now


def open_details(sealer: Sealer, request: DataRequest) -> str:
    return sealer.open("data_request", "details", request.details, request.uid)


def reseal_unbound_details(session: Session, keys: VaultKeys) -> int:
    """Re-seal details written before log_request gave the request its uid first.

    Those were sealed with no uid in their associated data (the default uid came only at
    flush), so they open under the column's bare context and never under their own.
    Sealing them again under the uid binds each to its row as every other field is. Run
    by `vault init`; the number of requests re-sealed. A value that opens under neither
    context is left as it is for `vault check` to report."""
    count = 0
    rows = session.execute(
        select(DataRequest, Candidate).join(
            Candidate, Candidate.public_id == DataRequest.subject_public_id)
        .where(DataRequest.details.is_not(None)))
    for request, candidate in rows:
        try:
            sealer = record_sealer(keys, candidate)
        except (DecryptionError, RecordKeyMissing):
            continue  # a shredded or unusable key: nothing to open, check reports it
        try:
            open_details(sealer, request)
            continue  # already bound to its uid
        except DecryptionError:
            pass
        try:
            details = sealer.open("data_request", "details", request.details)
        except DecryptionError:
            continue
        request.details = sealer.seal("data_request", "details", details, request.uid)
        count += 1
    session.flush()
    return count
