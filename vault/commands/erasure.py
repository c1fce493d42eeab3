"""`vault erase PUBLIC_ID` and `vault replay-erasures`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from vault.appctx import now
from vault.cli import require_secrets
from vault.extensions import db
from vault.models import Candidate
from vault.services import audit
from vault.services.candidates import erase_candidates
from vault.services.replay import replay_erasures


@click.command("erase")
@click.argument("public_id")
@click.option("--reason", default="operator", show_default=True)
@with_appcontext
def erase_command(public_id: str, reason: str) -> None:
    """Crypto-shred one record: its key, its ciphertexts and its search tokens."""
    require_secrets()
    candidate = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
    if candidate is None:
        raise click.ClickException("no record with that public id")
    if candidate.legal_hold:
        raise click.ClickException("that record is under a legal hold; lift the hold first")
    erase_candidates(db.session, [candidate], reason=reason, now=now(),
                     ledger_path=Path(current_app.config["ERASURE_LEDGER"]), actor=audit.CLI)
    click.echo(f"Erased {public_id}.")


@click.command("replay-erasures")
@with_appcontext
def replay_erasures_command() -> None:
    """After restoring a database backup: re-shred every record named in the erasure ledger."""
    require_secrets()
    result = replay_erasures(db.session, Path(current_app.config["ERASURE_LEDGER"]), now=now())
    click.echo(f"{result.entries} ledger entr{'y' if result.entries == 1 else 'ies'}; "
               f"re-erased {result.erased} record(s) that the restore had brought back.")


COMMANDS = [erase_command, replay_erasures_command]
