"""`vault init` and `vault check`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from vault.appctx import erasure_ledger, vault_keys
from vault.cli import require_secrets
from vault.crypto import DecryptionError, Keyring
from vault.extensions import db
from vault.keys import VaultKeys
from vault.models import Candidate, CandidateKey, DataRequest, ErasureRecord, MailMessage
from vault.services import audit, erasure
from vault.services.sealing import RecordKeyMissing, check_opens, record_sealer


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the secret key and keyring (never overwriting them) and migrate the database."""
    app = current_app
    config = app.config
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    os.chmod(instance, 0o700)
    if not config.get("SECRET_KEY"):
        key_file = Path(config["SECRET_KEY_FILE"])
        if not key_file.exists():
            _write_secret(key_file, secrets.token_urlsafe(48))
            click.echo(f"Created the secret key in {key_file}")
        config["SECRET_KEY"] = key_file.read_text().strip()
    keyring_file = Path(config["KEYRING_FILE"])
    if config.get("KEYRING"):
        click.echo("Keyring: from VAULT_KEYRING")
    elif keyring_file.exists():
        click.echo(f"Keyring: kept the existing {keyring_file}")
    else:
        Keyring.generate().save(keyring_file)
        click.echo(f"Created the keyring in {keyring_file} (mode 0600). Back it up apart "
                   "from the database: without it nothing can be decrypted.")
    app.extensions["vault.keys"] = VaultKeys.load(
        config.get("KEYRING"), keyring_file, int(config["BLIND_INDEX_BITS"]))
    app.extensions["vault.missing_secrets"] = []
    Path(config["MAIL_OUTBOX"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    upgrade()
    click.echo("Database is at the latest schema.")


@click.command("check")
@with_appcontext
def check_command() -> None:
    """Verify keys, ciphertexts, the erasure ledger and the audit chain."""
    require_secrets()
    keys = vault_keys()
    problems: list[str] = []
    session = db.session

    no_key = session.scalar(select(func.count(Candidate.id)).outerjoin(CandidateKey)
                            .where(CandidateKey.candidate_id.is_(None)))
    if no_key:
        problems.append(f"{no_key} candidate record(s) have no data key")
    versions = set(session.scalars(select(CandidateKey.kek_version).distinct()))
    for version in sorted(versions - set(keys.keyring.versions)):
        count = session.scalar(select(func.count()).where(CandidateKey.kek_version == version))
        problems.append(
            f"{count} data key(s) are wrapped by KEK version {version}, which is not in the "
            "keyring (retired or never known): those records cannot be opened. If this "
            "database was restored from a backup older than that retirement, this is "
            "crypto-shredding working as intended.")

    opened = failed = 0
    usable = set(keys.keyring.versions)
    query = select(Candidate).join(CandidateKey).where(CandidateKey.kek_version.in_(usable))
    for candidate in session.scalars(query.execution_options(yield_per=200)):
        requests = list(session.scalars(select(DataRequest).where(
            DataRequest.subject_public_id == candidate.public_id)))
        mails = list(session.scalars(select(MailMessage).where(
            MailMessage.candidate_id == candidate.id, MailMessage.recipient.is_not(None))))
        try:
            bad = check_opens(record_sealer(keys, candidate), candidate, requests, mails)
        except (DecryptionError, RecordKeyMissing):
            bad = ["data key"]
        if bad:
            failed += 1
            problems.append(f"record {candidate.public_id}: cannot open {', '.join(bad)}")
        else:
            opened += 1

    ledger = {e.public_id for e in erasure_ledger().read()}
    ledger |= set(session.scalars(select(ErasureRecord.public_id)))
    live = set(session.scalars(select(Candidate.public_id).where(Candidate.public_id.in_(ledger))))
    live_details = set(session.scalars(select(DataRequest.subject_public_id).where(
        DataRequest.subject_public_id.in_(ledger), DataRequest.details.is_not(None))))
    for public_id in sorted(live | live_details):
        problems.append(f"erased record {public_id} still has data: run 'vault replay-erasures'")

    problems.extend(erasure.problems(session))

    broken = audit.verify_chain(session)
    if broken is not None:
        problems.append(f"the audit trail's hash chain is broken at event {broken}")

    click.echo(f"{opened} record(s) open with every field; {len(ledger)} erasure(s) in the "
               f"ledger; KEK versions {keys.keyring.versions} (primary {keys.keyring.primary}).")
    if problems:
        for problem in problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise SystemExit(1)
    click.echo("All checks passed.")


COMMANDS = [init_command, check_command]
