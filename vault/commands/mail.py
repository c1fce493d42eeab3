"""`vault send-mail [--loop] [--retry-failed]`: the mail queue's sender."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from vault.appctx import now, recheck_keys
from vault.cli import require_secrets
from vault.extensions import db
from vault.services import mail_queue
from vault.services.notifications import deliver_queued


def pause(seconds: float) -> None:
    """The wait between two runs of --loop (its own name, so tests replace this one wait
    and not time.sleep for the whole process)."""
    time.sleep(seconds)


@click.command("send-mail")
@click.option("--loop", is_flag=True,
              help="Keep running, one delivery run every MAIL_WORKER_INTERVAL seconds.")
@click.option("--retry-failed", is_flag=True,
              help="First put messages that gave up back in the queue.")
@with_appcontext
def send_mail_command(loop: bool, retry_failed: bool) -> None:
    """Deliver due mail from the queue (retries with backoff; safe to run on every host)."""
    require_secrets()
    if retry_failed:
        count = mail_queue.retry_failed(db.session, now=now())
        db.session.commit()
        click.echo(f"messages queued again: {count}")
    interval = float(current_app.config["MAIL_WORKER_INTERVAL"])
    while True:
        try:
            _deliver_once()
        except SQLAlchemyError as exc:
            if not loop:
                raise
            # The database is away for a moment: the worker outlives it (nothing is lost,
            # the queue is in the database).
            db.session.rollback()
            click.echo(f"delivery run failed ({exc.__class__.__name__}); trying again", err=True)
        if not loop:
            return
        pause(interval)


def _deliver_once() -> None:
    recheck_keys()  # a long-running worker follows key rotations like a web worker
    click.echo(deliver_queued(db.session).line())
    stats = mail_queue.stats(db.session, now())
    db.session.commit()
    if stats.failed:
        click.echo(f"messages failed for good: {stats.failed} "
                   f"(fix the cause, then 'vault send-mail --retry-failed')")


COMMANDS = [send_mail_command]
