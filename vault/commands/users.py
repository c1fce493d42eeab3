"""`vault create-user`: staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from vault.appctx import now, vault_keys
from vault.cli import require_secrets
from vault.extensions import db
from vault.services import audit, second_factor, staff_mail
from vault.services.users import ROLES, UserError, create_user, find_by_email


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--company", required=True, help="One of the group's companies.")
@click.option("--name", "display_name", default="",
              help="The person's name, shown to the privacy officer (audit trail, notes).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@with_appcontext
def create_user_command(email: str, role: str, company: str, display_name: str,
                        password_stdin: bool) -> None:
    """Create a staff account (recruiter or admin, the privacy officer)."""
    require_secrets()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        # Never a command-line argument: it would sit in shell history and the process list.
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session, email=email, password=password, role=role,
                           company=company, companies=current_app.config["COMPANIES"],
                           now=now(), actor=audit.CLI, display_name=display_name)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.role} account {user.id} for {company}.")


@click.command("reset-second-factor")
@click.argument("email")
@with_appcontext
def reset_second_factor_command(email: str) -> None:
    """Remove a staff member's second factor (a lost phone, and no officer who can log in
    to do it on the users page); their sessions end and they enrol again at next login."""
    require_secrets()
    user = find_by_email(db.session, email)
    if user is None:
        raise click.ClickException("No staff account has that e-mail address.")
    moment = now()
    second_factor.reset(db.session, user, now=moment, actor=audit.CLI)
    staff_mail.queue_security_notice(db.session, vault_keys(), user,
                                     "staff_second_factor_reset",
                                     _("Your second factor was reset"), now=moment)
    db.session.commit()
    click.echo(f"Second factor of account {user.id} removed; the owner was told by e-mail.")


COMMANDS = [create_user_command, reset_second_factor_command]
