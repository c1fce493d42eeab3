"""Who needs a second factor, who has one, and the officer's reset of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from vault.models import RecoveryCode, User, WebAuthnCredential
from vault.services import audit, staff_sessions


def required(user: User, config: Mapping[str, Any]) -> bool:
    """The privacy officer always (every CV is open to them); recruiters unless
    REQUIRE_2FA is off."""
    return user.role == "admin" or bool(config["REQUIRE_2FA"])


def passkey_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(WebAuthnCredential).where(
        WebAuthnCredential.user_id == user_id)) or 0


def has_totp(user: User) -> bool:
    return user.totp_enabled_at is not None


def enrolled(session: Session, user: User) -> bool:
    return has_totp(user) or passkey_count(session, user.id) > 0


def reset(session: Session, user: User, *, now: datetime, actor: audit.Actor) -> None:
    """Remove every second factor of the user (a lost phone); their sessions end, and at
    the next login they enrol again. The caller mails the user."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.passwordless = False
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id))
    staff_sessions.end_all(session, user.id, now=now)
    audit.record(session, actor, audit.SECOND_FACTOR_RESET, now=now, detail=f"user={user.id}")
