"""After applying: the confirmation page and mail say what happens next and name the
company; the mail comes from that company, as text and HTML, in the candidate's
language, and the queue keeps both parts sealed."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.utils import getaddresses, parseaddr

from sqlalchemy import select

from tests.forensics import database_dump
from tests.journey import (
    MARK_EMAIL,
    MARK_NAME,
    apply,
    html_of,
    link_in,
    make_vacancy,
    outbox,
    text_of,
)
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import MailMessage
from vault.services import mail_queue


def _sender(mail) -> tuple[str, str]:
    return parseaddr(str(make_header(decode_header(mail["From"]))))


def test_confirmation_mail_is_multipart_text_and_html_from_the_company(app, client):
    slug = make_vacancy(app, company="Hoptimize", title="Backend developer")
    apply(client, slug)
    [mail] = outbox(app)
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.get_payload()] == ["text/plain", "text/html"]
    # Sent in the company's name, from the configured address.
    assert _sender(mail) == ("Hoptimize Recruitment", app.config["MAIL_SENDER"])
    text, html = text_of(mail), html_of(mail)
    for part in (text, html):
        assert "at Hoptimize." in part and "What happens next" in part
        assert "A recruiter of Hoptimize reads your application and CV." in part
        assert "Hoptimize Recruitment" in part  # the signature
    # The same personal link in both parts, a real link in the HTML one.
    link = link_in(mail)
    assert link in text and f'<a href="http://127.0.0.1:5000{link}">' in html
    assert client.get(link).status_code == 200


def test_spontaneous_confirmation_names_the_companies_chosen(app, client):
    apply(client, companies=["Ingenium", "Hoptimize"])
    [mail] = outbox(app)
    assert _sender(mail)[0] == "Hoptimize and Ingenium Recruitment"
    for part in (text_of(mail), html_of(mail)):
        assert "spontaneous application to Hoptimize and Ingenium." in part
        assert "The recruiters of Hoptimize and Ingenium read your application and CV" in part


def test_spontaneous_confirmation_for_one_company_comes_from_that_one(app, client):
    apply(client, companies="Ingenium")
    [mail] = outbox(app)
    assert _sender(mail)[0] == "Ingenium Recruitment"
    assert "Hoptimize" not in text_of(mail) and "Hoptimize" not in html_of(mail)


def test_dutch_candidate_gets_both_parts_and_the_sender_in_dutch(app, client):
    slug = make_vacancy(app, company="Ingenium")
    client.get("/?lang=nl")
    apply(client, slug)
    [mail] = outbox(app)
    assert _sender(mail) == ("Ingenium Rekrutering", app.config["MAIL_SENDER"])
    text, html = text_of(mail), html_of(mail)
    for part in (text, html):
        assert "Wat gebeurt er nu?" in part
        assert "Een recruiter van Ingenium leest uw sollicitatie en cv." in part
        assert "Met vriendelijke groeten," in part
        assert "What happens next" not in part and "Thank you" not in part
    assert '<html lang="nl">' in html


def test_french_candidate_gets_the_mail_in_french(app, client):
    slug = make_vacancy(app, company="Hoptimize")
    client.get("/?lang=fr")
    apply(client, slug)
    [mail] = outbox(app)
    assert _sender(mail)[0] == "Recrutement Hoptimize"
    assert "Les prochaines étapes" in html_of(mail) and "Les prochaines étapes" in text_of(mail)


def test_html_part_escapes_what_staff_typed(app, client):
    slug = make_vacancy(app, title="R&D <b>lead</b>")
    apply(client, slug)
    [mail] = outbox(app)
    html = html_of(mail)
    assert "R&amp;D &lt;b&gt;lead&lt;/b&gt;" in html and "<b>lead</b>" not in html
    assert 'R&D <b>lead</b>' in text_of(mail)  # plain text is not HTML: left as typed


def test_confirmation_page_says_what_happens_next_and_names_the_company(app, client):
    slug = make_vacancy(app, company="Hoptimize", title="Backend developer")
    apply(client, slug)
    page = client.get("/applied").get_data(as_text=True)
    assert "<h2>What happens next</h2>" in page
    assert "A recruiter of Hoptimize reads your application and CV." in page
    assert "If your profile matches, a recruiter contacts you" in page


def test_spontaneous_confirmation_page_names_the_companies(app, client):
    client.get("/?lang=nl")
    apply(client, companies=["Ingenium", "Hoptimize"])
    page = client.get("/applied").get_data(as_text=True)
    assert "De recruiters van Hoptimize en Ingenium lezen uw sollicitatie en cv" in page


def test_queued_confirmation_keeps_both_parts_and_the_sender_sealed(app, client):
    slug = make_vacancy(app, company="Hoptimize")
    client.get("/?lang=nl")
    apply(client, slug)
    with app.app_context():
        row = db.session.scalar(select(MailMessage))
        assert row.html_body is not None and row.sender_name is not None
        queued = mail_queue._open(db.session, vault_keys(), row)
    token = re.search(r"/my-data/([A-Za-z0-9_.\-]+)", queued.html).group(1)
    assert token in queued.body and queued.sender_name == "Hoptimize Rekrutering"
    raw = database_dump(app)
    for marker in (MARK_EMAIL, MARK_NAME, token, "</html>", "Wat gebeurt er nu?",
                   "Hoptimize Rekrutering", "Uw sollicitatie"):
        assert marker.encode() not in raw and marker.encode("utf-16-le") not in raw, marker
    # Delivered: the ciphertexts are dropped, the HTML and the sender name too.
    outbox(app)
    with app.app_context():
        row = db.session.scalar(select(MailMessage))
        assert (row.status, row.body, row.html_body, row.sender_name) == (
            "sent", None, None, None)


def test_the_sender_name_never_adds_an_address(app):
    from vault.mail import OutgoingMail, build_message

    for name in ('Evil" <spy@evil.example>, "x', "Société Générale\r\nBcc: spy@evil.example",
                 "A, B <c@d>"):
        message = build_message(OutgoingMail(to="a@example.org", subject="S", body="B",
                                             sender_name=name), "privacy@ingenium.example")
        [(display, address)] = getaddresses([str(message["From"])])
        assert address == "privacy@ingenium.example" and "\n" not in display
        assert "Bcc" not in message.keys()
