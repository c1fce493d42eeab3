"""KEK rotation: rewrap data keys (never re-encrypt data), then retire old versions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from vault.crypto import WrappedKey
from vault.crypto.keyring import KeyringError
from vault.keys import VaultKeys
from vault.models import Candidate, CandidateKey
from vault.services import totp, webhooks
from vault.services.keyring_state import advance, current_state


class RotationError(Exception):
    pass


def pending_rewraps(session: Session, keys: VaultKeys) -> int:
    return session.scalar(select(func.count()).select_from(CandidateKey).where(
        CandidateKey.kek_version != keys.keyring.primary)) or 0


def rewrap_batch(session: Session, keys: VaultKeys, batch_size: int, *, now: datetime) -> int:
    """Rewrap up to batch_size keys that are not on the primary version; returns how many.

    Keys wrapped by a version the keyring no longer has are skipped (they are dead).
    """
    keyring = keys.keyring
    # Staff TOTP secrets are sealed under a key derived from the KEK: moved along too.
    resealed = totp.reseal_stale(session, keys)
    # So are the webhook signing secrets of API clients.
    resealed += webhooks.reseal_stale(session, keys)
    rows = session.execute(
        select(CandidateKey.candidate_id, CandidateKey.kek_version, CandidateKey.wrapped,
               Candidate.public_id)
        .join(Candidate, Candidate.id == CandidateKey.candidate_id)
        .where(CandidateKey.kek_version != keyring.primary,
               CandidateKey.kek_version.in_(keyring.versions))
        .limit(batch_size)).all()
    if not rows:
        return resealed
    # One batch to the KEK backend (Transit's rewrap: the DEKs never leave it).
    rewrapped = keys.kek.rewrap([(WrappedKey(version, wrapped), public_id)
                                 for _, version, wrapped, public_id in rows])
    if any(new is None for new in rewrapped):
        # Nothing of this batch is written: a key that cannot be opened is for 'vault
        # check' to report, never to be skipped silently (it would be selected forever).
        raise RotationError("a data key could not be opened for rewrapping; run 'vault check'")
    updates = []
    for (candidate_id, _, _, _), new in zip(rows, rewrapped, strict=True):
        assert new is not None
        updates.append({"row": candidate_id, "version": new.kek_version,
                        "blob": new.blob, "at": now})
    # One executemany of a plain UPDATE: the ORM's bulk update by primary key spent more
    # time building each row's parameters than the key manager spent rewrapping it.
    session.execute(_REWRAPPED, updates)
    return len(updates) + resealed


_KEYS = CandidateKey.__table__
_REWRAPPED = (update(_KEYS).where(_KEYS.c.candidate_id == bindparam("row"))
              .values(kek_version=bindparam("version"), wrapped=bindparam("blob"),
                      rewrapped_at=bindparam("at")))


def retire_kek(session: Session, keys: VaultKeys, version: int, *,
               keyring_out: Path | None = None) -> None:
    """Destroy a KEK version and list it as retired in the database (flushed; the caller
    commits). Workers drop it at their next request, also those whose VAULT_KEYRING
    still holds it; that keyring, without the version, goes to keyring_out.

    Run it longer than KEYRING_CHECK_SECONDS after the rotation: until then a worker
    may still wrap new keys with the old primary.
    """
    if version == keys.keyring.primary:
        raise RotationError(f"KEK version {version} is the primary; rotate first")
    if keys.manager is not None and 0 < version < keys.keyring.primary:
        present = keys.manager.versions
        listed = current_state(session)[1]
        gone = [v for v in range(1, version + 1) if v not in present and v not in listed]
        if version in gone:
            # Destroyed in the key manager by a run that stopped before its commit:
            # listed now, or the other workers would never reload (and a PKCS#11
            # worker would keep its session copy of the destroyed version).
            keys.reload()
            for old in gone:
                advance(session, retired=old)
            return
    if version not in keys.keyring.versions:
        raise RotationError(f"KEK version {version} is not in the keyring")
    # A key manager may destroy older versions with it (Transit trims a prefix).
    doomed = keys.kek.retiring(version)
    for old in doomed:
        in_use = session.scalar(select(func.count()).select_from(CandidateKey).where(
            CandidateKey.kek_version == old)) or 0
        if in_use:
            raise RotationError(f"{in_use} data key(s) are still wrapped by KEK version {old}; "
                                "run 'vault rotate-kek' to finish rewrapping first")
        if totp.sealed_under(session, old):
            raise RotationError(f"staff TOTP secrets are still sealed by KEK version {old}; "
                                "run 'vault rotate-kek' to finish rewrapping first")
        if webhooks.sealed_under(session, old):
            raise RotationError(f"webhook secrets are still sealed by KEK version {old}; "
                                "run 'vault rotate-kek' to finish rewrapping first")
    try:
        destroyed = keys.kek.retire(version)
    except KeyringError as exc:
        raise RotationError(str(exc)) from None
    if keys.manager is not None:
        keys.reload()
    elif keyring_out is None:
        keys.save()
    else:
        keys.keyring.save(keyring_out)
    for old in destroyed:
        advance(session, retired=old)
