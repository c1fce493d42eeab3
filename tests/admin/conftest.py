from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.journey import MARK_EMAIL, apply, make_vacancy
from vault.extensions import db
from vault.models import Candidate


@pytest.fixture
def admin(client, make_user, login) -> int:
    """A privacy officer, logged in on `client`."""
    uid = make_user(role="admin")
    login(client, uid)
    return uid


@pytest.fixture
def person(app, client) -> list[str]:
    """One person with two applications (same e-mail), plus someone else; returns the
    public ids of the person's records. Applied before anyone logs in."""
    slug = make_vacancy(app)
    apply(client, slug)
    apply(client, consent_talent_pool="y")
    apply(client, slug, email="someone.else@example.org", full_name="Other Person")
    with app.app_context():
        rows = db.session.execute(select(Candidate.public_id, Candidate.email_index)
                                  .order_by(Candidate.id)).all()
    assert rows[0].email_index == rows[1].email_index != rows[2].email_index
    assert MARK_EMAIL
    return [rows[0].public_id, rows[1].public_id]


@pytest.fixture
def other_record(app, person) -> str:
    with app.app_context():
        return db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)).all()[2]
