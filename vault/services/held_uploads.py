"""A CV held for a short while between two tries of the application form.

When the form comes back with an error, the applicant should not have to choose the
file again (browsers never refill a file input). The accepted upload is kept, sealed,
for HELD_UPLOAD_MINUTES, and sending the form again without a file uses it.

Why the key is split (vault.crypto.split_key): the file is sealed with a key made from
a fresh random share that only the uploading browser keeps (in its session cookie,
which is signed, HttpOnly and never logged) and a key derived from the keyring. The
row in the database holds neither, so a copy of the database or the disk, even with
the keyring, cannot open it; a cookie read off the applicant's own machine cannot
either without the keyring. It also binds the file to that browser session: another
session that learns the token (it is in the page) has no share and gets nothing.

The name of the file is personal data too, so it is sealed like the content. Rows are
found by the SHA-256 of the token (the token itself is never stored), deleted when the
application is sent or the applicant removes the CV, and purged once expired by the
retention job (and whenever a new CV is held), so nothing lingers past an hour or so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from vault.crypto import (
    Context,
    DecryptionError,
    Keyring,
    key_id_of,
    new_share,
    open_bytes,
    seal_bytes,
    seal_text,
    split_data_key,
)
from vault.models import HeldUpload
from vault.services.candidates import DocumentInput

PURPOSE = "held-upload"
TABLE = "held_upload"


@dataclass(frozen=True)
class Claim:
    """What opens one held CV: the token (in the form) and the share (in the session)."""

    token: str
    share: str  # URL-safe base64 of the random share

    def __repr__(self) -> str:  # never print the share
        return "Claim(...)"


@dataclass(frozen=True)
class HeldCv:
    """What the form shows of a held CV."""

    token: str
    filename: str
    has_text: bool


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _share_bytes(claim: Claim) -> bytes:
    try:
        return base64.urlsafe_b64decode(claim.share.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise DecryptionError from None


def _open(keyring: Keyring, claim: Claim, row: HeldUpload, column: str,
          ciphertext: bytes) -> bytes:
    key = split_data_key(keyring, PURPOSE, _share_bytes(claim), key_id_of(ciphertext))
    return open_bytes(key, ciphertext, Context(TABLE, column, row.token_hash))


def hold(session: Session, keyring: Keyring, document: DocumentInput, *, now: datetime,
         minutes: int) -> Claim:
    """Seal an accepted upload and add it to the session (the caller commits)."""
    purge_expired(session, now)
    token = secrets.token_urlsafe(32)
    share = new_share()
    key = split_data_key(keyring, PURPOSE, share)
    token_hash = _token_hash(token)

    def context(column: str) -> Context:
        return Context(TABLE, column, token_hash)

    details = json.dumps({"media_type": document.media_type, "extension": document.extension,
                          "text": document.text}, ensure_ascii=False)
    session.add(HeldUpload(
        token_hash=token_hash, has_text=document.has_text, created_at=now,
        expires_at=now + timedelta(minutes=minutes),
        filename=seal_text(key, document.filename, context("filename")),
        details=seal_text(key, details, context("details")),
        content=bytes(seal_bytes(key, document.content, context("content")))))
    return Claim(token, base64.urlsafe_b64encode(share).decode("ascii"))


def _row(session: Session, token: str, now: datetime) -> HeldUpload | None:
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(HeldUpload).where(HeldUpload.token_hash == _token_hash(token)))
    if row is None or row.expires_at <= now:
        return None
    return row


def peek(session: Session, keyring: Keyring, claim: Claim, *, now: datetime) -> HeldCv | None:
    """The held CV's name, or None when it expired, was deleted, or the claim does not
    open it (another session's token, a retired key)."""
    row = _row(session, claim.token, now)
    if row is None:
        return None
    try:
        name = _open(keyring, claim, row, "filename", row.filename).decode("utf-8")
    except (DecryptionError, UnicodeDecodeError):
        return None
    return HeldCv(claim.token, name, row.has_text)


def take(session: Session, keyring: Keyring, claim: Claim, *,
         now: datetime) -> DocumentInput | None:
    """The held CV as it was accepted, or None (as peek)."""
    row = _row(session, claim.token, now)
    if row is None:
        return None
    try:
        content = _open(keyring, claim, row, "content", row.content)
        filename = _open(keyring, claim, row, "filename", row.filename).decode("utf-8")
        details = json.loads(_open(keyring, claim, row, "details", row.details))
    except (DecryptionError, ValueError):
        return None
    return DocumentInput(content=content, filename=filename,
                         media_type=str(details["media_type"]),
                         extension=str(details["extension"]), text=str(details["text"]),
                         has_text=row.has_text)


def release(session: Session, token: str) -> None:
    """Delete a held CV (sent, replaced or removed); the caller commits."""
    if token:
        session.execute(delete(HeldUpload).where(HeldUpload.token_hash == _token_hash(token)))


def purge_expired(session: Session, now: datetime, *, dry_run: bool = False) -> int:
    """Delete every expired held CV; how many there were."""
    expired = HeldUpload.expires_at <= now
    count = session.scalar(select(func.count()).select_from(HeldUpload).where(expired)) or 0
    if count and not dry_run:
        session.execute(delete(HeldUpload).where(expired))
    return int(count)
