"""The mails the vault sends to candidates: built here, queued, delivered by the queue.

Requests and the retention job only queue (vault/services/mail_queue.py) in the
transaction that caused the mail; a failing mail server therefore never undoes or
delays what the person did. deliver_after_response() starts one delivery run in a
background thread once the response has gone, so `make run` needs no worker; in
production `vault send-mail --loop` (or a timer) and the retention job deliver and
retry whatever that leaves. Only an error's class is ever logged: its text could
quote the address.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import Flask, after_this_request, current_app, render_template
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from vault.appctx import now, secret_keys, vault_keys
from vault.crypto import DecryptionError, KeyringError
from vault.i18n import in_language, language_or_default, show_date
from vault.keys import VaultKeys
from vault.mail import MailError, OutgoingMail, header_safe
from vault.models import Candidate, MailMessage
from vault.personal_links import (
    email_confirmation_url,
    renewal_url,
    request_link_url,
    self_service_url,
)
from vault.services import audit, bulkload, identity, mail_queue
from vault.services.candidates import email_index, open_candidate, records_of_person
from vault.services.sealing import records_opened

log = logging.getLogger(__name__)
SENDER_THREAD = "vault-mail-sender"


def render_mail(template: str, **context: object) -> str:
    return render_template(f"mail/{template}.txt", **context)


def _link_context(public_id: str) -> dict[str, object]:
    days = current_app.config["LINK_MAX_AGE_DAYS"]
    return {"link": self_service_url(public_id), "link_days": days,
            "link_expires": show_date(now() + timedelta(days=days))}


def render_mail_html(template: str, **context: object) -> str:
    """The HTML alternative: an .html template, so Jinja escapes every value in it."""
    return render_template(f"mail/{template}.html", **context)


def recruitment_sender(companies: tuple[str, ...] | list[str]) -> str:
    """The From display name of a mail about an application: the company it went to
    ("Ingenium Recruitment"), in the current language. Call inside in_language()."""
    return gettext("%(company)s Recruitment", company=join_names(companies))


def queue_application_received(session: Session, keys: VaultKeys, candidate: Candidate,
                               email: str, *, moment: datetime) -> MailMessage:
    """The confirmation, in the language the person applied in: names the vacancy, or
    the companies a spontaneous application went to (their recruiters see it), says
    what happens next, and comes from that company (its name on the configured sender
    address). Text and HTML say the same; both are sealed in the queue."""
    vacancy = candidate.vacancy
    with in_language(candidate.language):
        sender_name = recruitment_sender(candidate.companies)
        # The title is checked at input; a title from before that check is made one line
        # when the mail is built (mail_queue seals header_safe(subject)).
        subject = (gettext("Your application: %(title)s", title=vacancy.title) if vacancy
                   else gettext("Your spontaneous application"))
        context = dict(
            vacancy=vacancy, companies=join_names(candidate.companies),
            pool_until=show_date(candidate.pool_consent_until)
            if candidate.pool_consent_until else None,
            retention_days=current_app.config["APPLICATION_RETENTION_DAYS"],
            sender_name=sender_name, subject=subject,
            language=language_or_default(candidate.language),
            **_link_context(candidate.public_id))
        body = render_mail("application_received", **context)
        html = render_mail_html("application_received", **context)
    return mail_queue.enqueue_for_record(
        session, keys, candidate,
        OutgoingMail(to=email, subject=subject, body=body, html=html, sender_name=sender_name),
        kind=mail_queue.APPLICATION_RECEIVED, now=moment)


def join_names(names: tuple[str, ...] | list[str]) -> str:
    """"Ingenium", "Hoptimize and Ingenium": for mails and pages, in their language."""
    if len(names) < 2:
        return "".join(names)
    return gettext("%(first)s and %(last)s", first=", ".join(names[:-1]), last=names[-1])


def queue_link_request(session: Session, keys: VaultKeys, address: str, *,
                       moment: datetime) -> MailMessage:
    """The same for every address, known or not (see enqueue_link_request)."""
    return mail_queue.enqueue_link_request(session, keys, address, now=moment)


def personal_link_mail(session: Session, keys: VaultKeys,
                       address: str) -> tuple[Candidate, OutgoingMail] | None:
    """The queue's LinkResolver, run by the sender after the request was answered.

    The newest record under the *confirmed* address gets the link; the person's older
    links are revoked by it (a lost or leaked link ends when a new one is asked for).
    Imported records still waiting for this address to confirm get a fresh
    confirmation link each, bound to them."""
    ask_imported_to_confirm(session, keys, identity.unconfirmed_records(session, keys, address),
                            moment=now(), actor=audit.CANDIDATE)
    newest = session.scalar(
        select(Candidate).where(Candidate.email_index == email_index(keys, address),
                                Candidate.email_confirmed_at.is_not(None))
        .order_by(Candidate.id.desc()).limit(1))
    if newest is None:
        return None
    identity.revoke_links(records_of_person(session, newest))
    session.flush()  # the link below is issued under the new generation
    with in_language(newest.language):
        body = render_mail("personal_link", **_link_context(newest.public_id))
        subject = gettext("Your personal link to your data")
    return newest, OutgoingMail(to=address, subject=subject, body=body)


def _change_hours() -> int:
    return int(current_app.config["EMAIL_CHANGE_MAX_AGE_HOURS"])


def queue_email_change(session: Session, keys: VaultKeys, record: Candidate,
                       ticket: identity.ChangeTicket, *, imported: bool = False) -> None:
    """The link that makes a new address count, to that address, and (when it differs)
    a notice to the old one. Neither names the person nor the other address: whoever
    asked may have typed someone else's. Both are bound to the record, so erasing it
    takes them too. The caller commits."""
    with in_language(record.language):
        mail = _confirmation_mail(ticket, imported=imported)
    mail_queue.enqueue_for_record(session, keys, record, mail,
                                  kind=mail_queue.EMAIL_CONFIRMATION, now=now())
    if ticket.notify_old_address:
        with in_language(record.language):
            notice = render_mail("email_change_notice", hours=_change_hours(),
                                 request_link=request_link_url())
            subject = gettext("A change of your e-mail address was asked")
        mail_queue.enqueue_for_record(
            session, keys, record, OutgoingMail(to=ticket.old_email, subject=subject,
                                                body=notice),
            kind=mail_queue.EMAIL_CHANGE_NOTICE, now=now())


def _confirmation_mail(ticket: identity.ChangeTicket, *, imported: bool) -> OutgoingMail:
    """The confirmation link's mail, in the language in force (in_language)."""
    body = render_mail("email_change_confirmation", link=email_confirmation_url(ticket.token),
                       hours=_change_hours(), imported=imported)
    return OutgoingMail(to=ticket.new_email, subject=gettext("Please confirm your e-mail address"),
                        body=body)


