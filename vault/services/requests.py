"""Data-subject requests: every access, export, correction, withdrawal, objection and
erasure is logged with its legal due date (4 weeks by default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from vault.models import DataRequest
from vault.services.sealing import Sealer

KINDS = ("access", "export", "correct", "withdraw", "object", "erase", "renew")
SELF_SERVICE, ADMIN, CLI = "self-service", "admin", "cli"


def log_request(session: Session, subject_public_id: str, kind: str, *, channel: str,
                now: datetime, due_days: int, fulfilled: bool = False,
                details: str | None = None, sealer: Sealer | None = None) -> DataRequest:
    """Record a request. Free-text details are sealed with the subject's key (they may
    contain personal data), so they are shredded with the person."""
    if kind not in KINDS:
        raise ValueError(f"unknown request kind {kind!r}")
    request = DataRequest(subject_public_id=subject_public_id, kind=kind, channel=channel,
                          received_at=now, due_at=now + timedelta(days=due_days),
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
