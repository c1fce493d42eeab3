"""The consent ledger: append-only events; Candidate.pool_consent_until follows it."""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy.orm import Session

from vault.models import Candidate, Consent

APPLICATION = "application"
TALENT_POOL = "talent_pool"
GRANTED, RENEWED, WITHDRAWN, EXPIRED = "granted", "renewed", "withdrawn", "expired"


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months; the 31st of a shorter month becomes its last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def record_consent(session: Session, candidate: Candidate, purpose: str, event: str, *,
                   notice_version: str, source: str, now: datetime,
                   expires_at: datetime | None = None) -> Consent:
    consent = Consent(purpose=purpose, event=event, notice_version=notice_version, source=source,
                      created_at=now, expires_at=expires_at)
    candidate.consents.append(consent)
    if purpose == TALENT_POOL:
        candidate.pool_consent_until = expires_at if event in (GRANTED, RENEWED) else None
    session.flush()
    return consent


def grant_pool_consent(session: Session, candidate: Candidate, *, months: int,
                       notice_version: str, source: str, now: datetime) -> Consent:
    return record_consent(session, candidate, TALENT_POOL, GRANTED,
                          notice_version=notice_version, source=source, now=now,
                          expires_at=add_months(now, months))


def renew_pool_consent(session: Session, candidate: Candidate, *, months: int,
                       notice_version: str, source: str, now: datetime) -> Consent:
    """Renewal extends by the same period, counted from now."""
    return record_consent(session, candidate, TALENT_POOL, RENEWED,
                          notice_version=notice_version, source=source, now=now,
                          expires_at=add_months(now, months))


def withdraw_pool_consent(session: Session, candidate: Candidate, *, notice_version: str,
                          source: str, now: datetime) -> Consent | None:
    """Immediate: the record leaves talent-pool search in this transaction."""
    if not pool_consent_live(candidate, now):
        return None
    return record_consent(session, candidate, TALENT_POOL, WITHDRAWN,
                          notice_version=notice_version, source=source, now=now)


def pool_consent_live(candidate: Candidate, now: datetime) -> bool:
    until = candidate.pool_consent_until
    return until is not None and until > now


def latest(candidate: Candidate, purpose: str) -> Consent | None:
    events = [c for c in candidate.consents if c.purpose == purpose]
    return events[-1] if events else None
