"""`vault migrate-keys --to transit|file`: move the KEKs to another backend."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from vault.appctx import now, vault_keys
from vault.cli import require_secrets
from vault.crypto import KeyringError
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.extensions import db
from vault.kek_settings import MANAGERS, manager_backends, roots_file
from vault.services import audit
from vault.services.key_migration import (
    TARGETS,
    MigrationError,
    file_target,
    manager_target,
    migrate_batch,
    pending,
    refuse_transient,
    reseal_totp,
)


@click.command("migrate-keys")
@click.option("--to", "target", type=click.Choice(TARGETS), required=True)
@click.option("--batch-size", default=1000, show_default=True, help="Keys moved per commit.")
@with_appcontext
def migrate_keys_command(target: str, batch_size: int) -> None:
    """Rewrap every data key with the KEKs of another backend (data is not re-encrypted).

    Stop the workers first. Resumable: run it again after an interruption. Then set
    VAULT_KEK_BACKEND to the target, start the workers and run 'vault check'.
    """
    require_secrets()
    config = current_app.config
    source = vault_keys()
    current = source.kek.name
    if current == target:
        raise click.ClickException(f"the KEKs are in {target} already (VAULT_KEK_BACKEND)")
    session = db.session
    try:
        refuse_transient(session, now())
        if target in MANAGERS:
            manager, roots = manager_backends(config, target)
            target_keys = manager_target(source, manager, roots, roots_file(config, target))
        else:
            target_keys = file_target(source, Path(config["KEYRING_FILE"]))
        todo = pending(session, target)
        click.echo(f"Moving {todo} data key(s) from {current} to {target}.")
        done = after = 0
        with click.progressbar(length=todo, label="Rewrapping") as bar:
            while True:
                count, after = migrate_batch(session, source, target_keys, target, after,
                                             batch_size, now=now())
                session.commit()
                if not after:
                    break
                done += count
                bar.update(count)
        resealed = reseal_totp(session, source, target_keys)
        audit.record(session, audit.CLI, audit.KEK_ROTATED, now=now(),
                     detail=f"migrated={current}->{target} rewrapped={done} totp={resealed}")
        session.commit()
    except (MigrationError, KeyringError, KeyManagerUnavailable) as exc:
        session.rollback()
        raise click.ClickException(f"{exc} (what is done so far is kept: run it again)") \
            from None
    click.echo(f"Done: {done} data key(s) and {resealed} TOTP secret(s) moved to {target}. "
               f"Set VAULT_KEK_BACKEND={target}, start the workers and run 'vault check'.")
    if current == "file" and config.get("KEYRING") is None:
        click.echo(f"Then destroy the old keyring {config['KEYRING_FILE']} and its copies "
                   "(shred it): until then its KEKs still open what it wrapped.")


COMMANDS = [migrate_keys_command]
