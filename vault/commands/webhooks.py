"""`vault send-webhooks [--loop] [--retry-failed]`: the sender of erasure notices."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from vault.appctx import now, recheck_keys, vault_keys
from vault.cli import require_secrets
from vault.commands.mail import pause
from vault.extensions import db
from vault.services import webhooks


@click.command("send-webhooks")
@click.option(
    "--loop", is_flag=True, help="Keep running, one run every WEBHOOK_WORKER_INTERVAL seconds."
)
@click.option(
    "--retry-failed", is_flag=True, help="First put notices that gave up back in the queue."
)
@with_appcontext
def send_webhooks_command(loop: bool, retry_failed: bool) -> None:
    """Post due erasure notices to API clients (retries with backoff; safe on every host)."""
    require_secrets()
    if retry_failed:
        count = webhooks.retry_failed(db.session, now=now())
        db.session.commit()
        click.echo(f"notices queued again: {count}")
    interval = float(current_app.config["WEBHOOK_WORKER_INTERVAL"])
    while True:
        try:
            _send_once()
        except SQLAlchemyError as exc:
            if not loop:
                raise
            # The database is away for a moment: nothing is lost, the outbox is in it.
            db.session.rollback()
            click.echo(f"webhook run failed ({exc.__class__.__name__}); trying again", err=True)
        if not loop:
            return
        pause(interval)


def _send_once() -> None:
    recheck_keys()  # a long-running worker follows key rotations like a web worker
    result = webhooks.flush(
        db.session, vault_keys(), now=now(), config=current_app.config, clock=now
    )
    click.echo(result.line())
    failed = webhooks.stats(db.session)[webhooks.FAILED]
    db.session.commit()
    if failed:
        click.echo(
            f"notices failed for good: {failed} (see the delivery log on the desk; "
            "fix the receiver, then 'vault send-webhooks --retry-failed')"
        )


COMMANDS = [send_webhooks_command]