def import_confirmations(moment: datetime) -> bulkload.Confirmations:
    """What a bulk import asks of each new record (bulkload.Confirmations): the mail of
    queue_import_confirmations rendered once, in the records' language, with a mark
    where each record's token goes."""
    with in_language(bulkload.LANGUAGE):
        mail = _confirmation_mail(identity.ChangeTicket(bulkload.TOKEN_MARK, "", "", []),
                                  imported=True)
    return bulkload.Confirmations(
        requested_by=identity.IMPORT, expires_at=moment + timedelta(hours=_change_hours()),
        subject=header_safe(mail.subject), body=mail.body)


def ask_imported_to_confirm(session: Session, keys: VaultKeys, records: Sequence[Candidate], *,
                            moment: datetime, actor: audit.Actor) -> int:
    """Imported records waiting for their address, each asked afresh to confirm it
    (identity.ask_to_confirm, its earlier link replaced) and mailed the link. Returns
    the number of mails queued."""
    with records_opened(keys, records):  # the keys unwrapped once for both steps
        tickets = identity.ask_to_confirm(
            session, keys, records, now=moment, lifetime_hours=_change_hours(),
            secret_keys=secret_keys(), requested_by=identity.IMPORT, actor=actor)
        return queue_import_confirmations(session, keys, tickets)


