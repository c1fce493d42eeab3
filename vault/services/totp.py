"""Time-based one-time passwords (RFC 6238, pyotp) as a staff member's second factor.

The shared secret is sealed under a key derived from the KEK (purpose "staff-totp"),
bound to the user's row: a database copy alone gives nobody the codes. A code is
accepted for the current 30-second step and one step either side (clock drift), and
never twice: the last accepted step is kept and anything at or before it is refused
(ASVS 2.8.4). Enrolment shows the secret as a QR code drawn on the server as SVG
(segno), and counts only once a first code from the app confirms it.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from vault.crypto import DecryptionError, derived_data_key, key_id_of
from vault.keys import VaultKeys
from vault.models import User
from vault.services.sealing import Sealer

PURPOSE = "staff-totp"
STEP_SECONDS = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def _sealer(keys: VaultKeys, version: int | None = None) -> Sealer:
    return Sealer(derived_data_key(keys.keyring, PURPOSE, version), "")


def store_secret(keys: VaultKeys, user: User, secret: str) -> None:
    """Keep a new, not yet confirmed secret for the user (enrolment in progress)."""
    user.totp_secret = _sealer(keys).seal("user", "totp_secret", secret, str(user.id))
    user.totp_enabled_at = None
    user.totp_last_step = None


def open_secret(keys: VaultKeys, user: User) -> str:
    if user.totp_secret is None:
        return ""
    return _sealer(keys, key_id_of(user.totp_secret)).open(
        "user", "totp_secret", user.totp_secret, str(user.id))


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as an inline SVG element: no outside service, no script."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                                      omitsize=False))


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def matching_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The time step this code belongs to, if it is valid now and newer than last_step."""
    code = "".join(code.split())
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = step_at(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Every candidate step is compared (no early exit): the time taken says nothing.
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def verify(session: Session, keys: VaultKeys, user: User, code: str, *,
           now: datetime) -> bool:
    """Check a code of the user's secret and use it up in `session` (the caller commits)."""
    try:
        secret = open_secret(keys, user)
    except DecryptionError:  # sealed under a retired KEK: the officer resets the factor
        return False
    step = matching_step(secret, code, now=now, last_step=user.totp_last_step)
    if step is None:
        return False
    # A conditional UPDATE makes the code single-use even when two requests race with
    # it: only the one that moves totp_last_step forward wins.
    moved = session.execute(update(User).where(
        User.id == user.id,
        or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def reseal_stale(session: Session, keys: VaultKeys) -> int:
    """Seal every TOTP secret not under the primary KEK again under it (KEK rotation);
    the number resealed. Staff accounts are few: one pass over them."""
    count = 0
    for user in session.scalars(select(User).where(User.totp_secret.is_not(None))):
        version = key_id_of(user.totp_secret or b"")
        if version != keys.keyring.primary and version in keys.keyring.versions:
            user.totp_secret = _sealer(keys).seal("user", "totp_secret",
                                                  open_secret(keys, user), str(user.id))
            count += 1
    return count


def sealed_under(session: Session, version: int) -> int:
    """How many TOTP secrets a KEK version still seals (it may not be retired then)."""
    return sum(1 for secret in session.scalars(select(User.totp_secret).where(
        User.totp_secret.is_not(None))) if key_id_of(secret or b"") == version)
