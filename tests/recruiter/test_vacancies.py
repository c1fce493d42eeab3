from __future__ import annotations

from sqlalchemy import select

from tests.journey import make_vacancy
from vault.extensions import db
from vault.models import Vacancy


def test_recruiter_creates_edits_and_closes_a_vacancy(app, make_user, login, clock):
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Hoptimize"))
    response = client.post("/vacancies/new", data={"title": "SRE", "location": "Ghent"})
    assert response.status_code == 302
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy))
        assert (vacancy.company, vacancy.slug) == ("Hoptimize", "sre")
    client.post("/vacancies/sre/edit", data={"title": "Senior SRE", "location": "Ghent"})
    clock.advance(days=2)
    client.post("/vacancies/sre/close", data={"confirm": "yes"})
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy))
        assert vacancy.title == "Senior SRE" and vacancy.closed_at == clock()
    assert b"Senior SRE" in client.get("/vacancies").data


def test_a_title_with_a_line_break_is_refused_with_a_clear_message(app, make_user, login):
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Hoptimize"))
    response = client.post("/vacancies/new", data={"title": "SRE\r\nBcc: spy@evil.example"})
    assert response.status_code == 400 and b"must be one line" in response.data
    with app.app_context():
        assert db.session.scalar(select(Vacancy)) is None


def test_other_companys_vacancy_pages_are_404(app, make_user, login):
    slug = make_vacancy(app, company="Ingenium")
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Hoptimize"))
    assert client.get(f"/vacancies/{slug}").status_code == 404
    assert client.get(f"/vacancies/{slug}/edit").status_code == 404
    assert client.post(f"/vacancies/{slug}/close").status_code == 404
    assert b"Data engineer" not in client.get("/vacancies").data


def test_vacancy_without_a_title_is_refused(app, make_user, login):
    client = app.test_client()
    login(client, make_user())
    assert client.post("/vacancies/new", data={"title": ""}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Vacancy)) is None


def test_vacancy_page_lists_its_applicants(app, records, make_user, login):
    client = app.test_client()
    login(client, make_user(role="recruiter", company="Ingenium"))
    page = client.get("/vacancies/data-engineer").data.decode()
    assert "Own Applicant" in page


def test_vacancies_are_listed_with_their_applicant_counts(app, records, make_user):
    from vault.models import User
    from vault.services.workspace import company_vacancies, managed_vacancies

    admin, recruiter = make_user(role="admin"), make_user(role="recruiter", company="Ingenium")
    with app.app_context():
        for_admin = company_vacancies(db.session, db.session.get(User, admin))
        own = db.session.get(User, recruiter)
        assert sorted((v.title, n) for v, n in for_admin) == [
            ("Data engineer", 1), ("Web developer", 2)]
        assert [(v.title, n) for v, n in company_vacancies(db.session, own)] == [
            ("Data engineer", 1)]
        assert [v.title for v in managed_vacancies(db.session, own)] == ["Data engineer"]
