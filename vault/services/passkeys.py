"""Passkeys (WebAuthn, py_webauthn): registration and login, as the second factor or,
where the user chose it, alone.

Attestation "none" is asked for and accepted: the vault does not restrict authenticator
models, it needs proof of possession of the registered key. The signature counter is
checked at every login (a counter that does not grow reveals a cloned authenticator and
is refused). Passwordless login requires user verification (PIN or biometrics on the
authenticator): the passkey is then both factors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from vault.csrf import trusted_origins
from vault.models import User, WebAuthnCredential

MAX_NAME = 60


class PasskeyError(ValueError):
    """The authenticator's answer was refused (wrong challenge, origin, key, counter...)."""


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    name: str
    origins: list[str]

    @classmethod
    def from_config(cls, config: Any) -> RelyingParty:
        # The pages a passkey may be used from are those that may post forms.
        base = urlsplit(str(config["PUBLIC_BASE_URL"]))
        return cls(rp_id=str(config.get("WEBAUTHN_RP_ID") or base.hostname or "localhost"),
                   name=str(config["TOTP_ISSUER"]), origins=sorted(trusted_origins(config)))


def user_handle(user: User) -> bytes:
    # Not the e-mail address: the handle is stored on the authenticator.
    return f"vault-user-{user.id}".encode()


def credentials_of(session: Session, user_id: int) -> Sequence[WebAuthnCredential]:
    return session.scalars(select(WebAuthnCredential).where(
        WebAuthnCredential.user_id == user_id).order_by(WebAuthnCredential.id)).all()


def registration_options(session: Session, rp: RelyingParty, user: User) -> tuple[str, bytes]:
    """The options for navigator.credentials.create (JSON) and the challenge to keep."""
    options = generate_registration_options(
        rp_id=rp.rp_id, rp_name=rp.name, user_id=user_handle(user), user_name=user.email,
        user_display_name=user.label, attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c.credential_id)
                             for c in credentials_of(session, user.id)])
    return options_to_json(options), options.challenge


def register(session: Session, rp: RelyingParty, user: User, credential: str | dict[str, Any],
             challenge: bytes, name: str, *, now: datetime) -> WebAuthnCredential:
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origins)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(type(exc).__name__) from None
    if session.scalar(select(WebAuthnCredential.id).where(
            WebAuthnCredential.credential_id == verified.credential_id)) is not None:
        raise PasskeyError("already registered")
    record = WebAuthnCredential(
        user_id=user.id, credential_id=verified.credential_id,
        public_key=verified.credential_public_key, sign_count=verified.sign_count,
        name=" ".join(name.split())[:MAX_NAME], created_at=now)
    session.add(record)
    session.flush()
    return record


def authentication_options(session: Session, rp: RelyingParty,
                           user: User | None) -> tuple[str, bytes]:
    """Options for navigator.credentials.get: the user's passkeys (second factor), or any
    discoverable one (passwordless, user verification required)."""
    allow = ([PublicKeyCredentialDescriptor(id=c.credential_id)
              for c in credentials_of(session, user.id)] if user is not None else [])
    options = generate_authentication_options(
        rp_id=rp.rp_id, allow_credentials=allow,
        user_verification=(UserVerificationRequirement.PREFERRED if user is not None
                           else UserVerificationRequirement.REQUIRED))
    return options_to_json(options), options.challenge


def authenticate(session: Session, rp: RelyingParty, credential: str | dict[str, Any],
                 challenge: bytes, *, user: User | None, now: datetime) -> User:
    """The user this assertion proves; with `user` None (passwordless) only a user who
    chose passwordless login, with user verification."""
    try:
        data = json.loads(credential) if isinstance(credential, str) else credential
        raw_id = base64url_to_bytes(str(data["rawId"]))
    except (ValueError, KeyError, TypeError):
        raise PasskeyError("malformed") from None
    record = session.scalar(select(WebAuthnCredential).where(
        WebAuthnCredential.credential_id == raw_id))
    if record is None or (user is not None and record.user_id != user.id):
        raise PasskeyError("unknown credential")
    owner = session.get(User, record.user_id)
    if owner is None or not owner.active or (user is None and not owner.passwordless):
        raise PasskeyError("not allowed")
    try:
        verified = verify_authentication_response(
            credential=data, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origins, credential_public_key=record.public_key,
            credential_current_sign_count=record.sign_count,
            require_user_verification=user is None)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(type(exc).__name__) from None
    record.sign_count, record.last_used_at = verified.new_sign_count, now
    return owner


def encode(raw: bytes) -> str:
    return bytes_to_base64url(raw)


def decode(text: str) -> bytes:
    return base64url_to_bytes(text)
