"""`vault retention [--dry-run]`: the hourly job that keeps "no longer than necessary" true."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from vault.appctx import erasure_ledger, now, vault_keys
from vault.cli import require_secrets
from vault.database import JobBusy, job_lock
from vault.extensions import db
from vault.models import Candidate
from vault.services import audit_anchor
from vault.services.notifications import deliver_queued, queue_consent_reminder
from vault.services.retention import run_retention


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Show what is due; change and send nothing.")
@with_appcontext
def retention_command(dry_run: bool) -> None:
    """Queue due reminders, expire ended consents, shred what is due, deliver queued mail.
    Safe to re-run."""
    require_secrets()

    def queue_reminder(records: list[Candidate], kind: str, expires_at: datetime) -> bool:
        # Queued in the transaction that records the reminder: once-only and never lost.
        return queue_consent_reminder(db.session, vault_keys(), records, kind, expires_at)

    try:
        # Two hosts with the same cron line: one runs, the other says so and leaves.
        with job_lock(db.engine, "retention"):
            summary = run_retention(db.session, now=now(), config=current_app.config,
                                    ledger=erasure_ledger(),
                                    send=queue_reminder, dry_run=dry_run)
            for line in summary.lines():
                click.echo(line)
            if not dry_run:
                # The hourly job is also a sender: mail left while the server was down
                # goes now (the queue's claims keep other senders off the same message).
                click.echo(deliver_queued(db.session).line())
                # It also anchors the audit chain's head outside the database, so at
                # most an hour of events can be cut from the end of the trail unseen.
                try:
                    audit_anchor.anchor_head(db.session,
                                             Path(current_app.config["AUDIT_ANCHOR"]),
                                             now=now())
                except audit_anchor.AnchorError as exc:
                    raise click.ClickException(f"audit anchor not written: {exc}") from None
    except JobBusy:
        click.echo("Another retention run is in progress (on this host or another); "
                   "nothing done.")


COMMANDS = [retention_command]
