from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.services.test_candidates import get, sample_input
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import AuditEvent, User, Vacancy
from vault.services import audit, consent
from vault.services.access import WriteRefused
from vault.services.candidates import create_candidate
from vault.services.pipeline import set_status


@pytest.fixture
def pool_application(app, clock):
    """A Hoptimize application in the talent pool, and a recruiter of each company."""
    with app.app_context():
        vacancy = Vacancy(slug="web", company="Hoptimize", title="Web", status="open")
        db.session.add(vacancy)
        db.session.flush()
        record = create_candidate(db.session, vault_keys(), sample_input(), now=clock(),
                                  vacancy_id=vacancy.id)
        consent.grant_pool_consent(db.session, record, months=24, notice_version="t",
                                   source="test", now=clock())
        users = {c: User(email=f"{c}@x", password_hash="-", role="recruiter", company=c)
                 for c in ("Ingenium", "Hoptimize")}
        db.session.add_all(users.values())
        db.session.commit()
        return record.public_id, {c: u.id for c, u in users.items()}


def test_a_recruiter_of_another_company_cannot_decide_the_application(app, clock,
                                                                      pool_application):
    public_id, users = pool_application
    with app.app_context():
        with pytest.raises(WriteRefused):
            set_status(db.session, db.session.get(User, users["Ingenium"]), get(public_id),
                       "rejected", now=clock())
        db.session.commit()
        record = get(public_id)
        assert (record.status, record.application_ended_at) == ("new", None)
        assert db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == audit.STATUS_CHANGED)) is None


def test_deciding_starts_the_retention_clock_and_reopening_stops_it(app, clock,
                                                                    pool_application):
    public_id, users = pool_application
    with app.app_context():
        user = db.session.get(User, users["Hoptimize"])
        set_status(db.session, user, get(public_id), "hired", now=clock())
        assert get(public_id).application_ended_at == clock()
        set_status(db.session, user, get(public_id), "reviewing", now=clock())
        assert get(public_id).application_ended_at is None
        with pytest.raises(ValueError):
            set_status(db.session, user, get(public_id), "promoted", now=clock())
        assert get(public_id).status == "reviewing"
