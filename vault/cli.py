"""Operator commands: `flask --app wsgi vault CMD` and the console script `vault CMD`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo

from vault.messages import message

vault_group = AppGroup("vault", help="Operate the recruitment-data vault.")


def require_secrets() -> None:
    """Every command but 'init' needs the keyring and secret key."""
    missing = current_app.extensions.get("vault.missing_secrets")
    if missing:
        raise click.ClickException(message("not_initialised", what=" and ".join(missing)))
    from vault.crypto.kek_backend import KeyManagerUnavailable
    from vault.keys import app_keys

    try:
        app_keys(current_app.extensions)  # loaded now if the key manager was down at start
    except KeyManagerUnavailable as exc:
        raise click.ClickException(f"{exc}; run the command again when it answers") from None


def add_commands() -> None:
    """Fill the `vault` group (idempotent): the console script lists them before an app
    exists."""
    from flask_migrate.cli import db as migrations

    from vault.commands import (
        api_clients,
        demo,
        erasure,
        exports,
        keys,
        mail,
        migrate_keys,
        reindex,
        retention,
        setup,
        users,
        vacancies,
        webhooks,
    )

    for module in (setup, keys, erasure, reindex, users, vacancies, exports, demo,
                   retention, mail, migrate_keys, api_clients, webhooks):
        for command in module.COMMANDS:
            vault_group.add_command(command)
    # `vault db upgrade` is the production upgrade step (Flask-Migrate's commands).
    vault_group.add_command(migrations, "db")


def init_app(app: Flask) -> None:
    add_commands()
    if "vault" not in app.cli.commands:
        app.cli.add_command(vault_group)


def main() -> None:
    """Console script: `vault CMD` is `flask --app wsgi vault CMD`."""
    from vault import create_app

    add_commands()
    # The group itself is the program (not a FlaskGroup wrapping it), so usage and help
    # say `vault CMD`, not `vault vault CMD`.
    info = ScriptInfo(create_app=lambda: create_app(), set_debug_flag=False,
                      load_dotenv_defaults=False)
    vault_group.main(args=sys.argv[1:], prog_name="vault", obj=info)
