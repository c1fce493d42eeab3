from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.services.test_candidates import MARK_MAIL, get, make, sample_input
from vault.appctx import secret_keys, vault_keys
from vault.extensions import db
from vault.models import AuditEvent, Candidate, EmailChange
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


def _held(address: str, clock) -> Candidate:
    held = create_candidate(db.session, vault_keys(), sample_input(email=address), now=clock(),
                            source="import", email_confirmed=False)
    db.session.commit()
    return held


def _ask(records: list[Candidate], clock) -> list[tuple[Candidate, identity.ChangeTicket]]:
    return identity.ask_to_confirm(
        db.session, vault_keys(), records, now=clock(), lifetime_hours=24,
        secret_keys=secret_keys(), requested_by=identity.IMPORT, actor=audit.CLI)


def _confirm(token: str, clock) -> identity.Confirmed:
    return identity.confirm_email_change(db.session, vault_keys(), token,
                                         secret_keys=secret_keys(), now=clock(),
                                         max_age_hours=24)


def test_ask_to_confirm_gives_each_waiting_record_a_link_that_confirms_only_it(app, clock):
    settled = make(app, clock)
    with app.app_context():
        first, second = _held("first3310@example.org", clock), _held(OTHER, clock)
        tickets = _ask([get(settled), first, second], clock)
        db.session.commit()
        # The confirmed record has nothing to confirm; each other one gets its own link,
        # to its own address.
        assert [(r.public_id, t.new_email, t.notify_old_address) for r, t in tickets] == [
            (first.public_id, "first3310@example.org", False),
            (second.public_id, OTHER, False)]
        confirmed = _confirm(tickets[1][1].token, clock)
        db.session.commit()
        assert [r.public_id for r in confirmed.records] == [second.public_id]
        assert get(first.public_id).email_confirmed_at is None
        assert get(second.public_id).email_confirmed_at is not None
        # Each request is in the trail, chained after what was there.
        requested = db.session.scalars(select(AuditEvent.subject_public_id).where(
            AuditEvent.action == audit.EMAIL_CHANGE_REQUESTED)).all()
        assert requested == [first.public_id, second.public_id]
        assert audit.walk_chain(db.session).broken_at is None


def test_asking_again_replaces_the_earlier_confirmation_link(app, clock):
    with app.app_context():
        held = _held(OTHER, clock)
        ((_, earlier),) = _ask([held], clock)
        db.session.commit()
        ((_, later),) = _ask([get(held.public_id)], clock)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(EmailChange)) == 1
        with pytest.raises(links.LinkError):
            _confirm(earlier.token, clock)
        db.session.rollback()
        assert [r.public_id for r in _confirm(later.token, clock).records] == [held.public_id]


def test_ask_to_confirm_keeps_the_pending_address_sealed_and_bound(app, clock):
    from tests.forensics import database_dump
    from vault.services.sealing import check_opens, record_sealer

    with app.app_context():
        held = _held("sealed3310@example.org", clock)
        _ask([held], clock)
        db.session.commit()
        record = get(held.public_id)
        assert [c.requested_by for c in record.email_changes] == [identity.IMPORT]
        assert check_opens(record_sealer(vault_keys(), record), record) == []
    assert b"sealed3310" not in database_dump(app)
