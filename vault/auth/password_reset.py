"""Forgotten passwords, and the first password of a new account, by a mailed link."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from vault.appctx import now, vault_keys
from vault.auth.forms import ForgotPasswordForm, NewPasswordForm
from vault.auth.routes import bp
from vault.extensions import db, limiter
from vault.messages import message
from vault.models import User
from vault.services import audit, password_links, staff_mail
from vault.services.users import UserError, find_by_email, set_password, staff_actor


def _reset_limit() -> str:
    return str(current_app.config["RATELIMIT_PASSWORD_RESET"])


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password() -> Response | tuple[str, int]:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        moment = now()
        user = find_by_email(db.session, form.email.data or "")
        # The same answer whether or not the address has an account:
        # only an account's owner learns anything, from the mail.
        if user is not None and user.active:
            token = password_links.issue(
                db.session, user, password_links.RESET, now=moment,
                lifetime=timedelta(minutes=float(current_app.config["PASSWORD_RESET_MINUTES"])))
            staff_mail.queue_password_link(db.session, vault_keys(), user, token,
                                           password_links.RESET, now=moment)
            audit.record(db.session, audit.SYSTEM, audit.PASSWORD_LINK_SENT, now=moment,
                         detail=f"user={user.id} reset")
            db.session.commit()
        flash(message("password_link_sent",
                      minutes=str(current_app.config["PASSWORD_RESET_MINUTES"])), "info")
        return redirect(url_for("auth.login"))
    code = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), code


@bp.route("/password/set/<token>", methods=["GET", "POST"], endpoint="set_password")
def set_password_view(token: str) -> Response | tuple[str, int]:
    moment = now()
    link = password_links.find_valid(db.session, token, now=moment)
    if link is None:
        flash(message("password_link_invalid"), "error")
        return redirect(url_for("auth.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        user = db.session.get(User, link.user_id)
        assert user is not None  # find_valid checked it
        try:
            set_password(db.session, user, form.password.data or "", now=moment,
                         actor=staff_actor(user))
        except UserError as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            password_links.mark_used(link, now=moment)
            db.session.commit()
            flash(message("password_set"), "success")
            return redirect(url_for("auth.login"))
    code = 400 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, token=token,
                           setup=link.purpose == password_links.SETUP), code

