"""Single-use password links for staff: a reset (asked for by the user, valid 30
minutes) and a set-up link (an account the officer created, which nobody else ever
knew the password of). Only the token's SHA-256 is stored; using a link, or sending a
newer one, revokes it (ASVS 2.5.1, 2.5.2, 2.5.4)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vault.models import StaffToken, User

RESET, SETUP = "reset", "setup"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, user: User, purpose: str, *, now: datetime,
          lifetime: timedelta) -> str:
    """A new link token for the user; every older unused one stops working."""
    session.execute(update(StaffToken).where(
        StaffToken.user_id == user.id, StaffToken.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    session.add(StaffToken(user_id=user.id, purpose=purpose, token_hash=_hash(token),
                           created_at=now, expires_at=now + lifetime))
    session.flush()
    return token


def find_valid(session: Session, token: str, *, now: datetime) -> StaffToken | None:
    """The unused, unexpired link this token names (of an enabled account), or None."""
    if not token or len(token) > 100:
        return None
    record = session.scalar(select(StaffToken).where(StaffToken.token_hash == _hash(token)))
    if record is None or record.used_at is not None or now >= record.expires_at:
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    return record


def mark_used(record: StaffToken, *, now: datetime) -> None:
    record.used_at = now
