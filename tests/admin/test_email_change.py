"""The officer's desk changes an address only the way the person can: the new address
confirms it by link."""

from __future__ import annotations

from sqlalchemy import select, text

from tests.candidate.test_email_change import _confirmation_link, _mails_to
from tests.forensics import find_markers
from tests.journey import MARK_EMAIL
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import AuditEvent, Candidate
from vault.services import audit
from vault.services.candidates import email_index, open_candidate

NEW_ADDRESS = "ilse.by.letter8812@example.com"


def _rows(app) -> list[tuple]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(text(
            "SELECT public_id, email_index, email FROM candidate ORDER BY id"))]


def test_desk_change_waits_for_the_new_address_to_confirm(app, client, person, other_record,
                                                          admin):
    before = _rows(app)
    response = client.post(f"/admin/candidates/{person[0]}/email",
                           data={"new_email": NEW_ADDRESS})
    assert response.status_code == 302
    assert _rows(app) == before  # the officer's word alone changes nothing
    assert find_markers(app, [NEW_ADDRESS.encode()]) == []
    notice = _mails_to(app, MARK_EMAIL)[-1]
    assert NEW_ADDRESS not in notice.get_payload(decode=True).decode()
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == audit.EMAIL_CHANGE_REQUESTED)) == "admin"

    confirm = _confirmation_link(_mails_to(app, NEW_ADDRESS)[-1])
    assert app.test_client().post(confirm).status_code == 302
    with app.app_context():
        records = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        for record in records[:2]:
            assert record.email_index == email_index(vault_keys(), NEW_ADDRESS)
            assert open_candidate(vault_keys(), record).email == NEW_ADDRESS
        assert records[2].public_id == other_record
        assert (records[2].public_id, records[2].email_index, records[2].email) == before[2]


def test_desk_refuses_a_bad_or_unchanged_address_and_changes_nothing(app, client, person,
                                                                     admin):
    before = _rows(app)
    sent = len(_mails_to(app, MARK_EMAIL))
    for bad in ("not-an-address", MARK_EMAIL):
        response = client.post(f"/admin/candidates/{person[0]}/email", data={"new_email": bad})
        assert response.status_code == 400
    assert _rows(app) == before
    assert len(_mails_to(app, MARK_EMAIL)) == sent
