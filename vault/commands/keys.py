"""`vault rotate-kek` and `vault retire-kek VERSION`.

Both advance the keyring generation in the database with their work, so every running
worker reloads its keyring at its next request. A keyring from VAULT_KEYRING cannot be
rewritten from here: with `--keyring-out FILE` the commands write the new keyring to a
file for the operator to put into the secret store, followed by a rolling restart.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec

import click
from flask.cli import with_appcontext

from vault.appctx import now, vault_keys
from vault.cli import require_secrets
from vault.crypto import Keyring
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.extensions import db
from vault.keys import VaultKeys
from vault.services import api_clients, audit
from vault.services.key_rotation import RotationError, pending_rewraps, retire_kek, rewrap_batch
from vault.services.keyring_state import advance

P = ParamSpec("P")
KEYRING_OUT = click.option(
    "--keyring-out", type=click.Path(dir_okay=False, path_type=Path),
    help="With VAULT_KEYRING: write the new keyring to this new file (mode 0600) for the "
         "secret store, instead of rewriting the keyring file.")
ENV_ONLY = ("--keyring-out is for a keyring from VAULT_KEYRING; this keyring is the file {path}, "
            "which the command rewrites itself.")
ENV_NEEDS_OUT = ("The keyring comes from VAULT_KEYRING, which this command cannot rewrite. Run it "
                 "with --keyring-out FILE, put the new keyring into the secret store "
                 "(VAULT_KEYRING=$(base64 -w0 FILE)), restart the workers one by one, then "
                 "{then}.")
ROLL_OUT = ("Wrote the new keyring to {path}. Set VAULT_KEYRING to its base64 "
            "(base64 -w0 {path}), restart the services on every host one by one (a restart, "
            "not a reload: the environment is read at start), then {then}. Delete {path} "
            "afterwards.")


def _check_out(keys: VaultKeys, keyring_out: Path | None, then: str) -> None:
    if keys.manager is not None:
        # The key manager keeps its versions itself: there is no keyring to write out.
        if keyring_out is not None:
            raise click.ClickException("--keyring-out is for a keyring from VAULT_KEYRING; "
                                       "the KEKs are in the key manager.")
        return
    if keys.path is not None and keyring_out is not None:
        raise click.ClickException(ENV_ONLY.format(path=keys.path))
    if keys.path is None and keyring_out is None:
        raise click.ClickException(ENV_NEEDS_OUT.format(then=then))
    if keyring_out is not None and keyring_out.exists():
        # It could be the only copy of a keyring: never overwritten.
        raise click.ClickException(f"{keyring_out} exists; name a new file")


def _write_out(keyring: Keyring, keyring_out: Path) -> None:
    try:
        keyring.save(keyring_out)
    except OSError as exc:
        raise click.ClickException(f"cannot write {keyring_out}: {exc.strerror}") from None


def _key_manager_errors(command: Callable[P, None]) -> Callable[P, None]:
    """A key manager that stops answering mid-run: the batch in flight is rolled back
    and the command says so, resumable, instead of a traceback."""
    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except KeyManagerUnavailable as exc:
            db.session.rollback()
            raise click.ClickException(f"{exc}; nothing of the batch in flight was written: "
                                       "run the command again when it answers") from None
    return run


@click.command("rotate-kek")
@click.option("--batch-size", default=1000, show_default=True, help="Keys rewrapped per commit.")
@KEYRING_OUT
@with_appcontext
@_key_manager_errors
def rotate_kek_command(batch_size: int, keyring_out: Path | None) -> None:
    """Make a new primary KEK and rewrap every data key with it (data is not re-encrypted).

    Resumable: if a previous run stopped half-way, this finishes rewrapping onto the
    current primary first instead of adding another version. With VAULT_KEYRING, run it
    twice: with --keyring-out FILE (new version, for the secret store), and after the
    restart with the new VAULT_KEYRING (rewraps onto it).
    """
    require_secrets()
    keys = vault_keys()
    session = db.session
    pending = pending_rewraps(session, keys)
    if pending and keyring_out is None:
        click.echo(f"Resuming: {pending} data key(s) still to rewrap onto KEK version "
                   f"{keys.keyring.primary}.")
    elif pending:
        raise click.ClickException(
            f"{pending} data key(s) are not yet on KEK version {keys.keyring.primary}: run "
            "'vault rotate-kek' without --keyring-out first to finish rewrapping.")
    else:
        _check_out(keys, keyring_out, then="run 'vault rotate-kek' again to rewrap")
        if keyring_out is not None:
            # Nothing is wrapped by the new version until every worker holds it: the
            # rewrap is the second run, after the restart. A copy: this process keeps
            # wrapping with what the running workers hold.
            new = Keyring.from_json(keys.keyring.to_json())
            version = new.rotate()
            _write_out(new, keyring_out)
            click.echo(f"New primary KEK version {version}.")
            click.echo(ROLL_OUT.format(path=keyring_out,
                                       then="run 'vault rotate-kek' again to rewrap"))
            return
        # The new version is saved (or made in the key manager) before any key is wrapped
        # with it: a crash after this leaves keys that the saved keyring can still open.
        version = keys.rotate()
        pending = pending_rewraps(session, keys)
        click.echo(f"New primary KEK version {version}; rewrapping {pending} data key(s).")
    # Committed before the first rewrapped key: every worker loads the new version at its
    # next request, before it can meet a key wrapped by it (or wrap one with the old).
    advance(session)
    session.commit()
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
@KEYRING_OUT
@with_appcontext
@_key_manager_errors
def retire_kek_command(version: int, keyring_out: Path | None) -> None:
    """Destroy a KEK version. Refused while any data key is still wrapped by it."""
    require_secrets()
    keys = vault_keys()
    _check_out(keys, keyring_out, then="delete the old keyring from the secret store")
    # Said, not refused: an API token is only rehashed when its client calls, and a
    # client that never calls must not hold a KEK version alive; the officer issues
    # a new token to those named here.
    ending = api_clients.hashed_under(db.session, keys.kek.retiring(version), now=now())
    try:
        retire_kek(db.session, keys, version, keyring_out=keyring_out)
    except RotationError as exc:
        raise click.ClickException(str(exc)) from None
    audit.record(db.session, audit.CLI, audit.KEK_RETIRED, now=now(), detail=f"version={version}")
    db.session.commit()
    if ending:
        click.echo(f"{len(ending)} API client token(s) not used since the rotation stop "
                   f"working ({', '.join(ending)}): issue new ones on the privacy desk.")
    if keyring_out is not None:
        click.echo(f"KEK version {version} retired: no worker uses it from now on.")
        click.echo(ROLL_OUT.format(path=keyring_out,
                                   then="delete the old keyring from the secret store"))
        return
    click.echo(f"KEK version {version} destroyed. Backups whose keys it wrapped can no longer "
               "be opened.")


COMMANDS = [rotate_kek_command, retire_kek_command]
