"""`vault export` and `vault import`: a person's data out, another system's data in."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from vault.appctx import now, secret_keys, vault_keys
from vault.cli import require_secrets
from vault.extensions import db
from vault.models import Candidate
from vault.privacy import NOTICE_VERSION
from vault.services import audit, exports, mail_queue, requests
from vault.services.bulkload import analyze_after_load, default_workers
from vault.services.candidates import records_of_person
from vault.services.imports import (
    MAX_FILE,
    FileRejected,
    import_file,
    import_jsonl_stream,
    is_json_lines,
)
from vault.services.notifications import (
    ask_imported_to_confirm,
    deliver_queued,
    import_confirmations,
)


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
@click.option("--workers", type=click.IntRange(0, 16), default=None,
              help="Processes that check and seal the records (default: one per CPU; 0: none).")
@with_appcontext
def import_command(file: Path, workers: int | None) -> None:
    """Import what `vault export` writes: export.zip (with its CV files), export.json,
    or JSON Lines (one record of the export schema per line, read as a stream, of any
    size). All or nothing."""
    require_secrets()
    moment, keys = now(), vault_keys()
    options = {"now": moment, "pool_months": int(current_app.config["TALENT_POOL_MONTHS"]),
               "notice_version": NOTICE_VERSION,
               "max_cv_bytes": int(current_app.config["MAX_CONTENT_LENGTH"]),
               "companies": current_app.config["COMPANIES"]}
    with file.open("rb") as stream:
        if is_json_lines(stream):
            # Counted in bytes: the number of lines is not known without reading them all.
            with click.progressbar(length=file.stat().st_size, label="Importing") as bar:
                try:
                    # Each new record is asked to confirm its address in the same
                    # transaction: its pending change and mail come with it, or nothing.
                    report = import_jsonl_stream(
                        db.session, keys, _Progress(stream, bar.update),
                        workers=default_workers(keys) if workers is None else workers,
                        confirmations=import_confirmations(moment),
                        secret_keys=secret_keys(), **options)
                except BaseException:
                    db.session.rollback()
                    raise
        elif file.stat().st_size > MAX_FILE:
            raise click.ClickException(
                f"{file} is larger than {MAX_FILE // (1024 * 1024)} MiB; nothing was imported.")
        else:
            try:
                report = import_file(db.session, keys, stream.read(), **options)
            except FileRejected as exc:
                db.session.rollback()
                raise click.ClickException(f"{exc}; nothing was imported.") from None
    if report.rejected:
        db.session.rollback()
        for number, reason in report.rejected:
            click.echo(f"{report.unit} {number}: {reason}", err=True)
        raise click.ClickException(
            f"{len(report.rejected)} {report.unit}(s) rejected; nothing was imported.")
    # Each imported record waits for its address to confirm (services.imports), asked
    # in the import's transaction: no record without its link. The mail is also how the
    # person learns that we hold data obtained from elsewhere.
    queued = report.queued  # JSON Lines: asked with the records, by the bulk path
    if report.public_ids:  # a whole file, imported record by record: asked here
        records = db.session.scalars(select(Candidate).where(
            Candidate.public_id.in_(report.public_ids)).order_by(Candidate.id)
            .options(selectinload(Candidate.key))).all()
        queued += ask_imported_to_confirm(db.session, keys, records, moment=moment,
                                          actor=audit.CLI)
    db.session.commit()
    analyze_after_load(db.session, report.imported)
    click.echo(f"Imported {report.imported} record(s).")
    click.echo(f"Queued {queued} confirmation link(s); an imported record joins the other "
               "records of its address once the address confirms.")
    click.echo(deliver_queued(db.session).line())
    # One delivery run sends MAIL_FLUSH_BATCH mails; a large import leaves the rest to
    # the sender, which the operator should know is running.
    waiting = mail_queue.stats(db.session, now()).queued
    if waiting:
        click.echo(f"{waiting} mail(s) still queued: `vault send-mail --loop` (or the "
                   "retention job) delivers them.")


class _Progress:
    """A binary file that reports how many bytes were read (for the progress bar)."""

    def __init__(self, stream: BinaryIO, advance: Callable[[int], None]) -> None:
        self.stream, self.advance = stream, advance

    def readline(self, limit: int = -1) -> bytes:
        line = self.stream.readline(limit)
        self.advance(len(line))
        return line


COMMANDS = [export_command, import_command]
