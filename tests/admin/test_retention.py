from __future__ import annotations

import re

from sqlalchemy import select

from tests.journey import apply
from vault.extensions import db
from vault.models import Candidate, RetentionNotice
from vault.services.erasure_ledger import FileLedger


def _table(body: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}">.*?</table>', body, re.S)
    assert match, table_id
    return match.group(0)


def test_dashboard_lists_expiring_consents_with_their_reminders(
        app, client, person, admin, make_user, clock):
    # person[1] gave talent-pool consent for 24 months at the start.
    clock.advance(days=731 - 20)
    with app.app_context():
        record = db.session.scalar(select(Candidate).where(Candidate.public_id == person[1]))
        expiry = record.pool_consent_until
        db.session.add(RetentionNotice(candidate_id=record.id, kind="reminder-30",
                                       consent_expires_at=expiry, sent_at=clock()))
        db.session.commit()
    body = client.get("/admin/retention").data.decode()
    expiring = _table(body, "expiring")
    assert person[1] in expiring and person[0] not in expiring
    assert expiry.strftime("%d/%m/%Y") in expiring and "reminder-30" in expiring  # Belgian
    assert re.search(r'id="count-expiring">1<', client.get("/admin/").data.decode())


def test_records_due_for_shredding_follow_the_retention_rules(app, client, admin, clock):
    apply(client, email="spontaneous@example.org")  # no vacancy, no pool consent
    apply(client, email="pool@example.org", consent_talent_pool="y")
    with app.app_context():
        spontaneous, pool = db.session.scalars(select(Candidate.public_id)
                                               .order_by(Candidate.id)).all()
    assert person_not_in(client, "due", spontaneous)
    clock.advance(days=181)
    body = client.get("/admin/retention").data.decode()
    assert spontaneous in _table(body, "due") and pool not in _table(body, "due")
    assert re.search(r'id="count-due">1<', client.get("/admin/").data.decode())

    # A hold moves it from "due" to "held", with its reason opened for the officer.
    client.post(f"/admin/candidates/{spontaneous}/hold",
                data={"action": "place", "reason": "Audit by the labour inspectorate"})
    body = client.get("/admin/retention").data.decode()
    assert spontaneous not in _table(body, "due")
    held = _table(body, "holds")
    assert spontaneous in held and "labour inspectorate" in held and "<td>yes</td>" in held
    dashboard = client.get("/admin/").data.decode()
    assert re.search(r'id="count-due">0<', dashboard)
    assert re.search(r'id="count-holds">1<', dashboard)


def person_not_in(client, table_id: str, public_id: str) -> bool:
    return public_id not in _table(client.get("/admin/retention").data.decode(), table_id)


def test_lookup_finds_a_record_by_reference(client, person, admin):
    found = client.get(f"/admin/lookup?public_id={person[0]}")
    assert found.status_code == 302
    assert found.headers["Location"] == f"/admin/candidates/{person[0]}"
    page = client.get(found.headers["Location"])
    assert all(pid.encode() in page.data for pid in person)
    missing = client.get("/admin/lookup?public_id=no-such-reference")
    assert missing.status_code == 400 and b"No record has that reference" in missing.data


def test_desk_lists_exactly_what_a_retention_run_would_shred(app, client, admin, clock):
    from pathlib import Path

    from vault.services.desk import due_for_shredding
    from vault.services.retention import run_retention

    for n in range(3):
        apply(client, email=f"spontaneous{n}@example.org")
    apply(client, email="pool@example.org", consent_talent_pool="y")
    clock.advance(days=181)
    with app.app_context():
        listed = due_for_shredding(db.session, now=clock(), config=app.config)
        summary = run_retention(db.session, now=clock(), config=app.config,
                                ledger=FileLedger(Path(app.config["ERASURE_LEDGER"])), send=None,
                                dry_run=True)
    assert len(listed) == summary.shredded == 3
