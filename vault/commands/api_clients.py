"""`vault create-api-client`: an API client from the command line (the token once)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from vault.appctx import now, vault_keys
from vault.cli import require_secrets
from vault.extensions import db
from vault.services import audit
from vault.services.api_clients import SCOPES, ApiClientError, create_client


@click.command("create-api-client")
@click.argument("name")
@click.option("--company", required=True, help="One of the group's companies.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="A scope the client may use (repeat for several).",
)
@click.option(
    "--expires-days",
    type=click.IntRange(1, 3650),
    default=365,
    show_default=True,
    help="Days until the token stops working.",
)
@with_appcontext
def create_api_client_command(
    name: str, company: str, scopes: tuple[str, ...], expires_days: int
) -> None:
    """Create an API client and print its token, once: it is stored only as a keyed hash
    and cannot be shown again."""
    require_secrets()
    moment = now()
    try:
        client, token = create_client(
            db.session,
            vault_keys().keyring,
            name=name,
            company=company,
            scopes=scopes,
            expires_at=moment + timedelta(days=expires_days),
            created_by=None,
            companies=current_app.config["COMPANIES"],
            now=moment,
            actor=audit.CLI,
        )
        db.session.commit()
    except ApiClientError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Created API client {client.id} ({client.company}, "
        f"{client.scopes}), valid until {client.expires_at:%Y-%m-%d}."
    )
    click.echo("Token (shown once, keep it in the client's secret store):", err=True)
    click.echo(token)


COMMANDS = [create_api_client_command]
