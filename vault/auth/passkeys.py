"""Passkey pages: register one or more (own account), log in with one (second step, or
passwordless where the user chose it). The browser side is static/passkeys.js."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete
from werkzeug.wrappers import Response

from vault.appctx import now
from vault.auth.forms import EndSessionsForm
from vault.auth.guards import signed_in, staff_required
from vault.auth.routes import (
    _failed,
    _keys,
    _login_limit,
    bp,
    finish_second_factor,
    pending_user,
)
from vault.auth.sessions import current_session
from vault.extensions import db, limiter
from vault.models import User, WebAuthnCredential
from vault.services import audit, passkeys
from vault.services.users import staff_actor

REGISTERING = "vault_passkey_registration"
AUTHENTICATING = "vault_passkey_login"


def _rp() -> passkeys.RelyingParty:
    return passkeys.RelyingParty.from_config(current_app.config)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _refused(text: str, code: int = 400) -> tuple[Response, int]:
    return jsonify({"error": text}), code


def _challenge(key: str) -> bytes | None:
    # A challenge is used once: taken out of the session whatever the outcome.
    value = session.pop(key, None)
    try:
        return passkeys.decode(value) if isinstance(value, str) else None
    except ValueError:
        return None


@bp.post("/account/passkeys/options")
@signed_in
def passkey_registration_options() -> Response:
    options, challenge = passkeys.registration_options(db.session, _rp(), _me())
    session[REGISTERING] = passkeys.encode(challenge)
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/account/passkeys")
@signed_in
def add_passkey() -> Response | tuple[Response, int]:
    body, challenge = _body(), _challenge(REGISTERING)
    if challenge is None or not isinstance(body.get("credential"), dict):
        return _refused(_("The passkey could not be added. Please try again."))
    user, moment = _me(), now()
    try:
        record = passkeys.register(db.session, _rp(), user, body["credential"], challenge,
                                   str(body.get("name") or _("Passkey")), now=moment)
    except passkeys.PasskeyError:
        db.session.rollback()
        return _refused(_("The passkey could not be added. Please try again."))
    audit.record(db.session, staff_actor(user), audit.PASSKEY_ADDED, now=moment,
                 detail=f"user={user.id} passkey={record.id}")
    live = current_session()
    if live is not None:
        live.factor, live.verified_at = "passkey", moment
    db.session.commit()
    flash(_("Your passkey is added."), "success")
    return jsonify({"redirect": url_for("auth.account")})


@bp.post("/account/passkeys/<int:passkey_id>/delete")
@staff_required
def remove_passkey(passkey_id: int) -> Response:
    EndSessionsForm().validate_on_submit()  # CSRF is checked globally
    user, moment = _me(), now()
    # Only one's own passkey: another user's id removes nothing.
    removed = db.session.execute(delete(WebAuthnCredential).where(
        WebAuthnCredential.id == passkey_id, WebAuthnCredential.user_id == user.id)).rowcount
    if removed:
        if not passkeys.credentials_of(db.session, user.id):
            user.passwordless = False
        audit.record(db.session, staff_actor(user), audit.PASSKEY_REMOVED, now=moment,
                     detail=f"user={user.id} passkey={passkey_id}")
        db.session.commit()
        flash(_("The passkey is removed."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/passwordless")
@staff_required
def set_passwordless() -> Response:
    EndSessionsForm().validate_on_submit()  # CSRF is checked globally
    user, moment = _me(), now()
    wanted = request.form.get("passwordless") == "on"
    if wanted and not passkeys.credentials_of(db.session, user.id):
        flash(_("Add a passkey first."), "error")
        return redirect(url_for("auth.account"))
    if wanted != user.passwordless:
        user.passwordless = wanted
        audit.record(db.session, staff_actor(user), audit.USER_CHANGED, now=moment,
                     detail=f"user={user.id} passwordless={wanted}")
        db.session.commit()
    return redirect(url_for("auth.account"))


@bp.post("/login/passkey/options")
@limiter.limit(_login_limit)
def passkey_login_options() -> Response:
    """For the user whose password was just accepted, or (nobody pending) for a
    passwordless login with a discoverable passkey."""
    options, challenge = passkeys.authentication_options(db.session, _rp(), pending_user())
    session[AUTHENTICATING] = passkeys.encode(challenge)
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/login/passkey")
@limiter.limit(_login_limit)
def passkey_login() -> Response | tuple[Response, int]:
    body, challenge = _body(), _challenge(AUTHENTICATING)
    refused = _("The passkey was not accepted. Please try again, or use a code.")
    if challenge is None or not isinstance(body.get("credential"), dict):
        return _refused(refused)
    pending, moment = pending_user(), now()
    try:
        user = passkeys.authenticate(db.session, _rp(), body["credential"], challenge,
                                     user=pending, now=moment)
    except passkeys.PasskeyError:
        db.session.rollback()
        if pending is not None:
            _failed(pending, *_keys(pending.email), moment)
        return _refused(refused, 401)
    response = finish_second_factor(user, "passkey")
    return jsonify({"redirect": response.headers["Location"]})
