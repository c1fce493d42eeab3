"""Staff login and logout."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from vault.appctx import now
from vault.auth import throttle
from vault.auth.forms import LoginForm, LogoutForm
from vault.auth.guards import mark_fresh, staff_required
from vault.auth.passwords import hash_password, needs_rehash, verify_password
from vault.auth.redirects import safe_next
from vault.errors import render_error
from vault.extensions import db, limiter
from vault.messages import message
from vault.services import audit
from vault.services.users import end_sessions, find_by_email, staff_actor

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form,
                               reauth=bool(request.args.get("reauth"))), (
            400 if request.method == "POST" else 200)
    moment = now()
    key = throttle.account_key(current_app.config["SECRET_KEY"], form.email.data or "")
    window = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    if throttle.is_locked(db.session, key, now=moment, window=window,
                          max_failures=current_app.config["LOGIN_MAX_FAILURES"]):
        return render_error(429, message("login_throttled"))
    user = find_by_email(db.session, form.email.data or "")
    # Always one argon2 verification, so unknown, disabled and known accounts take the
    # same time and get the same answer.
    password_ok = verify_password(user.password_hash if user else None, form.password.data or "")
    if user is None or not user.active or not password_ok:
        audit.record(db.session, audit.Actor("user", user.id if user else None, None),
                     audit.LOGIN_FAILED, now=moment, detail=key)
        db.session.commit()
        flash(message("login_failed"), "error")
        return render_template("auth/login.html", form=form, reauth=False), 401
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(form.password.data or "")
    # A new session at every login: nothing set before it (by anyone) carries over.
    session.clear()
    login_user(user)
    mark_fresh()
    user.last_login_at = moment
    audit.record(db.session, staff_actor(user), audit.LOGIN_SUCCEEDED, now=moment, detail=key)
    db.session.commit()
    return redirect(safe_next(form.next.data) or url_for(home_endpoint()))


def home_endpoint() -> str:
    if "recruiter.candidates" in current_app.view_functions:
        return "recruiter.candidates"
    return "public.home"


@bp.post("/logout")
@staff_required
def logout() -> Response:
    LogoutForm().validate_on_submit()  # CSRF is checked globally; nothing else to read
    # Rotating the token kills this cookie and every copy of it, not just this browser's.
    end_sessions(current_user._get_current_object())  # type: ignore[attr-defined]
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("public.home"))
