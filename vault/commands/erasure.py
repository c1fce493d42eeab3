"""`vault erase PUBLIC_ID` and `vault replay-erasures`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from vault.appctx import erasure_ledger, now
from vault.cli import require_secrets
from vault.extensions import db
from vault.models import Candidate
from vault.services import audit, erasure
from vault.services.replay import replay_erasures


@click.command("erase")
@click.argument("public_id")
@click.option("--category", type=click.Choice(sorted(erasure.CATEGORIES)),
              default="subject-request", show_default=True,
              help="Why the record is erased (a fixed category: free text could name the person).")
@with_appcontext
def erase_command(public_id: str, category: str) -> None:
    """Crypto-shred one record: its key, its ciphertexts and its search tokens."""
    require_secrets()
    candidate = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
    if candidate is None:
        raise click.ClickException("no record with that public id")
    result = erasure.erase_records(
        db.session, [candidate], reason=erasure.OPERATOR, category=category, now=now(),
        due_days=int(current_app.config["REQUEST_DUE_DAYS"]),
        ledger=erasure_ledger(), actor=audit.CLI)
    if result.held_back:
        raise click.ClickException(
            "that record is under a legal hold: nothing was erased; an open erasure "
            "request now waits in the privacy officer's queue until the hold is lifted")
    click.echo(f"Erased {public_id}.")
    if result.scrub_pending:
        click.echo("The database files are scrubbed by the next retention run "
                   "(a reader was holding the write-ahead log).")


@click.command("replay-erasures")
@with_appcontext
def replay_erasures_command() -> None:
    """After restoring a database backup: re-shred every record named in the erasure ledger."""
    require_secrets()
    result = replay_erasures(db.session, erasure_ledger(), now=now())
    click.echo(f"{result.entries} ledger entr{'y' if result.entries == 1 else 'ies'}; "
               f"re-erased {result.erased} record(s) that the restore had brought back.")


COMMANDS = [erase_command, replay_erasures_command]
