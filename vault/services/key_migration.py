"""Moving a vault from one KEK backend to another (`vault migrate-keys`).

Every data key is unwrapped by the backend it is wrapped by now and wrapped by the
target, in batches, each batch committed: an interrupted run is resumed by running it
again (a row already in the target's format is left alone). The data itself is never
re-encrypted, the blind-index and audit root keys stay the same (the target keeps them,
wrapped or in its keyring), and staff TOTP secrets are sealed again under the target's
derived key. Run it with the workers stopped: until VAULT_KEK_BACKEND names the target,
a worker cannot open a key the target wrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vault.crypto import DecryptionError, Keyring, KeyringError, WrappedKey, load_keyring
from vault.crypto.kek_backend import KeyManager
from vault.crypto.keyring import write_private_file
from vault.keys import VaultKeys
from vault.models import Candidate, CandidateKey, HeldUpload, MailMessage, User
from vault.services import totp

TARGETS = ("transit", "pkcs11", "file")
_TRANSIT_PREFIX = b"vault:v"
_FORMAT_BYTE = {"file": 0x01, "pkcs11": 0x02}


class MigrationError(Exception):
    pass


def in_format(target: str, blob: bytes) -> bool:
    """Whether a wrapped key is already the target's: Transit ciphertexts are text
    ("vault:vN:..."), the keyring's start with its format byte."""
    if target == "transit":
        return bytes(blob[:len(_TRANSIT_PREFIX)]) == _TRANSIT_PREFIX
    return not bytes(blob).startswith(_TRANSIT_PREFIX) and bytes(blob[:1]) == bytes(
        [_FORMAT_BYTE[target]])


def refuse_transient(session: Session, now: datetime) -> None:
    """Queued mail not yet bound to a person and held uploads are sealed under keys
    derived from the source's KEK; they live minutes, so they are let run out first."""
    mails = session.scalar(select(func.count()).select_from(MailMessage).where(
        MailMessage.candidate_id.is_(None), MailMessage.status == "queued")) or 0
    held = session.scalar(select(func.count()).select_from(HeldUpload).where(
        HeldUpload.expires_at > now)) or 0
    if mails or held:
        raise MigrationError(
            f"{mails} queued mail(s) and {held} held upload(s) are sealed under the current "
            "backend: let the mail worker send the queue and the held uploads expire "
            "(VAULT_HELD_UPLOAD_MINUTES), then run this again.")


def manager_target(source: VaultKeys, manager: KeyManager, roots: KeyManager,
                   roots_file: Path) -> VaultKeys:
    """The key manager's keys, with the source's root keys wrapped in the roots file. A
    roots file already there (a resumed run) must hold the same root keys."""
    audit_key = source.keyring.audit_key
    assert audit_key is not None
    manager.create_key()
    roots.create_key()
    if roots_file.exists():
        if roots.open_roots(roots_file.read_text()) != (source.keyring.index_key, audit_key):
            raise MigrationError(f"{roots_file} holds other root keys than this vault's; "
                                 "move it away or name another roots file")
    else:
        write_private_file(roots_file, roots.seal_roots(source.keyring.index_key, audit_key))
    return VaultKeys.load_transit(manager, roots, roots_file, source.blind_index.bits)


def file_target(source: VaultKeys, keyring_file: Path) -> VaultKeys:
    """A keyring file with a new KEK and the source's root keys (kept when a resumed
    run finds it already written with the same root keys)."""
    if keyring_file.exists():
        keyring = load_keyring(None, keyring_file)
        if (keyring.index_key, keyring.audit_key) != (source.keyring.index_key,
                                                      source.keyring.audit_key):
            raise MigrationError(f"{keyring_file} holds other root keys than this vault's; "
                                 "move it away or name another VAULT_KEYRING_FILE")
    else:
        fresh = Keyring.generate()
        keyring = Keyring(keks=fresh.keks, primary=fresh.primary,
                          index_key=source.keyring.index_key, last_issued=fresh.last_issued,
                          audit_key=source.keyring.audit_key)
        keyring.save(keyring_file)
    return VaultKeys.load(None, keyring_file, source.blind_index.bits)


def pending(session: Session, target: str) -> int:
    return sum(1 for blob in session.scalars(select(CandidateKey.wrapped))
               if not in_format(target, blob))


def migrate_batch(session: Session, source: VaultKeys, target_keys: VaultKeys, target: str,
                  after: int, batch_size: int, *, now: datetime) -> tuple[int, int]:
    """Rewrap the next batch of data keys after candidate id `after` (flushed; the caller
    commits): (how many, the last candidate id seen; 0 when there is nothing left)."""
    rows = session.execute(
        select(CandidateKey.candidate_id, CandidateKey.kek_version, CandidateKey.wrapped,
               Candidate.public_id)
        .join(Candidate, Candidate.id == CandidateKey.candidate_id)
        .where(CandidateKey.candidate_id > after)
        .order_by(CandidateKey.candidate_id).limit(batch_size)).all()
    if not rows:
        return 0, 0
    todo = [row for row in rows if not in_format(target, row.wrapped)]
    if todo:
        deks = source.unwrap_many([(WrappedKey(r.kek_version, r.wrapped), r.public_id)
                                   for r in todo])
        if any(dek is None for dek in deks):
            # Nothing of this batch is written: 'vault check' names the record.
            raise MigrationError("a data key could not be opened; run 'vault check'")
        wrapped = target_keys.kek.wrap([(dek, r.public_id)
                                        for dek, r in zip(deks, todo, strict=True)
                                        if dek is not None])
        session.execute(update(CandidateKey), [
            {"candidate_id": r.candidate_id, "kek_version": w.kek_version, "wrapped": w.blob,
             "rewrapped_at": now} for r, w in zip(todo, wrapped, strict=True)])
        session.flush()
    return len(todo), rows[-1].candidate_id


def reseal_totp(session: Session, source: VaultKeys, target_keys: VaultKeys) -> int:
    """Staff TOTP secrets sealed again under the target's derived key; those that open
    under it already (a resumed run) are left alone."""
    count = 0
    for user in session.scalars(select(User).where(User.totp_secret.is_not(None))):
        if _opens(lambda u=user: totp.open_secret(target_keys, u)):
            continue
        try:
            secret = totp.open_secret(source, user)
        except DecryptionError:
            continue  # sealed under a retired version: the officer resets that factor
        # store_secret starts an enrolment (clears these): a reseal keeps the factor.
        enabled_at, last_step = user.totp_enabled_at, user.totp_last_step
        totp.store_secret(target_keys, user, secret)
        user.totp_enabled_at, user.totp_last_step = enabled_at, last_step
        count += 1
    return count


def _opens(attempt: Callable[[], str]) -> bool:
    try:
        attempt()
    except (DecryptionError, KeyringError):
        return False
    return True
