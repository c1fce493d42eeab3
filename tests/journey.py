"""Shared steps of the applicant's journey, driven through the HTTP client."""

from __future__ import annotations

import email
import io
import re
from email.message import Message
from pathlib import Path

from flask import Flask

from tests import files
from vault.extensions import db
from vault.services.vacancies import create_vacancy

MARK_NAME = "Vrolijkheid"
MARK_EMAIL = "ilse.marker4417@example.org"
MARK_CV = "Zwartberglaan"


def make_vacancy(app: Flask, company: str = "Ingenium", title: str = "Data engineer") -> str:
    with app.app_context():
        vacancy = create_vacancy(db.session, company=company, title=title, location="Bruges",
                                 companies=app.config["COMPANIES"], now=app.config["CLOCK"]())
        db.session.commit()
        return vacancy.slug


def application(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "full_name": f"Ilse {MARK_NAME}",
        "email": MARK_EMAIL,
        "phone": "+32 470 11 22 33",
        "position": "Data engineer",
        "education-0-degree": "Master of Science",
        "education-0-field": "Computer Science",
        "education-0-institution": "Ghent University",
        "education-0-year": "2019",
        "interests": "cycling, open source",
        "age": "29",
        "gender": "female",
        "consent_application": "y",
        # The spontaneous form's company choice; the form of a vacancy has no such field.
        "companies": "Ingenium",
    }
    data.update(overrides)
    if "cv" not in data:
        data["cv"] = (io.BytesIO(files.pdf_with_text(f"{MARK_CV} Python Kafka")), "ilse-cv.pdf")
    # Callables build a fresh file per request (a stream can be sent only once).
    return {k: v() if callable(v) else v for k, v in data.items() if v is not None}


def apply(client, slug: str | None = None, **overrides: object):
    path = f"/apply/{slug}" if slug else "/apply"
    return client.post(path, data=application(**overrides), content_type="multipart/form-data")


def deliver_mail(app: Flask):
    """Run the mail queue's sender once, as the worker would."""
    from vault.services.notifications import deliver_queued

    with app.app_context():
        return deliver_queued(db.session)


def outbox(app: Flask) -> list[Message]:
    """What the outbox holds once everything queued so far has been delivered."""
    deliver_mail(app)
    folder = Path(app.config["MAIL_OUTBOX"])
    if not folder.exists():
        return []
    mails = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes()) for p in mails]


def _part(message: Message, subtype: str) -> str | None:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return None


def text_of(message: Message) -> str:
    """The plain-text body, whether the mail is text only or multipart/alternative."""
    text = _part(message, "plain")
    assert text is not None, "no text/plain part in the mail"
    return text


def html_of(message: Message) -> str:
    html = _part(message, "html")
    assert html is not None, "no text/html part in the mail"
    return html


def link_in(message: Message) -> str:
    body = text_of(message)
    match = re.search(r"https?://[^\s]+/my-data/([A-Za-z0-9_.\-]+)", body)
    assert match, "no personal link in the mail"
    return "/my-data/" + match.group(1)
