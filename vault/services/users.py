"""Staff accounts: create, disable, change role, passwords; every change audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vault.auth.passwords import (
    PasswordRejected,
    context_words,
    hash_password,
    hash_unusable,
    verify_password,
)
from vault.models import StaffSession, User
from vault.services import audit, staff_sessions

ROLES = ("recruiter", "admin")
MAX_NAME = 120


class UserError(ValueError):
    """A clear, user-facing reason why an account change was refused."""


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise UserError(_("That is not a valid e-mail address.")) from None


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def password_context(user: User) -> list[str]:
    """What a password of this account must not be built from."""
    return context_words(user.email, user.company, user.display_name)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise UserError(_("The name must have at most %(n)d characters.", n=MAX_NAME))
    return name


def create_user(session: Session, *, email: str, password: str | None, role: str,
                company: str, companies: Sequence[str], now: datetime, actor: audit.Actor,
                display_name: str = "") -> User:
    """A new account. Without a password it cannot log in until its owner sets one
    through the set-up link (see vault/services/password_links.py)."""
    address = normalise_email(email)
    if role not in ROLES:
        raise UserError(_("The role must be one of: %(roles)s.", roles=", ".join(ROLES)))
    if company not in companies:
        raise UserError(_("The company must be one of: %(companies)s.",
                          companies=", ".join(companies)))
    if find_by_email(session, address) is not None:
        raise UserError(_("An account with that e-mail address already exists."))
    name = _clean_name(display_name)
    try:
        password_hash = (hash_password(password, context_words(address, company, name))
                         if password is not None else hash_unusable())
    except PasswordRejected as exc:
        raise UserError(str(exc)) from None
    user = User(email=address, password_hash=password_hash, role=role, company=company,
                active=True, created_at=now, display_name=name,
                password_changed_at=now if password is not None else None)
    session.add(user)
    session.flush()
    audit.record(session, actor, audit.USER_CREATED, now=now,
                 detail=f"user={user.id} role={role} company={company}")
    return user


def end_sessions(session: Session, user: User, *, now: datetime,
                 keep: StaffSession | None = None) -> int:
    """End every session of the user (but `keep`): their cookies are worthless at once."""
    return staff_sessions.end_all(session, user.id, now=now, keep=keep)


def set_active(session: Session, user: User, active: bool, *, now: datetime,
               actor: audit.Actor) -> None:
    if actor.id == user.id and not active:
        raise UserError(_("You cannot disable your own account."))
    user.active = active
    end_sessions(session, user, now=now)
    audit.record(session, actor, audit.USER_CHANGED, now=now,
                 detail=f"user={user.id} active={active}")


def set_role(session: Session, user: User, role: str, *, now: datetime,
             actor: audit.Actor) -> None:
    if role not in ROLES:
        raise UserError(_("The role must be one of: %(roles)s.", roles=", ".join(ROLES)))
    if actor.id == user.id and role != user.role:
        # Keeps the last privacy officer from locking everyone out of the desk by mistake.
        raise UserError(_("You cannot change your own role."))
    user.role = role
    end_sessions(session, user, now=now)
    audit.record(session, actor, audit.USER_CHANGED, now=now, detail=f"user={user.id} role={role}")


def set_display_name(session: Session, user: User, name: str, *, now: datetime,
                     actor: audit.Actor) -> None:
    cleaned = _clean_name(name)
    if cleaned != user.display_name:
        user.display_name = cleaned
        audit.record(session, actor, audit.USER_CHANGED, now=now, detail=f"user={user.id} name")


def set_password(session: Session, user: User, password: str, *, now: datetime,
                 actor: audit.Actor, keep: StaffSession | None = None) -> None:
    """A new password under the policy; every session but `keep` ends."""
    try:
        user.password_hash = hash_password(password, password_context(user))
    except PasswordRejected as exc:
        raise UserError(str(exc)) from None
    user.password_changed_at = now
    end_sessions(session, user, now=now, keep=keep)
    audit.record(session, actor, audit.PASSWORD_CHANGED, now=now, detail=f"user={user.id}")


def change_password(session: Session, user: User, current: str, new: str, *,
                    now: datetime, keep: StaffSession | None) -> None:
    """The user's own change: the current password first (ASVS 2.1.6), then the policy;
    every other session of the user ends (a thief's copy of a cookie with it)."""
    if not verify_password(user.password_hash, current):
        raise UserError(_("The current password is not correct."))
    if verify_password(user.password_hash, new):
        raise UserError(_("The new password must differ from the current one."))
    set_password(session, user, new, now=now, actor=staff_actor(user), keep=keep)


def staff_actor(user: User) -> audit.Actor:
    return audit.Actor("user", user.id, user.role)
