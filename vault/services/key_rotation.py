"""KEK rotation: rewrap data keys (never re-encrypt data), then retire old versions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vault.crypto import WrappedKey, rewrap_data_key
from vault.keys import VaultKeys
from vault.models import Candidate, CandidateKey
from vault.services import totp
from vault.services.keyring_state import advance


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
    rows = session.execute(
        select(CandidateKey.candidate_id, CandidateKey.kek_version, CandidateKey.wrapped,
               Candidate.public_id)
        .join(Candidate, Candidate.id == CandidateKey.candidate_id)
        .where(CandidateKey.kek_version != keyring.primary,
               CandidateKey.kek_version.in_(keyring.versions))
        .limit(batch_size)).all()
    if not rows:
        return resealed
    updates = []
    for candidate_id, version, wrapped, public_id in rows:
        new = rewrap_data_key(keyring, WrappedKey(version, wrapped), public_id)
        updates.append({"candidate_id": candidate_id, "kek_version": new.kek_version,
                        "wrapped": new.blob, "rewrapped_at": now})
    session.execute(update(CandidateKey), updates)
    return len(updates) + resealed


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
    if version not in keys.keyring.versions:
        raise RotationError(f"KEK version {version} is not in the keyring")
    in_use = session.scalar(select(func.count()).select_from(CandidateKey).where(
        CandidateKey.kek_version == version)) or 0
    if in_use:
        raise RotationError(f"{in_use} data key(s) are still wrapped by KEK version {version}; "
                            "run 'vault rotate-kek' to finish rewrapping first")
    if totp.sealed_under(session, version):
        raise RotationError(f"staff TOTP secrets are still sealed by KEK version {version}; "
                            "run 'vault rotate-kek' to finish rewrapping first")
    keys.keyring.retire(version)
    if keyring_out is None:
        keys.save()
    else:
        keys.keyring.save(keyring_out)
    advance(session, retired=version)
