"""Staff login (password, then the second factor) and logout."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

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
from flask_limiter.util import get_remote_address
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from vault.appctx import now, vault_keys
from vault.auth.forms import LoginForm, LogoutForm, SecondFactorForm
from vault.auth.guards import mark_fresh, signed_in
from vault.auth.passwords import needs_rehash, rehash, verify_password
from vault.auth.redirects import safe_next
from vault.auth.sessions import current_session
from vault.errors import render_error
from vault.extensions import db, limiter
from vault.messages import message
from vault.models import User
from vault.services import audit, login_throttle, recovery_codes, second_factor, staff_sessions
from vault.services import totp as totp_service
from vault.services.users import find_by_email, staff_actor

bp = Blueprint("auth", __name__)
# A password accepted, its second factor not yet: {"uid", "at", "next", "keys"} in the
# signed session cookie; nothing is logged in until the second factor is proved.
PENDING = "vault_pending_login"


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


def _policy() -> login_throttle.Policy:
    config = current_app.config
    return login_throttle.Policy(
        pair_max=int(config["LOGIN_MAX_FAILURES"]),
        account_soft=int(config["LOGIN_ACCOUNT_SOFT_FAILURES"]),
        window=timedelta(minutes=float(config["LOGIN_LOCK_MINUTES"])),
        delay_seconds=float(config["LOGIN_DELAY_SECONDS"]),
        delay_max_seconds=float(config["LOGIN_DELAY_MAX_SECONDS"]))


def _keys(email: str) -> tuple[str, str]:
    secret = current_app.config["SECRET_KEY"]
    return (login_throttle.keyed(secret, "acct", email),
            login_throttle.keyed(secret, "client", get_remote_address() or ""))


def _sleep(seconds: float) -> None:
    if seconds > 0:
        sleeper = cast(Callable[[float], Any], current_app.config.get("SLEEP") or time.sleep)
        sleeper(seconds)


def _login_page(form: LoginForm, code: int, reauth: bool = False) -> tuple[str, int]:
    return render_template("auth/login.html", form=form, reauth=reauth), code


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return _login_page(form, 400 if request.method == "POST" else 200,
                           bool(request.args.get("reauth")))
    moment = now()
    account_key, client = _keys(form.email.data or "")
    verdict = login_throttle.verdict(db.session, account_key, client, now=moment,
                                     policy=_policy())
    if verdict.refused:
        return render_error(429, message("login_throttled"))
    _sleep(verdict.delay)
    user = find_by_email(db.session, form.email.data or "")
    # Always one argon2 verification, so unknown, disabled and known accounts take the
    # same time and get the same answer.
    password = form.password.data or ""
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.active or not password_ok:
        _failed(user, account_key, client, moment)
        flash(message("login_failed"), "error")
        return _login_page(form, 401)
    if needs_rehash(user.password_hash):
        # The argon2 parameters changed since this hash was made: upgrade it now, the
        # only moment the password is known.
        user.password_hash = rehash(password)
    target = safe_next(form.next.data)
    previous = current_session()
    if previous is not None:
        # A re-authentication replaces this browser's session: the old one must not
        # live on, orphaned, until its idle limit.
        staff_sessions.end(db.session, previous, now=moment)
    if second_factor.enrolled(db.session, user):
        session.clear()
        session[PENDING] = {"uid": user.id, "at": moment.isoformat(), "next": target or "",
                            "tries": 0}
        db.session.commit()
        return redirect(url_for("auth.second_factor_step"))
    return _complete(user, "password", moment, target)


def _failed(user: User | None, account_key: str, client: str, moment: datetime) -> None:
    login_throttle.prune(db.session, now=moment, window=_policy().window)
    login_throttle.record_failure(db.session, account_key, client, now=moment)
    audit.record(db.session, audit.Actor("user", user.id if user else None, None),
                 audit.LOGIN_FAILED, now=moment, detail=account_key)
    db.session.commit()


def _complete(user: User, factor: str, moment: datetime, target: str | None) -> Response:
    # Only a complete login (both factors) clears the failures of its own pair: a thief
    # with the password does not get new tries at the code by typing it again.
    login_throttle.clear_pair(db.session, *_keys(user.email))
    # A new session at every login: nothing set before it (by anyone) carries over.
    session.clear()
    user.session_key = staff_sessions.start(db.session, user, now=moment, factor=factor,
                                            user_agent=request.headers.get("User-Agent"))
    login_user(user)
    mark_fresh()
    user.last_login_at = moment
    audit.record(db.session, staff_actor(user), audit.LOGIN_SUCCEEDED, now=moment,
                 detail=f"factor={factor}")
    db.session.commit()
    return redirect(target or url_for(home_endpoint()))


def pending_user() -> User | None:
    """The user whose password was accepted moments ago in this browser, if any."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromisoformat(str(pending.get("at")))
    except ValueError:
        return None
    limit = timedelta(minutes=float(current_app.config["SECOND_FACTOR_MINUTES"]))
    if not timedelta(0) <= now() - started <= limit:
        return None
    user = db.session.get(User, int(pending.get("uid") or 0))
    return user if user is not None and user.active else None


