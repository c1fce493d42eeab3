"""A staff member's own account: password, sessions, second factor."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from vault.appctx import now, vault_keys
from vault.auth.forms import ChangePasswordForm, EndSessionsForm, EnrolTotpForm
from vault.auth.guards import signed_in, staff_required
from vault.auth.routes import bp
from vault.auth.sessions import current_session, limits
from vault.extensions import db
from vault.messages import message
from vault.models import User
from vault.services import audit, passkeys, recovery_codes, second_factor, staff_sessions
from vault.services import totp as totp_service
from vault.services.users import UserError, change_password, end_sessions, staff_actor

# A TOTP secret shown for enrolment, waiting for its first code (sealed in the database,
# only its presence is noted here).
ENROLLING = "vault_totp_enrolling"


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


@bp.get("/account")
@staff_required
def account() -> str:
    user = _me()
    return render_template(
        "auth/account.html", user=user, has_totp=second_factor.has_totp(user),
        passkeys=passkeys.credentials_of(db.session, user.id),
        codes_left=recovery_codes.remaining(db.session, user.id),
        sessions=staff_sessions.live_sessions(db.session, user.id, now=now(),
                                              limits=limits()),
        this_session=current_session(), form=EndSessionsForm(), limits=limits(),
        expires_at=staff_sessions.expires_at)


@bp.route("/account/password", methods=["GET", "POST"])
@staff_required
def change_password_view() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(db.session, _me(), form.current.data or "", form.password.data or "",
                            now=now(), keep=current_session())
        except UserError as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            db.session.commit()
            flash(message("password_changed"), "success")
            return redirect(url_for("auth.account"))
    code = 400 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), code


@bp.post("/account/sessions/end-others")
@staff_required
def end_other_sessions() -> Response:
    EndSessionsForm().validate_on_submit()  # CSRF is checked globally
    user, moment = _me(), now()
    ended = end_sessions(db.session, user, now=moment, keep=current_session())
    audit.record(db.session, staff_actor(user), audit.SESSIONS_ENDED, now=moment,
                 detail=f"user={user.id} ended={ended}")
    db.session.commit()
    flash(message("sessions_ended"), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@signed_in
def two_factor() -> Response | str | tuple[str, int]:
    """Enrol an authenticator app: a QR code (SVG, drawn here), confirmed by a first code;
    then ten recovery codes, shown once."""
    user, keys = _me(), vault_keys()
    if second_factor.has_totp(user):
        return redirect(url_for("auth.account"))
    form = EnrolTotpForm()
    # A reload (or a language switch) keeps the secret already shown, so a QR code the
    # person scanned stays good; a new enrolment in another browser session starts anew.
    if not session.get(ENROLLING) or user.totp_secret is None:
        totp_service.store_secret(keys, user, totp_service.new_secret())
        session[ENROLLING] = True
        db.session.commit()
    secret = totp_service.open_secret(keys, user)
    if form.validate_on_submit():
        moment = now()
        step = totp_service.matching_step(secret, form.code.data or "", now=moment,
                                          last_step=None)
        if step is not None:
            user.totp_enabled_at, user.totp_last_step = moment, step
            codes = recovery_codes.generate(db.session, user)
            record = current_session()
            if record is not None:
                record.factor, record.verified_at = "totp", moment
            audit.record(db.session, staff_actor(user), audit.SECOND_FACTOR_ENROLLED,
                         now=moment, detail=f"user={user.id} totp")
            db.session.commit()
            session.pop(ENROLLING, None)
            flash(message("totp_enrolled"), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
        form.code.errors = [*form.code.errors, message("second_factor_failed")]
    uri = totp_service.provisioning_uri(secret, user.email, current_app.config["TOTP_ISSUER"])
    code = 400 if request.method == "POST" else 200
    return render_template("auth/two_factor.html", form=form, qr=totp_service.qr_svg(uri),
                           secret=secret, required=second_factor.required(
                               user, current_app.config)), code


@bp.post("/account/recovery-codes")
@staff_required
def new_recovery_codes() -> Response | str:
    EndSessionsForm().validate_on_submit()  # CSRF is checked globally
    user = _me()
    if not second_factor.enrolled(db.session, user):
        return redirect(url_for("auth.account"))
    codes = recovery_codes.generate(db.session, user)
    audit.record(db.session, staff_actor(user), audit.SECOND_FACTOR_ENROLLED, now=now(),
                 detail=f"user={user.id} recovery-codes")
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes)
