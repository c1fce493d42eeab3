"""`vault init`, `vault check` and `vault anchor-audit`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vault.appctx import erasure_ledger, now, vault_keys
from vault.cli import require_secrets
from vault.crypto import DecryptionError, Keyring, KeyringError, load_keyring
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.extensions import db
from vault.kek_settings import MANAGERS, init_manager, load_keys
from vault.models import (
    Candidate,
    CandidateIndex,
    CandidateKey,
    DataRequest,
    ErasureRecord,
    MailMessage,
)
from vault.services import audit, audit_anchor, erasure, requests
from vault.services.indexing import INDEX_VERSION
from vault.services.sealing import (
    RecordKeyMissing,
    check_opens,
    record_sealer,
    records_opened,
)


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
    if config.get("KEK_BACKEND") in MANAGERS:
        try:
            click.echo(init_manager(config, str(config["KEK_BACKEND"])))
        except (KeyringError, KeyManagerUnavailable) as exc:
            raise click.ClickException(str(exc)) from None
    elif config.get("KEYRING"):
        if load_keyring(config["KEYRING"], keyring_file).audit_key is None:
            raise click.ClickException(
                "VAULT_KEYRING has no audit key, and an environment variable cannot be "
                "rewritten from here: write its decoded JSON to a file (mode 0600), run "
                "'vault init' with VAULT_KEYRING unset and VAULT_KEYRING_FILE naming that "
                "file, then set VAULT_KEYRING to the file's base64 again.")
        click.echo("Keyring: from VAULT_KEYRING")
    elif keyring_file.exists():
        keyring = load_keyring(None, keyring_file)
        # Upgrade path: keyrings from before the keyed audit chain get their audit key once.
        if keyring.add_audit_key():
            keyring.save(keyring_file)
            click.echo(f"Added the audit key to {keyring_file}. Back the keyring up again.")
        click.echo(f"Keyring: kept the existing {keyring_file}")
    else:
        Keyring.generate().save(keyring_file)
        click.echo(f"Created the keyring in {keyring_file} (mode 0600). Back it up apart "
                   "from the database: without it nothing can be decrypted.")
    app.extensions["vault.keys"] = load_keys(config)
    app.extensions["vault.missing_secrets"] = []
    Path(config["MAIL_OUTBOX"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    upgrade()
    click.echo("Database is at the latest schema.")
    resealed = requests.reseal_unbound_details(db.session, vault_keys())
    db.session.commit()
    if resealed:
        click.echo(f"Re-sealed the details of {resealed} data request(s) under their own id.")
    _first_anchor()


def _first_anchor() -> None:
    """Before the first anchor exists: re-link under the key a chain written unkeyed by
    an older release (only if every link of it holds), then anchor its head. Once an
    anchor exists this never runs again: re-linking then is what an attacker would do."""
    path = Path(current_app.config["AUDIT_ANCHOR"])
    if audit_anchor.read(path):
        return
    session = db.session
    key = vault_keys().audit_chain_key
    state = audit.walk_chain(session, key)
    if state.broken_at is not None and state.unkeyed:
        try:
            count = audit.key_unkeyed_chain(session, key)
        except audit.ChainError as exc:
            session.rollback()
            click.echo(f"Audit trail left as it is: {exc}. 'vault check' reports it.", err=True)
            return
        audit.record(session, audit.CLI, audit.AUDIT_CHAIN_KEYED, now=now(), key=key,
                     detail=f"events={count}")
        session.commit()
        click.echo(f"Audit trail: {count} event(s) re-linked under the audit key.")
    elif state.broken_at is not None:
        click.echo(f"Audit trail: the chain is broken at event {state.broken_at}; no anchor "
                   "written. 'vault check' reports it.", err=True)
        return
    if audit_anchor.anchor_head(session, path, now=now()) is not None:
        click.echo(f"Audit trail anchored in {path}.")


# Records checked per batch: their data keys are unwrapped in one call to the KEK backend.
CHECK_BATCH = 200


@click.command("check")
@with_appcontext
def check_command() -> None:
    """Verify keys, ciphertexts, the erasure ledger, the audit chain and its anchors."""
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
    last_id = 0
    while True:
        batch = list(session.scalars(query.where(Candidate.id > last_id)
                                     .order_by(Candidate.id).limit(CHECK_BATCH)))
        if not batch:
            break
        last_id = batch[-1].id
        # The batch's data keys in one call to the KEK backend, dropped after it.
        with records_opened(keys, batch):
            for candidate in batch:
                requests = list(session.scalars(select(DataRequest).where(
                    DataRequest.subject_public_id == candidate.public_id)))
                mails = list(session.scalars(select(MailMessage).where(
                    MailMessage.candidate_id == candidate.id,
                    MailMessage.recipient.is_not(None))))
                try:
                    bad = check_opens(record_sealer(keys, candidate), candidate, requests,
                                      mails)
                except (DecryptionError, RecordKeyMissing):
                    bad = ["data key"]
                if bad:
                    failed += 1
                    problems.append(f"record {candidate.public_id}: cannot open "
                                    f"{', '.join(bad)}")
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
    problems.extend(_index_problems(session))
    problems.extend(_audit_problems(session))

    click.echo(f"{opened} record(s) open with every field; {len(ledger)} erasure(s) in the "
               f"ledger; KEK versions {keys.keyring.versions} (primary {keys.keyring.primary}).")
    if problems:
        for problem in problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise SystemExit(1)
    click.echo("All checks passed.")


def _index_problems(session: Session) -> list[str]:
    """Records whose search tokens come from an older analysis: search misses what they
    would be found by (prefixes, after an upgrade) until they are reindexed."""
    outdated = session.scalar(select(func.count(CandidateIndex.candidate_id)).where(
        CandidateIndex.analysis < INDEX_VERSION))
    if not outdated:
        return []
    return [f"{outdated} record(s) have search tokens from an older analysis (before "
            "prefix tokens): search misses them in part; run 'vault reindex --outdated'"]


def _audit_problems(session: Session) -> list[str]:
    """The keyed chain must hold, and agree with every binding anchor."""
    state = audit.walk_chain(session, vault_keys().audit_chain_key)
    if state.broken_at is not None:
        hint = (" (its links are unkeyed, from an older release: 'vault init' re-links a "
                "trail that holds, before the first anchor)" if state.unkeyed else "")
        return [f"the audit trail's hash chain is broken at event {state.broken_at}{hint}"]
    anchors = audit_anchor.read(Path(current_app.config["AUDIT_ANCHOR"]))
    disagreement = audit_anchor.compare(session, anchors)
    if disagreement is not None:
        return [disagreement.message()]
    binding = audit_anchor.current(anchors)
    if state.events and not binding:
        click.echo("Note: the audit trail has no anchor yet ('vault anchor-audit').")
    elif binding:
        click.echo(f"Audit trail: {state.events} event(s), anchored up to event "
                   f"{binding[-1].seq} at {binding[-1].at.isoformat()}.")
    return []


@click.command("anchor-audit")
@click.option("--restored", is_flag=True,
              help="After restoring a database backup: record that the events after the "
                   "restored head are lost, so later checks compare from here on.")
@with_appcontext
def anchor_audit_command(restored: bool) -> None:
    """Append the audit chain's head to the anchor file outside the database."""
    require_secrets()
    path = Path(current_app.config["AUDIT_ANCHOR"])
    session = db.session
    try:
        if restored:
            found = audit_anchor.acknowledge_restore(session, path, now=now(), actor=audit.CLI)
            if found is None:
                click.echo("The audit trail agrees with every anchor: nothing to acknowledge.")
                return
            disagreement, marker = found
            session.commit()
            audit_anchor.append(path, marker)
            click.echo(f"Restore recorded at event {marker.seq}: {disagreement.message()}")
            return
        anchor = audit_anchor.anchor_head(session, path, now=now())
    except audit_anchor.AnchorError as exc:
        raise click.ClickException(str(exc)) from None
    if anchor is None:
        click.echo("The audit trail is empty: nothing to anchor.")
    else:
        click.echo(f"Audit trail anchored at event {anchor.seq} in {path}.")


COMMANDS = [init_command, check_command, anchor_audit_command]