def finish_second_factor(user: User, factor: str) -> Response:
    """The second factor is proved: log the pending user in."""
    target = safe_next(str((session.get(PENDING) or {}).get("next") or ""))
    return _complete(user, factor, now(), target)


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def second_factor_step() -> Response | str | tuple[str, int]:
    user = pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(message("second_factor_expired"), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    page = {"form": form, "has_totp": second_factor.has_totp(user),
            "has_passkey": second_factor.passkey_count(db.session, user.id) > 0}
    if not form.validate_on_submit():
        return render_template("auth/second_factor.html", **page), (
            400 if request.method == "POST" else 200)
    moment = now()
    account_key, client = _keys(user.email)
    # The tries counter below lives in the cookie, and an old copy of the cookie could be
    # replayed for fresh tries; the failures counted in the database cannot.
    if login_throttle.verdict(db.session, account_key, client, now=moment,
                              policy=_policy()).refused:
        session.pop(PENDING, None)
        return render_error(429, message("login_throttled"))
    code = form.code.data or ""
    if second_factor.has_totp(user) and totp_service.verify(db.session, vault_keys(), user,
                                                            code, now=moment):
        return finish_second_factor(user, "totp")
    if recovery_codes.use(db.session, user, code, now=moment):
        audit.record(db.session, staff_actor(user), audit.RECOVERY_CODE_USED, now=moment,
                     detail=f"user={user.id}")
        left = recovery_codes.remaining(db.session, user.id)
        response = finish_second_factor(user, "recovery")
        flash(message("recovery_code_used", left=str(left)), "info")
        return response
    # Wrong codes count as failed logins of the pair (account_key, client), and a few of
    # them send the browser back to the password: a 6-digit code is not guessed here.
    _failed(user, account_key, client, moment)
    pending = dict(session[PENDING])
    pending["tries"] = int(pending.get("tries", 0)) + 1
    if pending["tries"] >= int(current_app.config["LOGIN_MAX_FAILURES"]):
        session.pop(PENDING, None)
        flash(message("second_factor_expired"), "error")
        return redirect(url_for("auth.login"))
    session[PENDING] = pending
    flash(message("second_factor_failed"), "error")
    return render_template("auth/second_factor.html", **page), 401


def home_endpoint() -> str:
    if "recruiter.candidates" in current_app.view_functions:
        return "recruiter.candidates"
    return "public.home"


@bp.post("/logout")
@signed_in
def logout() -> Response:
    LogoutForm().validate_on_submit()  # CSRF is checked globally; nothing else to read
    # Ending the server-side session kills this cookie and every copy of it.
    record = current_session()
    if record is not None:
        staff_sessions.end(db.session, record, now=now())
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("public.home"))


# The other staff pages of this blueprint: own account, password links.
from vault.auth import account, passkeys, password_reset  # noqa: E402,F401
