from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.services.test_candidates import sample_input
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import Candidate, Note, User, Vacancy
from vault.services import consent
from vault.services.access import (
    application_companies,
    can_read_note,
    can_see,
    may_write,
    note_company,
    note_reader,
    visible_candidate,
)
from vault.services.candidates import create_candidate

CASES = {
    # record: (vacancy company or None, companies a spontaneous application names,
    #          pool consent: None | "live" | "expired" | "withdrawn")
    "own_applicant": ("Ingenium", (), None),
    "other_applicant": ("Hoptimize", (), None),
    "other_applicant_in_pool": ("Hoptimize", (), "live"),
    "other_applicant_pool_expired": ("Hoptimize", (), "expired"),
    "other_applicant_pool_withdrawn": ("Hoptimize", (), "withdrawn"),
    # Spontaneous applications from before the form asked for a company name none.
    "spontaneous": (None, (), None),
    "spontaneous_in_pool": (None, (), "live"),
    "spontaneous_for_own": (None, ("Ingenium",), None),
    "spontaneous_for_own_pool_withdrawn": (None, ("Ingenium",), "withdrawn"),
    "spontaneous_for_both": (None, ("Ingenium", "Hoptimize"), None),
    "spontaneous_for_other": (None, ("Hoptimize",), None),
    "spontaneous_for_other_in_pool": (None, ("Hoptimize",), "live"),
    "spontaneous_for_other_pool_expired": (None, ("Hoptimize",), "expired"),
}
# The recruiter is Ingenium's.
RECRUITER_SEES = {"own_applicant", "other_applicant_in_pool", "spontaneous_in_pool",
                  "spontaneous_for_own", "spontaneous_for_own_pool_withdrawn",
                  "spontaneous_for_both", "spontaneous_for_other_in_pool"}


@pytest.fixture
def world(app, clock):
    with app.app_context():
        vacancies = {c: Vacancy(slug=c.lower(), company=c, title="Job", status="open")
                     for c in ("Ingenium", "Hoptimize")}
        db.session.add_all(vacancies.values())
        db.session.flush()
        ids = {}
        for name, (company, named, pool) in CASES.items():
            start = clock() - timedelta(days=800) if pool == "expired" else clock()
            record = create_candidate(db.session, vault_keys(), sample_input(), now=start,
                                      vacancy_id=vacancies[company].id if company else None,
                                      companies=named)
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


# --- writes and notes ------------------------------------------------------------------

WRITERS = {
    "recruiter": ("recruiter", "Ingenium"),
    "other_recruiter": ("recruiter", "Hoptimize"),
    "admin": ("admin", "Ingenium"),
}


@pytest.fixture
def writers(app):
    with app.app_context():
        users = {name: User(email=f"{name}@w", password_hash="-", role=role, company=company)
                 for name, (role, company) in WRITERS.items()}
        db.session.add_all(users.values())
        db.session.commit()
        return {name: u.id for name, u in users.items()}


@pytest.mark.parametrize("record", sorted(CASES))
@pytest.mark.parametrize("who", sorted(WRITERS))
def test_status_is_written_only_by_recruiters_of_the_applications_company(
        app, clock, world, writers, record, who):
    ids, _users = world
    with app.app_context():
        user = db.session.get(User, writers[who])
        candidate = visible_candidate(db.session, db.session.get(User, writers["admin"]),
                                      ids[record], clock())
        company, named, _pool = CASES[record]
        made_to = {company} if company else set(named)
        role, users_company = WRITERS[who]
        expected = role == "recruiter" and users_company in made_to
        assert may_write(db.session, user, candidate, "status", clock()) is expected
        assert application_companies(candidate) == made_to


@pytest.mark.parametrize("record", sorted(CASES))
@pytest.mark.parametrize("who", ["recruiter", "admin", "disabled"])
def test_a_note_may_be_added_by_whoever_sees_the_record(app, clock, world, record, who):
    ids, users = world
    with app.app_context():
        user = db.session.get(User, users[who])
        candidate = db.session.scalar(select(Candidate).where(Candidate.public_id == ids[record]))
        assert may_write(db.session, user, candidate, "note", clock()) is can_see(
            db.session, user, candidate, clock())


@pytest.mark.parametrize(("role", "company", "note_company", "reads"), [
    ("recruiter", "Ingenium", "Ingenium", True),
    ("recruiter", "Ingenium", "Hoptimize", False),
    ("recruiter", "Ingenium", None, False),  # the officer's own note
    ("admin", "Ingenium", "Hoptimize", True),
    ("admin", "Hoptimize", None, True),
])
def test_notes_are_read_by_their_company_and_the_officer(role, company, note_company, reads):
    user = User(email="u@x", password_hash="-", role=role, company=company, active=True)
    note = Note(company=note_company)
    assert can_read_note(user, note) is reads
    assert note_reader(user)(note) is reads


def test_a_disabled_recruiter_reads_no_note():
    user = User(email="u@x", password_hash="-", role="recruiter", company="Ingenium",
                active=False)
    assert can_read_note(user, Note(company="Ingenium")) is False


def test_a_note_belongs_to_the_recruiters_company_or_to_the_officer():
    recruiter = User(email="r@x", password_hash="-", role="recruiter", company="Hoptimize",
                     active=True)
    officer = User(email="a@x", password_hash="-", role="admin", company="Ingenium",
                   active=True)
    assert note_company(recruiter) == "Hoptimize"
    assert note_company(officer) is None
