"""Loading the logged-in staff member from the session cookie.

The cookie carries the token of one server-side session (vault/services/staff_sessions),
looked up on every request: an idle or too old session, a disabled account, or a
session ended elsewhere (log out everywhere, password change) logs the browser out at once.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_login import current_user

from vault.appctx import now
from vault.extensions import db, login_manager
from vault.messages import message
from vault.models import StaffSession, User
from vault.services import staff_sessions


def limits() -> staff_sessions.Limits:
    return staff_sessions.Limits.from_config(current_app.config)


def load_user(token: str) -> User | None:
    found = staff_sessions.load(db.session, token, now=now(), limits=limits())
    if found is None:
        return None
    record, user = found
    user.session_key = token
    g.staff_session = record
    return user


def current_session() -> StaffSession | None:
    """The server-side session of this request's logged-in user."""
    if not current_user.is_authenticated:
        return None
    return g.get("staff_session")


def init_app(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = message("login_required")
    login_manager.login_message_category = "info"
    login_manager.needs_refresh_message = message("fresh_login_required")
    login_manager.needs_refresh_message_category = "info"
    login_manager.refresh_view = "auth.login"
    # "strong" would log out on every IP/user-agent change; the server-side session with
    # its idle and absolute limits, and the short fresh-login window, are the defences.
    login_manager.session_protection = "basic"
