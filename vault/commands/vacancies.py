"""`vault create-vacancy` and `vault close-vacancy`: vacancies from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from vault.appctx import now
from vault.cli import require_secrets
from vault.extensions import db
from vault.services.vacancies import VacancyError, close_vacancy, create_vacancy, vacancy_by_slug


@click.command("create-vacancy")
@click.option("--company", required=True, help="One of the group's companies.")
@click.option("--title", required=True)
@click.option("--location", default="")
@click.option("--description", default="")
@click.option("--slug", default=None, help="The URL name; made from the title when omitted.")
@with_appcontext
def create_vacancy_command(company: str, title: str, location: str, description: str,
                           slug: str | None) -> None:
    """Open a vacancy; prints its slug (the application form is /apply/SLUG)."""
    require_secrets()
    try:
        vacancy = create_vacancy(db.session, company=company, title=title, location=location,
                                 description=description, slug=slug,
                                 companies=current_app.config["COMPANIES"], now=now())
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
