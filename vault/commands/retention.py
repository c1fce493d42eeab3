"""`vault retention [--dry-run]`: the hourly job that keeps "no longer than necessary" true."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from vault.appctx import erasure_ledger, now
from vault.cli import require_secrets
from vault.extensions import db
from vault.services.notifications import send_consent_reminder
from vault.services.retention import run_retention


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Show what is due; change and send nothing.")
@with_appcontext
def retention_command(dry_run: bool) -> None:
    """Send due reminders, expire ended consents, shred what is due. Safe to re-run."""
    require_secrets()
    summary = run_retention(db.session, now=now(), config=current_app.config,
                            ledger=erasure_ledger(),
                            send=send_consent_reminder, dry_run=dry_run)
    for line in summary.lines():
        click.echo(line)


COMMANDS = [retention_command]
