from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.services.test_candidates import MARK_MAIL, get, make, sample_input
from vault.appctx import secret_keys, vault_keys
from vault.extensions import db
from vault.models import Candidate, EmailChange
from vault.services import audit, identity, links
from vault.services.candidates import (
    Correction,
    UnconfirmedEmail,
    correct_candidate,
    create_candidate,
    records_of_person,
)

OTHER = "someone.else3310@example.org"


def _change(record: Candidate, address: str, now, hours: int = 24) -> identity.ChangeTicket:
    ticket = identity.request_email_change(
        db.session, vault_keys(), record, address, now=now, lifetime_hours=hours,
        secret_keys=secret_keys(), requested_by=identity.SELF_SERVICE, actor=audit.CANDIDATE)
    assert ticket is not None
    return ticket


def test_correct_candidate_refuses_an_unconfirmed_new_address(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        record = get(public_id)
        index = record.email_index
        with pytest.raises(UnconfirmedEmail):
            correct_candidate(db.session, vault_keys(), record, Correction(email=OTHER),
                              now=clock())
        # Another spelling of the same address is not a new address.
        correct_candidate(db.session, vault_keys(), record,
                          Correction(email=MARK_MAIL.upper()), now=clock())
        assert record.email_index == index


def test_an_unconfirmed_record_is_a_person_of_its_own(app, clock):
    first = make(app, clock)
    with app.app_context():
        held = create_candidate(db.session, vault_keys(), sample_input(), now=clock(),
                                source="import", email_confirmed=False)
        db.session.commit()
        assert [r.public_id for r in records_of_person(db.session, get(first))] == [first]
        assert records_of_person(db.session, held) == [held]


def test_same_confirmed_address_needs_no_confirmation(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        assert identity.request_email_change(
            db.session, vault_keys(), get(public_id), MARK_MAIL, now=clock(),
            lifetime_hours=24, secret_keys=secret_keys(), requested_by=identity.SELF_SERVICE,
            actor=audit.CANDIDATE) is None


def test_pending_change_row_expires_even_if_the_link_age_is_raised(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        ticket = _change(get(public_id), OTHER, clock(), hours=1)
        db.session.commit()
        clock.advance(hours=2)
        with pytest.raises(links.LinkError) as caught:
            identity.confirm_email_change(db.session, vault_keys(), ticket.token,
                                          secret_keys=secret_keys(), now=clock(),
                                          max_age_hours=48)
        assert caught.value.problem is links.LinkProblem.EXPIRED
        assert identity.purge_expired_changes(db.session, now=clock()) == 1
        assert db.session.scalar(select(func.count()).select_from(EmailChange)) == 0


def test_confirmation_token_with_another_nonce_is_refused(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        ticket = _change(get(public_id), OTHER, clock())
        db.session.commit()
        change_uid, _nonce = links.read_confirmation_token(
            secret_keys(), ticket.token, max_age_hours=24, clock=clock)
        forged = links.make_confirmation_token(secret_keys(), change_uid, "guessed",
                                               clock=clock)
        with pytest.raises(links.LinkError):
            identity.confirm_email_change(db.session, vault_keys(), forged,
                                          secret_keys=secret_keys(), now=clock(),
                                          max_age_hours=24)
        assert db.session.scalar(select(func.count()).select_from(EmailChange)) == 1


def test_confirming_raises_the_generation_of_the_whole_merged_person(app, clock):
    mover = make(app, clock)
    settled = make(app, clock, email=OTHER)
    with app.app_context():
        get(settled).link_generation = 4
        ticket = _change(get(mover), OTHER, clock())
        db.session.commit()
        confirmed = identity.confirm_email_change(db.session, vault_keys(), ticket.token,
                                                  secret_keys=secret_keys(), now=clock(),
                                                  max_age_hours=24)
        db.session.commit()
        assert sorted(r.public_id for r in confirmed.records) == sorted([mover, settled])
        assert {r.link_generation for r in confirmed.records} == {5}


def test_check_opens_the_sealed_pending_address(app, clock):
    from vault.services.sealing import check_opens, record_sealer

    first, second = make(app, clock), make(app, clock, email=OTHER)
    with app.app_context():
        _change(get(first), "third3310@example.org", clock())
        db.session.commit()
        record = get(first)
        assert check_opens(record_sealer(vault_keys(), record), record) == []
        # Another record's ciphertext does not open here: the context binds it.
        other = get(second)
        record.email_changes[0].new_email = other.email
        assert check_opens(record_sealer(vault_keys(), record), record) == [
            "email_change.new_email"]
        db.session.rollback()
