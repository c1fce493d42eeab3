"""`vault retention [--dry-run]`: the hourly job that keeps "no longer than necessary" true."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from vault.appctx import now
from vault.cli import require_secrets
from vault.extensions import db
from vault.services import audit_anchor
from vault.services.notifications import send_consent_reminder
from vault.services.retention import run_retention


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Show what is due; change and send nothing.")
@with_appcontext
def retention_command(dry_run: bool) -> None:
    """Send due reminders, expire ended consents, shred what is due. Safe to re-run."""
    require_secrets()
    summary = run_retention(db.session, now=now(), config=current_app.config,
                            ledger_path=Path(current_app.config["ERASURE_LEDGER"]),
                            send=send_consent_reminder, dry_run=dry_run)
    for line in summary.lines():
        click.echo(line)
    if not dry_run:
        # The hourly run also anchors the audit chain's head outside the database, so at
        # most an hour of events can be cut from the end of the trail unseen.
        try:
            audit_anchor.anchor_head(db.session, Path(current_app.config["AUDIT_ANCHOR"]),
                                     now=now())
        except audit_anchor.AnchorError as exc:
            raise click.ClickException(f"audit anchor not written: {exc}") from None


COMMANDS = [retention_command]
