"""Outgoing mail, the transport: .eml files in instance/outbox by default, SMTP by
configuration. Nothing here is called by a request: requests put mail in the durable
queue (vault/services/mail_queue.py), whose sender calls deliver().

The outbox lets `make run` work with no mail server; its files hold the address and
the link, so the folder is private to the vault's user (0700, files 0600), like the
spool of a local mail server. Errors are one opaque MailError: an SMTP server's reply
can quote the recipient, so it is never passed on.
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    body: str  # plain text
    # An HTML alternative of the same text: the message is then multipart/alternative.
    html: str | None = None
    # The From display name ("Ingenium Recruitment"); the address stays MAIL_SENDER's.
    sender_name: str | None = None


# Control characters (C0, DEL, C1) and Unicode line separators. In a header they would
# let a value start a new header or end the headers (CR/LF injection), and the email
# package refuses them by raising: every value bound for To or Subject is checked at
# input (vacancy titles) and made safe again when a mail is built.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def header_safe(text: str) -> str:
    """One line of text for a header: each run of control characters becomes a space."""
    return re.sub(r"\s+", " ", CONTROL_CHARACTERS.sub(" ", text)).strip()


class MailError(Exception):
    """The message could not be handed over; the text never names the recipient.

    server_down: the server could not be reached or stopped answering (the next messages
    would fail the same way), as opposed to this one message being refused.
    """

    def __init__(self, text: str, *, server_down: bool = False) -> None:
        super().__init__(text)
        self.server_down = server_down


def sender_header(sender: str, name: str | None) -> str | Address:
    """MAIL_SENDER as configured, or its address under the given display name (made one
    line, and quoted or encoded by the email package, never by hand)."""
    display = header_safe(name or "")
    if not display:
        return sender
    address = parseaddr(sender)[1] or sender
    username, _at, domain = address.rpartition("@")
    return Address(display_name=display, username=username, domain=domain)


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """Raises MailError (never anything else) when a value cannot be a header."""
    if has_control_characters(mail.to):
        raise MailError("the recipient is not a valid address")
    message = EmailMessage()
    try:
        message["From"] = sender_header(sender, mail.sender_name)
        message["To"] = mail.to
        message["Subject"] = header_safe(mail.subject)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">")
                                           or None)
        message.set_content(mail.body)
        if mail.html is not None:
            message.add_alternative(mail.html, subtype="html")
    except (ValueError, TypeError, IndexError) as exc:
        raise MailError(f"the message could not be built ({exc.__class__.__name__})") from None
    return message


def new_outbox_name() -> str:
    return f"{secrets.token_hex(12)}.eml"  # random: never the address


def write_to_outbox(message: EmailMessage, outbox: Path, name: str | None = None) -> Path:
    outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = name or new_outbox_name()
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
    except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, OSError) as exc:
        # Refused, unreachable, timed out, or hung up: the server, not this message.
        # (ssl.SSLError is an OSError: an unverifiable certificate is the server's too.)
        raise MailError(f"SMTP delivery failed ({exc.__class__.__name__})",
                        server_down=True) from None
    except smtplib.SMTPException as exc:
        raise MailError(f"SMTP delivery failed ({exc.__class__.__name__})") from None


def deliver(mail: OutgoingMail, config: Any, *, outbox_name: str | None = None) -> None:
    """Hand one message to the configured backend, or raise MailError."""
    message = build_message(mail, config["MAIL_SENDER"])
    if config["MAIL_BACKEND"] == "smtp":
        send_over_smtp(message, config)
    elif config["MAIL_BACKEND"] == "outbox":
        try:
            write_to_outbox(message, Path(config["MAIL_OUTBOX"]), outbox_name)
        except OSError as exc:
            raise MailError(f"outbox write failed ({exc.__class__.__name__})") from None
    else:
        raise MailError("unknown MAIL_BACKEND")


def send_mail(mail: OutgoingMail) -> None:
    """Deliver at once with the app's configuration (the queue's sender uses deliver)."""
    deliver(mail, current_app.config)
