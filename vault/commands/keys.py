"""`vault rotate-kek` and `vault retire-kek VERSION`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from vault.appctx import now, vault_keys
from vault.cli import require_secrets
from vault.extensions import db
from vault.services import audit
from vault.services.key_rotation import RotationError, pending_rewraps, retire_kek, rewrap_batch


@click.command("rotate-kek")
@click.option("--batch-size", default=1000, show_default=True, help="Keys rewrapped per commit.")
@with_appcontext
def rotate_kek_command(batch_size: int) -> None:
    """Make a new primary KEK and rewrap every data key with it (data is not re-encrypted).

    Resumable: if a previous run stopped half-way, this finishes rewrapping onto the
    current primary first instead of adding another version.
    """
    require_secrets()
    keys = vault_keys()
    session = db.session
    pending = pending_rewraps(session, keys)
    if pending:
        click.echo(f"Resuming: {pending} data key(s) still to rewrap onto KEK version "
                   f"{keys.keyring.primary}.")
    else:
        # The new version is saved before any key is wrapped with it: a crash after this
        # leaves keys that the saved keyring can still open.
        version = keys.keyring.rotate()
        keys.save()
        pending = pending_rewraps(session, keys)
        click.echo(f"New primary KEK version {version}; rewrapping {pending} data key(s).")
    done = 0
    with click.progressbar(length=pending, label="Rewrapping") as bar:
        while True:
            count = rewrap_batch(session, keys, batch_size, now=now())
            session.commit()
            if not count:
                break
            done += count
            bar.update(count)
    audit.record(session, audit.CLI, audit.KEK_ROTATED, now=now(),
                 detail=f"primary={keys.keyring.primary} rewrapped={done}")
    session.commit()
    click.echo(f"Done: {done} data key(s) now wrapped by KEK version {keys.keyring.primary}.")


@click.command("retire-kek")
@click.argument("version", type=int)
@with_appcontext
def retire_kek_command(version: int) -> None:
    """Destroy a KEK version. Refused while any data key is still wrapped by it."""
    require_secrets()
    try:
        retire_kek(db.session, vault_keys(), version)
    except RotationError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record(db.session, audit.CLI, audit.KEK_RETIRED, now=now(), detail=f"version={version}")
    db.session.commit()
    click.echo(f"KEK version {version} destroyed. Backups whose keys it wrapped can no longer "
               "be opened.")


COMMANDS = [rotate_kek_command, retire_kek_command]
