"""Outgoing mail: .eml files in instance/outbox by default, SMTP by configuration.

The outbox lets `make run` work with no mail server; its files hold the address and
the link, so the folder is private to the vault's user (0700, files 0600), like the
spool of a local mail server. Errors are one opaque MailError: an SMTP server's reply
can quote the recipient, so it is never passed on.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, render_template


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str  # plain text


class MailError(Exception):
    """The message could not be handed over; the text never names the recipient."""


def render_mail(template: str, **context: Any) -> str:
    return render_template(f"mail/{template}.txt", **context)


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def write_to_outbox(message: EmailMessage, outbox: Path) -> Path:
    outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{secrets.token_hex(12)}.eml"  # random: never the address
    temp = outbox / f".{name}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(message.as_bytes())
        handle.flush()
        os.fsync(handle.fileno())
    target = outbox / name
    os.replace(temp, target)  # a reader never sees half a message
    return target


def send_over_smtp(message: EmailMessage, config: Any) -> None:
    try:
        with smtplib.SMTP(config["MAIL_SMTP_HOST"], int(config["MAIL_SMTP_PORT"]),
                          timeout=float(config["MAIL_SMTP_TIMEOUT"])) as smtp:
            if config["MAIL_SMTP_STARTTLS"]:
                # Verified TLS before any credential or personal data crosses the wire.
                context = ssl.create_default_context(cafile=config["MAIL_SMTP_CAFILE"])
                smtp.starttls(context=context)
            if config["MAIL_SMTP_USERNAME"]:
                smtp.login(config["MAIL_SMTP_USERNAME"], config["MAIL_SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise MailError(f"SMTP delivery failed ({exc.__class__.__name__})") from None


def send_mail(mail: OutgoingMail) -> None:
    config = current_app.config
    message = build_message(mail, config["MAIL_SENDER"])
    if config["MAIL_BACKEND"] == "smtp":
        send_over_smtp(message, config)
    elif config["MAIL_BACKEND"] == "outbox":
        try:
            write_to_outbox(message, Path(config["MAIL_OUTBOX"]))
        except OSError as exc:
            raise MailError(f"outbox write failed ({exc.__class__.__name__})") from None
    else:
        raise MailError("unknown MAIL_BACKEND")
