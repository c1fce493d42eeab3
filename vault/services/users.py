"""Staff accounts: create, disable, change role; every change audited."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vault.auth.passwords import PasswordRejected, hash_password
from vault.models import User
from vault.services import audit

ROLES = ("recruiter", "admin")


class UserError(ValueError):
    """A clear, user-facing reason why an account change was refused."""


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise UserError("That is not a valid e-mail address.") from None


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(session: Session, *, email: str, password: str, role: str, company: str,
                companies: Sequence[str], now: datetime, actor: audit.Actor) -> User:
    address = normalise_email(email)
    if role not in ROLES:
        raise UserError(f"The role must be one of: {', '.join(ROLES)}.")
    if company not in companies:
        raise UserError(f"The company must be one of: {', '.join(companies)}.")
    if find_by_email(session, address) is not None:
        raise UserError("An account with that e-mail address already exists.")
    try:
        password_hash = hash_password(password)
    except PasswordRejected as exc:
        raise UserError(str(exc)) from None
    user = User(email=address, password_hash=password_hash, role=role, company=company,
                active=True, created_at=now, session_token=secrets.token_hex(16))
    session.add(user)
    session.flush()
    audit.record(session, actor, audit.USER_CREATED, now=now,
                 detail=f"user={user.id} role={role} company={company}")
    return user


def end_sessions(user: User) -> None:
    """A new session token makes every cookie issued before it worthless."""
    user.session_token = secrets.token_hex(16)


def set_active(session: Session, user: User, active: bool, *, now: datetime,
               actor: audit.Actor) -> None:
    if actor.id == user.id and not active:
        raise UserError("You cannot disable your own account.")
    user.active = active
    end_sessions(user)
    audit.record(session, actor, audit.USER_CHANGED, now=now,
                 detail=f"user={user.id} active={active}")


def set_role(session: Session, user: User, role: str, *, now: datetime,
             actor: audit.Actor) -> None:
    if role not in ROLES:
        raise UserError(f"The role must be one of: {', '.join(ROLES)}.")
    if actor.id == user.id and role != user.role:
        # Keeps the last privacy officer from locking everyone out of the desk by mistake.
        raise UserError("You cannot change your own role.")
    user.role = role
    end_sessions(user)
    audit.record(session, actor, audit.USER_CHANGED, now=now, detail=f"user={user.id} role={role}")


def set_password(session: Session, user: User, password: str, *, now: datetime,
                 actor: audit.Actor) -> None:
    try:
        user.password_hash = hash_password(password)
    except PasswordRejected as exc:
        raise UserError(str(exc)) from None
    end_sessions(user)
    audit.record(session, actor, audit.USER_CHANGED, now=now, detail=f"user={user.id} password")


def staff_actor(user: User) -> audit.Actor:
    return audit.Actor("user", user.id, user.role)
