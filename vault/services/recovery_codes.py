"""Recovery codes of the second factor: ten single-use codes, shown once, stored
salted and hashed (ASVS 2.6.1-2.6.3). 50 random bits each, so a salted SHA-256 is
enough; nobody can guess one in the few tries the login throttle leaves."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from vault.models import RecoveryCode, User

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud, typed from paper


def _normal(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{_normal(code)}".encode()).hexdigest()


def generate(session: Session, user: User) -> list[str]:
    """Ten new codes for the user (every older one stops working); show them once."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(COUNT):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
        salt = secrets.token_hex(16)
        session.add(RecoveryCode(user_id=user.id, salt=salt, code_hash=_hash(salt, raw)))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.flush()
    return codes


def use(session: Session, user: User, code: str, *, now: datetime) -> bool:
    """True when the code is one of the user's unused codes; it is then used up."""
    if len(_normal(code)) != 10:
        return False
    matched = None
    for row in session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))):
        if hmac.compare_digest(row.code_hash, _hash(row.salt, code)) and matched is None:
            matched = row
    if matched is None:
        return False
    # Used up by a conditional UPDATE, not by setting the attribute: two requests racing
    # with the same code both find it unused above, and only the one whose UPDATE
    # changes the row may log in.
    used = session.execute(update(RecoveryCode).where(
        RecoveryCode.id == matched.id, RecoveryCode.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return False
    set_committed_value(matched, "used_at", now)
    return True


def remaining(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0
