"""Loading the logged-in staff member from the session cookie.

The cookie carries the user's session token (see User.get_id), looked up on every
request: a disabled account or a rotated token ends the session at once.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from vault.extensions import db, login_manager
from vault.messages import message
from vault.models import User


def load_user(session_token: str) -> User | None:
    if not session_token:
        return None
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    if user is None or not user.active:
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = message("login_required")
    login_manager.login_message_category = "info"
    login_manager.needs_refresh_message = message("fresh_login_required")
    login_manager.needs_refresh_message_category = "info"
    login_manager.refresh_view = "auth.login"
    # "strong" would log out on every IP/user-agent change; the rotating session token
    # and short fresh-login window are the defences we rely on instead.
    login_manager.session_protection = "basic"
