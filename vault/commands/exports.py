"""`vault export` and `vault import`: a person's data out, another system's data in."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from vault.appctx import now, secret_keys, vault_keys
from vault.cli import require_secrets
from vault.extensions import db
from vault.models import Candidate
from vault.privacy import NOTICE_VERSION
from vault.services import audit, exports, identity, requests
from vault.services.candidates import records_of_person
from vault.services.imports import MAX_FILE, FileRejected, import_file
from vault.services.notifications import deliver_queued, queue_email_change


def _write_private(path: Path, data: bytes) -> None:
    # The file holds a person's data in the clear: readable by its owner only, set on
    # the open descriptor before a byte is written (an existing file keeps no wider
    # mode), and never through a symbolic link someone else may have planted.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)


@click.command("export")
@click.argument("public_id")
@click.option("--format", "fmt", type=click.Choice(sorted(exports.EXPORT_FILENAMES)),
              required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export_command(public_id: str, fmt: str, output: Path) -> None:
    """Export everything held on the person of PUBLIC_ID (all their records)."""
    require_secrets()
    anchor = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
    if anchor is None:
        raise click.ClickException("No record has that public id.")
    moment = now()
    records = records_of_person(db.session, anchor)
    body = exports.render(db.session, vault_keys(), records, fmt, now=moment)
    requests.log_request(db.session, public_id, "export", channel=requests.CLI, now=moment,
                         due_days=0, fulfilled=True)
    for record in records:
        audit.record(db.session, audit.CLI, audit.CANDIDATE_EXPORTED, now=moment,
                     subject=record.public_id, detail=fmt)
    try:
        _write_private(output, body)
    except OSError as exc:
        db.session.rollback()  # nothing was handed out, so nothing is logged
        raise click.ClickException(f"Cannot write {output}: {exc.strerror}.") from None
    try:
        db.session.commit()
    except Exception:
        # An export the audit trail does not show must not stay on disk.
        output.unlink(missing_ok=True)
        raise
    click.echo(f"Wrote {len(records)} record(s) to {output} ({fmt}).")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file: Path) -> None:
    """Import what `vault export` writes: export.zip (with its CV files), export.json,
    or JSON Lines (one record of the export schema per line). All or nothing."""
    require_secrets()
    if file.stat().st_size > MAX_FILE:
        raise click.ClickException(
            f"{file} is larger than {MAX_FILE // (1024 * 1024)} MiB; nothing was imported.")
    try:
        report = import_file(
            db.session, vault_keys(), file.read_bytes(), now=now(),
            pool_months=int(current_app.config["TALENT_POOL_MONTHS"]),
            notice_version=NOTICE_VERSION,
            max_cv_bytes=int(current_app.config["MAX_CONTENT_LENGTH"]),
            companies=current_app.config["COMPANIES"])
    except FileRejected as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc}; nothing was imported.") from None
    if report.rejected:
        db.session.rollback()
        for number, reason in report.rejected:
            click.echo(f"{report.unit} {number}: {reason}", err=True)
        raise click.ClickException(
            f"{len(report.rejected)} {report.unit}(s) rejected; nothing was imported.")
    db.session.commit()
    click.echo(f"Imported {report.imported} record(s).")
    # Each imported record waits for its address to confirm (services.imports). The
    # mail is also how the person learns that we hold data obtained from elsewhere.
    moment = now()
    records = db.session.scalars(select(Candidate).where(
        Candidate.public_id.in_(report.public_ids)).order_by(Candidate.id)).all()
    queued = 0
    for record in records:
        ticket = identity.ask_to_confirm(
            db.session, vault_keys(), record, now=moment,
            lifetime_hours=int(current_app.config["EMAIL_CHANGE_MAX_AGE_HOURS"]),
            secret_keys=secret_keys(), requested_by=identity.IMPORT, actor=audit.CLI)
        if ticket is not None:
            queue_email_change(db.session, vault_keys(), record, ticket, imported=True)
            queued += 1
    db.session.commit()
    click.echo(f"Queued {queued} confirmation link(s); an imported record joins the other "
               "records of its address once the address confirms.")
    click.echo(deliver_queued(db.session).line())


COMMANDS = [export_command, import_command]
