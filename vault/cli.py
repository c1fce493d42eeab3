"""Operator commands: `flask --app wsgi vault CMD` and the console script `vault CMD`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from vault.messages import message

vault_group = AppGroup("vault", help="Operate the recruitment-data vault.")


def require_secrets() -> None:
    """Every command but 'init' needs the keyring and secret key."""
    missing = current_app.extensions.get("vault.missing_secrets")
    if missing:
        raise click.ClickException(message("not_initialised", what=" and ".join(missing)))


def init_app(app: Flask) -> None:
    from vault.commands import (
        demo,
        erasure,
        exports,
        keys,
        mail,
        reindex,
        retention,
        setup,
        users,
        vacancies,
    )

    for module in (setup, keys, erasure, reindex, users, vacancies, exports, demo,
                   retention, mail):
        for command in module.COMMANDS:
            vault_group.add_command(command)
    if "vault" not in app.cli.commands:
        app.cli.add_command(vault_group)


def main() -> None:
    """Console script: `vault CMD` is `flask --app wsgi vault CMD`."""
    from vault import create_app

    group = FlaskGroup(create_app=lambda: create_app(), add_default_commands=False,
                       load_dotenv=False, set_debug_flag=False)
    group.main(args=["vault", *sys.argv[1:]], prog_name="vault")
