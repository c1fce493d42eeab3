"""Per-account throttling of failed logins, counted from the audit trail.

Failures are keyed by a keyed hash of the e-mail typed, for known and unknown addresses
alike: a locked-out answer then says nothing about whether the account exists, and the
audit trail holds no typed address. Counting in the database (not in process memory)
holds across workers and restarts and follows the injectable clock.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vault.models import AuditEvent
from vault.services import audit


def account_key(secret_key: str, email: str) -> str:
    digest = hmac.new(secret_key.encode(), email.strip().lower().encode(), hashlib.sha256)
    return "acct:" + digest.hexdigest()[:32]


def recent_failures(session: Session, key: str, *, now: datetime, window: timedelta) -> int:
    """Failures for this account within the window and since its last successful login."""
    since = now - window
    last_success = session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            AuditEvent.action == audit.LOGIN_SUCCEEDED, AuditEvent.detail == key,
            AuditEvent.created_at > since))
    if last_success is not None:
        since = last_success
    return session.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == audit.LOGIN_FAILED, AuditEvent.detail == key,
            AuditEvent.created_at > since)) or 0


def is_locked(session: Session, key: str, *, now: datetime, max_failures: int,
              window: timedelta) -> bool:
    return recent_failures(session, key, now=now, window=window) >= max_failures
