"""The mails the vault sends to candidates, and what happens when sending fails.

A failed send never undoes what the person did (the application is saved); the page
tells them to ask for a new link instead. Only the error's class is logged: its
message could quote the address.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app

from vault.appctx import now, vault_keys
from vault.mail import MailError, OutgoingMail, render_mail, send_mail
from vault.models import Candidate, Vacancy
from vault.personal_links import (
    email_confirmation_url,
    renewal_url,
    request_link_url,
    self_service_url,
)
from vault.services.candidates import open_candidate

log = logging.getLogger(__name__)


def _send(mail: OutgoingMail) -> bool:
    try:
        send_mail(mail)
    except MailError as exc:
        log.warning("mail not sent: %s", exc.__class__.__name__)
        return False
    return True


def _link_context(public_id: str) -> dict[str, object]:
    days = current_app.config["LINK_MAX_AGE_DAYS"]
    return {"link": self_service_url(public_id), "link_days": days,
            "link_expires": (now() + timedelta(days=days)).date().isoformat()}


def send_application_received(candidate: Candidate, email: str, *,
                              vacancy: Vacancy | None) -> bool:
    body = render_mail(
        "application_received", vacancy=vacancy,
        pool_until=candidate.pool_consent_until.date().isoformat()
        if candidate.pool_consent_until else None,
        retention_days=current_app.config["APPLICATION_RETENTION_DAYS"],
        **_link_context(candidate.public_id))
    subject = (f"Your application: {vacancy.title}" if vacancy
               else "Your spontaneous application")
    return _send(OutgoingMail(to=email, subject=subject, body=body))


def send_personal_link(email: str, public_id: str) -> bool:
    body = render_mail("personal_link", **_link_context(public_id))
    return _send(OutgoingMail(to=email, subject="Your personal link to your data", body=body))


def send_consent_reminder(records: list[Candidate], kind: str, expires_at: datetime) -> bool:
    """One reminder per person and expiry, however many records share the address."""
    anchor = records[0]
    address = open_candidate(vault_keys(), anchor, with_notes=False).email
    body = render_mail(
        "consent_reminder", days_left=max((expires_at - now()).days, 0),
        expires=expires_at.date().isoformat(), renew_link=renewal_url(anchor.public_id),
        pool_months=current_app.config["TALENT_POOL_MONTHS"],
        grace_days=current_app.config["GRACE_DAYS"], **_link_context(anchor.public_id))
    return _send(OutgoingMail(to=address, subject="Your place in our talent pool ends soon",
                              body=body))


def send_email_change_confirmation(new_email: str, token: str, *,
                                   imported: bool = False) -> bool:
    """The link that makes a new address count: only its owner can open it. The mail
    names nothing of the person (whoever asked may have typed someone else's address)."""
    body = render_mail("email_change_confirmation", link=email_confirmation_url(token),
                       hours=current_app.config["EMAIL_CHANGE_MAX_AGE_HOURS"],
                       imported=imported)
    return _send(OutgoingMail(to=new_email, subject="Please confirm your e-mail address",
                              body=body))


def send_email_change_notice(old_email: str) -> bool:
    """Tell the old address that a change was asked for. Never the new address: the
    person asking may have typed someone else's."""
    body = render_mail("email_change_notice",
                       hours=current_app.config["EMAIL_CHANGE_MAX_AGE_HOURS"],
                       request_link=request_link_url())
    return _send(OutgoingMail(to=old_email, subject="A change of your e-mail address was asked",
                              body=body))
