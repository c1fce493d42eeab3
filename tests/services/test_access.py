from __future__ import annotations

from datetime import timedelta

import pytest

from tests.services.test_candidates import sample_input
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import User, Vacancy
from vault.services import consent
from vault.services.access import can_see, visible_candidate
from vault.services.candidates import create_candidate

CASES = {
    # record: (vacancy company or None, pool consent: None | "live" | "expired" | "withdrawn")
    "own_applicant": ("Ingenium", None),
    "other_applicant": ("Hoptimize", None),
    "other_applicant_in_pool": ("Hoptimize", "live"),
    "other_applicant_pool_expired": ("Hoptimize", "expired"),
    "other_applicant_pool_withdrawn": ("Hoptimize", "withdrawn"),
    "spontaneous": (None, None),
    "spontaneous_in_pool": (None, "live"),
}
RECRUITER_SEES = {"own_applicant", "other_applicant_in_pool", "spontaneous_in_pool"}


@pytest.fixture
def world(app, clock):
    with app.app_context():
        vacancies = {c: Vacancy(slug=c.lower(), company=c, title="Job", status="open")
                     for c in ("Ingenium", "Hoptimize")}
        db.session.add_all(vacancies.values())
        db.session.flush()
        ids = {}
        for name, (company, pool) in CASES.items():
            start = clock() - timedelta(days=800) if pool == "expired" else clock()
            record = create_candidate(db.session, vault_keys(), sample_input(), now=start,
                                      vacancy_id=vacancies[company].id if company else None)
            if pool:
                consent.grant_pool_consent(db.session, record, months=24, notice_version="t",
                                           source="test", now=start)
            if pool == "withdrawn":
                consent.withdraw_pool_consent(db.session, record, notice_version="t",
                                              source="test", now=clock())
            ids[name] = record.public_id
        users = {
            "recruiter": User(email="r@x", password_hash="-", role="recruiter",
                              company="Ingenium"),
            "admin": User(email="a@x", password_hash="-", role="admin", company="Ingenium"),
            "disabled": User(email="d@x", password_hash="-", role="recruiter",
                             company="Ingenium", active=False),
        }
        db.session.add_all(users.values())
        db.session.commit()
        return ids, {k: u.id for k, u in users.items()}


@pytest.mark.parametrize("record", sorted(CASES))
@pytest.mark.parametrize("who", ["recruiter", "admin", "disabled"])
def test_every_cell_of_the_access_matrix(app, clock, world, record, who):
    ids, users = world
    expected = {"admin": True, "disabled": False}.get(who, record in RECRUITER_SEES)
    with app.app_context():
        user = db.session.get(User, users[who])
        found = visible_candidate(db.session, user, ids[record], clock())
        assert (found is not None) is expected
        if found is not None:
            assert can_see(db.session, user, found, clock())


def test_pool_visibility_ends_the_moment_consent_expires(app, clock, world):
    ids, users = world
    with app.app_context():
        user = db.session.get(User, users["recruiter"])
        assert visible_candidate(db.session, user, ids["spontaneous_in_pool"], clock())
        assert visible_candidate(db.session, user, ids["spontaneous_in_pool"],
                                 clock() + timedelta(days=731)) is None
