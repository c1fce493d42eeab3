"""A person is the set of records sharing a *confirmed* address: an e-mail correction
waits for the new address to confirm it by a single-use link."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select, text

from tests.forensics import database_dump
from tests.journey import MARK_EMAIL, MARK_NAME, apply, link_in, make_vacancy, outbox
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import Candidate, EmailChange
from vault.services.candidates import email_index, open_candidate

ATTACKER = "mallory.attacker@example.net"
ATTACKER_NAME = "Mallory Kwaadwillig"
NEW_ADDRESS = "ilse.new.home5521@example.com"


def _apply_and_link(app, client, **overrides) -> str:
    assert apply(client, make_vacancy(app), **overrides).status_code == 302
    return link_in(outbox(app)[-1])


def _correction(public_id: str, email: str, full_name: str = f"Ilse {MARK_NAME}") -> dict:
    return {"record": public_id, "full_name": full_name, "email": email, "phone": "",
            "position": "Data engineer", "interests": "cycling",
            "education-0-degree": "MSc", "education-0-field": "CS",
            "education-0-institution": "Ghent University", "education-0-year": "2019"}


def _raw_rows(app) -> list[tuple]:
    """The candidate table as the database holds it: index, sealed address, generation."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(text(
            "SELECT public_id, email_index, email, link_generation FROM candidate ORDER BY id"))]


def _public_ids(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)))


def _confirmation_link(message) -> str:
    body = message.get_payload(decode=True).decode()
    match = re.search(r"https?://[^\s]+(/my-data/confirm-email/[A-Za-z0-9_.\-]+)", body)
    assert match, "no confirmation link in the mail"
    return match.group(1)


def _mails_to(app, address: str) -> list:
    return [m for m in outbox(app) if m["To"] == address]


def _request_change(app, client, link: str, new_address: str) -> str:
    public_id = _public_ids(app)[0]
    response = client.post(f"{link}/correct", data=_correction(public_id, new_address))
    assert response.status_code == 302
    return _confirmation_link(_mails_to(app, new_address)[-1])


def test_takeover_by_typing_the_victims_address_gets_the_attacker_nothing(app, client):
    victim_link = _apply_and_link(app, client, consent_talent_pool="y")
    attacker_link = _apply_and_link(app, client, email=ATTACKER, full_name=ATTACKER_NAME)
    victim_id, attacker_id = _public_ids(app)
    before = _raw_rows(app)

    # The attack: correct one's own address to the victim's, then reopen one's own link.
    response = client.post(f"{attacker_link}/correct",
                           data=_correction(attacker_id, MARK_EMAIL, ATTACKER_NAME))
    assert response.status_code == 302
    # What the two addresses received (read now: erasing the attacker's record below
    # also deletes the outbox copies of the mail bound to it).
    to_victim = _mails_to(app, MARK_EMAIL)[-1]
    notice = _mails_to(app, ATTACKER)[-1]
    page = client.get(attacker_link)
    assert page.status_code == 200
    assert MARK_NAME.encode() not in page.data and b"1 record:" in page.data
    exported = json.loads(client.get(f"{attacker_link}/export.json").data)
    assert [r["public_id"] for r in exported["records"]] == [attacker_id]
    assert exported["records"][0]["contact"]["email"] == ATTACKER
    assert client.post(f"{attacker_link}/withdraw").status_code == 302
    receipt = client.post(f"{attacker_link}/erase")
    assert receipt.status_code == 200

    # Raw database: the victim's row is byte for byte what it was; only the attacker's
    # own record went (erased by its owner).
    after = _raw_rows(app)
    assert after == [before[0]]
    with app.app_context():
        victim = db.session.scalar(select(Candidate).where(Candidate.public_id == victim_id))
        assert victim.email_index == email_index(vault_keys(), MARK_EMAIL)
        assert victim.pool_consent_until is not None  # the attacker's withdrawal missed it
        assert open_candidate(vault_keys(), victim).email == MARK_EMAIL
    assert client.get(victim_link).status_code == 200
    assert MARK_NAME.encode() in client.get(victim_link).data
    # The victim was asked to confirm (and can ignore it); the attacker's old address
    # was told, without learning which address was typed.
    assert to_victim["Subject"] == "Please confirm your e-mail address"
    assert MARK_EMAIL not in notice.get_payload(decode=True).decode()


