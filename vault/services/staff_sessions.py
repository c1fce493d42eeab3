"""Server-side staff sessions: started at login, checked on every request, ended at will.

The browser holds a random token; the database holds its SHA-256 with the session's
times (ASVS 3.2, 3.3). A session ends when it has been idle too long, when it is older
than the absolute lifetime, at logout, at a password change (every other session), when
the user logs out everywhere, and when the account is disabled or its role changes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vault.models import StaffSession, User

# A session's last-seen time is written at most this often: enough precision for an
# idle limit counted in minutes, without a database write on every request.
TOUCH_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def from_config(cls, config: object) -> Limits:
        get = config.__getitem__  # type: ignore[attr-defined]
        return cls(idle=timedelta(minutes=float(get("SESSION_IDLE_MINUTES"))),
                   absolute=timedelta(hours=float(get("SESSION_ABSOLUTE_HOURS"))))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def summarise_user_agent(header: str | None) -> str:
    """"Firefox on Linux": a person recognises their browser; nothing finer is kept."""
    text = header or ""
    browser = next((name for pattern, name in (
        (r"Edg/", "Edge"), (r"OPR/", "Opera"), (r"Firefox/", "Firefox"),
        (r"Chrom(e|ium)/", "Chrome"), (r"Safari/", "Safari")) if re.search(pattern, text)),
        "")
    system = next((name for pattern, name in (
        (r"Android", "Android"), (r"iPhone|iPad", "iOS"), (r"Windows", "Windows"),
        (r"Mac OS X|Macintosh", "macOS"), (r"Linux", "Linux")) if re.search(pattern, text)),
        "")
    if browser and system:
        return f"{browser} / {system}"
    return browser or system or text[:40]


def start(session: Session, user: User, *, now: datetime, user_agent: str | None,
          factor: str) -> str:
    """A new session for the user; returns the token for the cookie (shown once)."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(user_id=user.id, token_hash=token_hash(token), created_at=now,
                             last_seen_at=now, verified_at=now, factor=factor,
                             user_agent=summarise_user_agent(user_agent)))
    session.flush()
    return token


def expires_at(record: StaffSession, limits: Limits) -> datetime:
    """When this session ends unless used again: the earlier of both limits."""
    return min(record.last_seen_at + limits.idle, record.created_at + limits.absolute)


def is_live(record: StaffSession, *, now: datetime, limits: Limits) -> bool:
    return record.ended_at is None and now < expires_at(record, limits)


def load(session: Session, token: str, *, now: datetime,
         limits: Limits) -> tuple[StaffSession, User] | None:
    """The live session this token names, and its user; touches its last-seen time.

    A session found expired is ended here, so an old cookie stays worthless even if the
    limits are raised later.
    """
    if not token:
        return None
    record = session.scalar(select(StaffSession).where(
        StaffSession.token_hash == token_hash(token)))
    if record is None or record.ended_at is not None:
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.active or not is_live(record, now=now, limits=limits):
        record.ended_at = now
        session.commit()
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        session.commit()
    return record, user


def end(session: Session, record: StaffSession, *, now: datetime) -> None:
    if record.ended_at is None:
        record.ended_at = now


def end_all(session: Session, user_id: int, *, now: datetime,
            keep: StaffSession | None = None) -> int:
    """End every session of the user (but `keep`); the number ended."""
    query = update(StaffSession).where(StaffSession.user_id == user_id,
                                       StaffSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(StaffSession.id != keep.id)
    result = session.execute(query.values(ended_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(session: Session, user_id: int, *, now: datetime,
                  limits: Limits) -> list[StaffSession]:
    """The user's sessions still running, newest use first."""
    records = session.scalars(select(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.ended_at.is_(None)).order_by(
        StaffSession.last_seen_at.desc())).all()
    return [r for r in records if is_live(r, now=now, limits=limits)]
