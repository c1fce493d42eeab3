"""View decorators: who may reach a staff page, and how recently they proved it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user

from vault.appctx import now
from vault.extensions import db
from vault.messages import message
from vault.services import second_factor

F = TypeVar("F", bound=Callable[..., Any])
LOGIN_AT = "vault_login_at"


def signed_in(view: F) -> F:
    """Logged in, second factor enrolled or not: the pages that enrol one."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            flash(message("login_required"), "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def must_enrol() -> bool:
    """A second factor is required of this user and none is set up yet."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return (second_factor.required(user, current_app.config)
            and not second_factor.enrolled(db.session, user))


def staff_required(view: F) -> F:
    @signed_in
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        # Enrolment before anything else: a password alone opens no CV.
        if must_enrol():
            flash(message("enrol_required"), "info")
            return redirect(url_for("auth.two_factor"))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def admin_required(view: F) -> F:
    @staff_required
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        # 403, not a redirect: a recruiter is logged in, just not allowed here.
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def mark_fresh() -> None:
    session[LOGIN_AT] = now().isoformat()


def is_fresh() -> bool:
    stamp = session.get(LOGIN_AT)
    if not isinstance(stamp, str):
        return False
    try:
        logged_in_at = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    limit = timedelta(minutes=current_app.config["FRESH_LOGIN_MINUTES"])
    return timedelta(0) <= now() - logged_in_at <= limit


def fresh_login_required(view: F) -> F:
    """Exports and erasure by staff: a stolen, idle session must log in again (password
    and second factor)."""

    @staff_required
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_fresh():
            flash(message("fresh_login_required"), "info")
            target = request.full_path.rstrip("?") if request.method == "GET" else request.referrer
            return redirect(url_for("auth.login", next=target or None, reauth=1))
        return view(*args, **kwargs)

    return cast(F, wrapped)