def queue_import_confirmations(session: Session, keys: VaultKeys,
                               tickets: list[tuple[Candidate, identity.ChangeTicket]]) -> int:
    """queue_email_change for a batch of imported records, each asked to confirm its own
    address (identity.ask_to_confirm): so no notice to an old address. One INSERT for
    the batch, each mail sealed with its record's key. Returns the number queued."""
    mails = []
    for language, group in _by_language(tickets).items():
        with in_language(language):  # once per language, not once per mail
            mails.extend((record, _confirmation_mail(ticket, imported=True))
                         for record, ticket in group)
    with records_opened(keys, [record for record, _ in tickets]):
        return mail_queue.enqueue_for_records(session, keys, mails,
                                              kind=mail_queue.EMAIL_CONFIRMATION, now=now())


def _by_language(tickets: list[tuple[Candidate, identity.ChangeTicket]]
                 ) -> dict[str, list[tuple[Candidate, identity.ChangeTicket]]]:
    groups: dict[str, list[tuple[Candidate, identity.ChangeTicket]]] = {}
    for record, ticket in tickets:
        groups.setdefault(record.language, []).append((record, ticket))
    return groups


def queue_consent_reminder(session: Session, keys: VaultKeys, records: list[Candidate],
                           kind: str, expires_at: datetime) -> bool:
    """One reminder per person and expiry, however many records share the address; bound
    to the first record. Queued in the retention job's transaction with its notice."""
    anchor = records[0]
    address = open_candidate(keys, anchor, with_notes=False).email
    with in_language(anchor.language):
        body = render_mail(
            "consent_reminder", days_left=max((expires_at - now()).days, 0),
            expires=show_date(expires_at), renew_link=renewal_url(anchor.public_id),
            pool_months=current_app.config["TALENT_POOL_MONTHS"],
            grace_days=current_app.config["GRACE_DAYS"], **_link_context(anchor.public_id))
        subject = gettext("Your place in our talent pool ends soon")
    mail_queue.enqueue_for_record(
        session, keys, anchor, OutgoingMail(to=address, subject=subject, body=body),
        kind=mail_queue.CONSENT_REMINDER, now=now())
    return True


def deliver_queued(session: Session) -> mail_queue.FlushResult:
    """One delivery run with the app's configuration (commits; see flush_mail_queue)."""
    return mail_queue.flush_mail_queue(session, vault_keys(), now=now(),
                                       config=current_app.config,
                                       resolve_link=personal_link_mail, clock=now)


def _deliver_in_thread(app: Flask) -> None:
    from vault.extensions import db

    with app.app_context():
        try:
            deliver_queued(db.session)
        except (MailError, SQLAlchemyError, DecryptionError, KeyringError, OSError) as exc:
            # The mail stays queued: the worker or the retention job tries again.
            log.warning("mail delivery run stopped: %s", exc.__class__.__name__)
        finally:
            db.session.remove()


def deliver_after_response() -> None:
    """Deliver what this request queued once its response has been sent.

    call_on_close runs after the last byte went out; the run itself is a daemon thread,
    so not even the connection waits on the mail server. If the process ends first,
    the mail is still in the queue for the next run.
    """
    if not current_app.config["MAIL_FLUSH_AFTER_RESPONSE"]:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    @after_this_request
    def start_sender(response: Response) -> Response:
        response.call_on_close(lambda: threading.Thread(
            target=_deliver_in_thread, args=(app,), name=SENDER_THREAD, daemon=True).start())
        return response
