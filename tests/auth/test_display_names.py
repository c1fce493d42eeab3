"""Staff are people, not numbers: the officer reads names; the candidate reads role and
company, never a name or an id."""

from __future__ import annotations

from sqlalchemy import select

from tests.journey import apply, link_in, make_vacancy, outbox
from vault.extensions import db
from vault.models import Candidate


def _a_candidate(app) -> tuple[str, str]:
    slug = make_vacancy(app, company="Ingenium")
    apply(app.test_client(), slug)
    with app.app_context():
        public_id = db.session.scalar(select(Candidate.public_id))
    return public_id, link_in(outbox(app)[-1])


def test_the_officer_reads_names_in_the_audit_trail_and_notes(app, make_user, login):
    public_id, _ = _a_candidate(app)
    recruiter = app.test_client()
    login(recruiter, make_user(company="Ingenium", display_name="Rita Peeters"))
    recruiter.get(f"/candidates/{public_id}")
    recruiter.post(f"/candidates/{public_id}/notes", data={"body": "Call back on Monday"})
    officer = app.test_client()
    login(officer, make_user(role="admin", display_name="Olivier Dubois"))
    trail = officer.get("/admin/audit").get_data(as_text=True)
    assert "Rita Peeters" in trail and "Olivier Dubois" in trail
    notes = officer.get(f"/candidates/{public_id}").get_data(as_text=True)
    assert "Rita Peeters" in notes and "Call back on Monday" in notes


def test_the_candidate_sees_role_and_company_never_the_name(app, make_user, login):
    public_id, link = _a_candidate(app)
    recruiter = app.test_client()
    uid = make_user(company="Ingenium", display_name="Rita Peeters",
                    email="rita.peeters@group.example")
    login(recruiter, uid)
    recruiter.get(f"/candidates/{public_id}")
    recruiter.post(f"/candidates/{public_id}/notes", data={"body": "Strong profile"})
    page = app.test_client().get(link).get_data(as_text=True)
    who = page[page.index("Who opened your data"):]
    assert "A recruiter (Ingenium) looked at your data" in who
    assert "Rita" not in page and "rita.peeters" not in page and f"user {uid}" not in page
    assert "· Ingenium</span> Strong profile" in page


def test_a_name_falls_back_to_the_address_for_the_officer(app, make_user, login):
    officer = app.test_client()
    uid = make_user(role="admin", email="nameless.officer@group.example")
    login(officer, uid)
    assert "nameless.officer@group.example" in officer.get("/admin/audit").get_data(
        as_text=True)
