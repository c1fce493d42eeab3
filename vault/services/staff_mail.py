"""Mail to staff members (password links, security notices), through the durable queue.

Sealed under the system key (staff have no record key); written in the language of the
page that caused it. Links start with PUBLIC_BASE_URL, never the request's Host header.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from vault.keys import VaultKeys
from vault.mail import OutgoingMail
from vault.models import User
from vault.services import audit, mail_queue, password_links
from vault.services.password_links import RESET, SETUP


def _url(endpoint: str, **values: str) -> str:
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return base + current_app.url_map.bind("localhost").build(endpoint, values)


def queue_password_link(session: Session, keys: VaultKeys, user: User, token: str,
                        purpose: str, *, now: datetime) -> None:
    link = _url("auth.set_password", token=token)
    if purpose == RESET:
        subject = _("Reset your password")
        body = render_template("mail/staff_password_reset.txt", link=link,
                               minutes=current_app.config["PASSWORD_RESET_MINUTES"])
    else:
        subject = _("Your account on the vault: choose your password")
        body = render_template("mail/staff_account_setup.txt", link=link,
                               hours=current_app.config["PASSWORD_SETUP_HOURS"],
                               login=_url("auth.login"))
    mail_queue.enqueue_for_staff(session, keys, OutgoingMail(to=user.email, subject=subject,
                                                             body=body),
                                 kind=mail_queue.STAFF_PASSWORD_LINK, now=now)


def queue_security_notice(session: Session, keys: VaultKeys, user: User, template: str,
                          subject: str, *, now: datetime) -> None:
    body = render_template(f"mail/{template}.txt", login=_url("auth.login"))
    mail_queue.enqueue_for_staff(session, keys, OutgoingMail(to=user.email, subject=subject,
                                                             body=body),
                                 kind=mail_queue.STAFF_SECURITY_NOTICE, now=now)


def send_setup_link(session: Session, keys: VaultKeys, user: User, *, now: datetime) -> None:
    """Mail a new account the single-use link to choose its first password."""
    hours = float(current_app.config["PASSWORD_SETUP_HOURS"])
    token = password_links.issue(session, user, SETUP, now=now, lifetime=timedelta(hours=hours))
    queue_password_link(session, keys, user, token, SETUP, now=now)
    audit.record(session, audit.SYSTEM, audit.PASSWORD_LINK_SENT, now=now,
                 detail=f"user={user.id} setup")