def test_a_victim_who_confirms_by_mistake_still_locks_the_attacker_out(app, client):
    _apply_and_link(app, client)
    attacker_link = _apply_and_link(app, client, email=ATTACKER, full_name=ATTACKER_NAME)
    _victim_id, attacker_id = _public_ids(app)
    client.post(f"{attacker_link}/correct",
                data=_correction(attacker_id, MARK_EMAIL, ATTACKER_NAME))
    confirm = _confirmation_link(_mails_to(app, MARK_EMAIL)[-1])
    victim_browser = app.test_client()
    landed = victim_browser.post(confirm)
    assert landed.status_code == 302
    # The attacker's link was issued before the address was proven: it is revoked.
    refused = client.get(attacker_link)
    assert refused.status_code == 410 and b"replaced by a newer one" in refused.data
    assert victim_browser.get(landed.headers["Location"]).status_code == 200


def test_new_address_takes_effect_only_when_its_link_is_confirmed(app, client):
    link = _apply_and_link(app, client)
    apply(client)  # a second record of the same person
    confirm = _request_change(app, client, link, NEW_ADDRESS)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EmailChange)) == 1
        for record in db.session.scalars(select(Candidate)):
            assert open_candidate(vault_keys(), record).email == MARK_EMAIL
    # Pending, and only sealed in the database (its confirmation mail, in the outbox,
    # is the one plaintext copy: that is what a mailbox holds).
    assert NEW_ADDRESS.encode() not in database_dump(app)
    assert client.get(link).status_code == 200  # nothing changed yet

    page = client.get(confirm)  # a mail scanner opening the link changes nothing
    assert page.status_code == 200 and b"this address is mine" in page.data
    landed = client.post(confirm)
    assert landed.status_code == 302
    new_link = landed.headers["Location"]
    with app.app_context():
        records = db.session.scalars(select(Candidate)).all()
        assert len(records) == 2
        for record in records:
            assert record.email_index == email_index(vault_keys(), NEW_ADDRESS)
            assert open_candidate(vault_keys(), record).email == NEW_ADDRESS
            assert record.email_confirmed_at is not None
        assert db.session.scalar(select(func.count()).select_from(EmailChange)) == 0
    body = client.get(new_link).data
    assert NEW_ADDRESS.encode() in body and b"2 records" in body
    assert client.get(link).status_code == 410  # the old link is revoked
    assert NEW_ADDRESS.encode() not in database_dump(app)  # the outbox is its mailbox


def test_confirmation_link_works_once(app, client):
    link = _apply_and_link(app, client)
    confirm = _request_change(app, client, link, NEW_ADDRESS)
    assert client.post(confirm).status_code == 302
    rows = _raw_rows(app)
    again = client.post(confirm)
    assert again.status_code == 404 and b"already been used" in again.data
    assert _raw_rows(app) == rows


def test_expired_confirmation_link_changes_nothing(app, client, clock):
    link = _apply_and_link(app, client)
    confirm = _request_change(app, client, link, NEW_ADDRESS)
    rows = _raw_rows(app)
    clock.advance(hours=24, seconds=1)
    for method in ("get", "post"):
        response = getattr(client, method)(confirm)
        assert response.status_code == 410 and b"expired" in response.data
    assert _raw_rows(app) == rows


def test_tampered_confirmation_link_changes_nothing(app, client):
    link = _apply_and_link(app, client)
    confirm = _request_change(app, client, link, NEW_ADDRESS)
    rows = _raw_rows(app)
    tampered = confirm[:-2] + ("AA" if not confirm.endswith("AA") else "BB")
    for bad in (tampered, "/my-data/confirm-email/not-a-token", link.replace(
            "/my-data/", "/my-data/confirm-email/")):  # a personal link is not a confirmation
        assert client.post(bad).status_code == 404
    assert _raw_rows(app) == rows


def test_confirmation_for_a_record_erased_meanwhile_changes_nothing(app, client):
    link = _apply_and_link(app, client)
    confirm = _request_change(app, client, link, NEW_ADDRESS)
    assert client.post(f"{link}/erase").status_code == 200
    response = client.post(confirm)
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 0
        assert db.session.scalar(select(func.count()).select_from(EmailChange)) == 0


def test_a_newer_change_request_voids_the_earlier_link(app, client):
    link = _apply_and_link(app, client)
    first = _request_change(app, client, link, NEW_ADDRESS)
    second = _request_change(app, client, link, "ilse.other5521@example.com")
    assert client.post(first).status_code == 404
    assert client.post(second).status_code == 302
    with app.app_context():
        record = db.session.scalar(select(Candidate))
        assert open_candidate(vault_keys(), record).email == "ilse.other5521@example.com"


def test_other_fields_are_corrected_at_once_while_the_address_waits(app, client):
    link = _apply_and_link(app, client)
    public_id = _public_ids(app)[0]
    client.post(f"{link}/correct", data=_correction(public_id, NEW_ADDRESS, "Ilse Renamed"))
    with app.app_context():
        opened = open_candidate(vault_keys(), db.session.scalar(select(Candidate)))
        assert (opened.full_name, opened.email) == ("Ilse Renamed", MARK_EMAIL)
