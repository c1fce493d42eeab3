"""`vault create-vacancy` and `vault close-vacancy`: vacancies from the command line."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from vault.appctx import now
from vault.cli import require_secrets
from vault.extensions import db
from vault.services.vacancies import (
    CONTRACT_TYPES,
    VacancyDetails,
    VacancyError,
    close_vacancy,
    create_vacancy,
    vacancy_by_slug,
)


@click.command("create-vacancy")
@click.option("--company", required=True, help="One of the group's companies.")
@click.option("--title", required=True)
@click.option("--location", default="")
@click.option("--description", default="")
@click.option("--contract-type", "contract_type", default="",
              type=click.Choice(["", *CONTRACT_TYPES]), help="Not stated when omitted.")
@click.option("--hours", type=int, default=None, help="Hours a week (1 to 60).")
@click.option("--posted", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date posted, YYYY-MM-DD (today when omitted; not in the future).")
@click.option("--slug", default=None, help="The URL name; made from the title when omitted.")
@with_appcontext
def create_vacancy_command(company: str, title: str, location: str, description: str,
                           contract_type: str, hours: int | None, posted: datetime | None,
                           slug: str | None) -> None:
    """Open a vacancy; prints its slug (its page is /jobs/SLUG, its form /apply/SLUG)."""
    require_secrets()
    details = VacancyDetails(location=location, description=description,
                             contract_type=contract_type, hours_per_week=hours,
                             posted_on=posted.date() if posted else None)
    try:
        vacancy = create_vacancy(db.session, company=company, title=title, details=details,
                                 slug=slug, companies=current_app.config["COMPANIES"],
                                 now=now())
        db.session.commit()
    except VacancyError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(vacancy.slug)


@click.command("close-vacancy")
@click.argument("slug")
@with_appcontext
def close_vacancy_command(slug: str) -> None:
    """Close a vacancy: its applications' retention clock starts now."""
    require_secrets()
    vacancy = vacancy_by_slug(db.session, slug)
    if vacancy is None:
        raise click.ClickException("No vacancy has that slug.")
    close_vacancy(vacancy, now=now())
    db.session.commit()
    click.echo(f"Closed {slug}.")


COMMANDS = [create_vacancy_command, close_vacancy_command]
