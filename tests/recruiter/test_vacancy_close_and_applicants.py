"""Closing a vacancy asks first and can be undone; its applicant list is paged and
filtered by status."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.journey import make_vacancy
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import AuditEvent, Candidate, Vacancy
from vault.services import audit
from vault.services.candidates import CandidateInput, create_candidate
from vault.services.vacancies import vacancy_by_slug


def _vacancy(app, slug: str = "data-engineer") -> Vacancy:
    with app.app_context():
        vacancy = vacancy_by_slug(db.session, slug)
        db.session.expunge(vacancy)
        return vacancy


def _events(app, action: str) -> list[tuple[int | None, str]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(AuditEvent.actor_id, AuditEvent.detail).where(AuditEvent.action == action))]


@pytest.fixture
def slug(app) -> str:
    return make_vacancy(app, company="Ingenium")


@pytest.fixture
def recruiter(app, make_user, login):
    client = app.test_client()
    client.user_id = make_user(role="recruiter", company="Ingenium")
    login(client, client.user_id)
    return client


def test_closing_asks_for_confirmation_first(app, slug, recruiter):
    page = recruiter.get(f"/vacancies/{slug}").data.decode()
    assert f'href="/vacancies/{slug}/close"' in page  # a link to the question, no form
    question = recruiter.get(f"/vacancies/{slug}/close")
    html = question.data.decode()
    assert question.status_code == 200 and "Close Data engineer?" in html
    assert 'name="confirm"' in html and 'value="yes"' in html
    assert _vacancy(app, slug).status == "open"


def test_a_post_without_the_confirmation_changes_nothing(app, slug, recruiter):
    response = recruiter.post(f"/vacancies/{slug}/close")
    assert response.status_code == 200 and b"Yes, close the vacancy" in response.data
    response = recruiter.post(f"/vacancies/{slug}/close", data={"confirm": "sure"})
    assert response.status_code == 200
    assert _vacancy(app, slug).status == "open"
    assert _events(app, audit.VACANCY_CLOSED) == []


def test_confirmed_close_closes_and_is_audited(app, slug, recruiter, clock):
    response = recruiter.post(f"/vacancies/{slug}/close", data={"confirm": "yes"})
    assert response.status_code == 302
    vacancy = _vacancy(app, slug)
    assert (vacancy.status, vacancy.closed_at) == ("closed", clock())
    assert _events(app, audit.VACANCY_CLOSED) == [(recruiter.user_id, f"vacancy={slug}")]
    again = recruiter.get(f"/vacancies/{slug}/close", follow_redirects=True)
    assert b"already closed" in again.data


def test_reopen_undoes_the_close_and_is_audited(app, slug, recruiter):
    recruiter.post(f"/vacancies/{slug}/close", data={"confirm": "yes"})
    page = recruiter.get(f"/vacancies/{slug}").data.decode()
    assert f'action="/vacancies/{slug}/reopen"' in page
    response = recruiter.post(f"/vacancies/{slug}/reopen")
    assert response.status_code == 302
    vacancy = _vacancy(app, slug)
    assert (vacancy.status, vacancy.closed_at) == ("open", None)
    assert _events(app, audit.VACANCY_REOPENED) == [(recruiter.user_id, f"vacancy={slug}")]
    assert b"already open" in recruiter.post(f"/vacancies/{slug}/reopen",
                                             follow_redirects=True).data
    assert len(_events(app, audit.VACANCY_REOPENED)) == 1


def test_only_the_vacancys_company_reopens_it(app, slug, recruiter, make_user, login):
    recruiter.post(f"/vacancies/{slug}/close", data={"confirm": "yes"})
    other = app.test_client()
    login(other, make_user(role="recruiter", company="Hoptimize"))
    assert other.post(f"/vacancies/{slug}/reopen").status_code == 404
    officer = app.test_client()
    login(officer, make_user(role="admin", company="Ingenium"))
    assert f'/vacancies/{slug}/reopen' not in officer.get(f"/vacancies/{slug}").data.decode()
    refused = officer.post(f"/vacancies/{slug}/reopen")
    assert refused.status_code == 403 and b"Only recruiters of this vacancy" in refused.data
    assert _vacancy(app, slug).status == "closed"
    assert _events(app, audit.VACANCY_REOPENED) == []


def _applicants(app, slug: str, statuses: list[str]) -> None:
    """Records straight through the service (no upload inspection): names Applicant 00,
    01, … in the order they arrived."""
    with app.app_context():
        vacancy = vacancy_by_slug(db.session, slug)
        start = app.config["CLOCK"]()
        for i, status in enumerate(statuses):
            record = create_candidate(
                db.session, vault_keys(),
                CandidateInput(full_name=f"Applicant {i:02d}", email=f"a{i}@example.org"),
                now=start + timedelta(minutes=i), vacancy_id=vacancy.id)
            record.status = status
        db.session.commit()


def test_applicant_list_is_paged_by_25_newest_first(app, slug, recruiter):
    _applicants(app, slug, ["new"] * 27)
    first = recruiter.get(f"/vacancies/{slug}").data.decode()
    assert first.count("Applicant ") == 25 and "Applicant 26" in first
    assert "Applicant 01" not in first and "27 applicants · page 1 of 2" in first
    assert f'href="/vacancies/{slug}?page=2"' in first
    second = recruiter.get(f"/vacancies/{slug}?page=2").data.decode()
    assert "Applicant 01" in second and "Applicant 00" in second
    assert second.count("Applicant ") == 2 and "page 2 of 2" in second
    past = recruiter.get(f"/vacancies/{slug}?page=9")
    assert past.status_code == 200 and b"page 2 of 2" in past.data


def test_applicant_list_filters_by_status_and_keeps_it_across_pages(app, slug, recruiter):
    _applicants(app, slug, ["reviewing", "new"] * 14)
    with app.app_context():
        assert db.session.scalar(select(Candidate.id).where(Candidate.status == "hired")) is None
    page = recruiter.get(f"/vacancies/{slug}?status=reviewing").data.decode()
    assert "14 applicants · page 1 of 1" in page and "Applicant 00" in page
    assert "Applicant 01" not in page
    assert '<option selected value="reviewing">' in page
    assert b"No applicants with this status." in recruiter.get(
        f"/vacancies/{slug}?status=hired").data


def test_status_filter_link_to_the_next_page_keeps_the_filter(app, slug, recruiter):
    _applicants(app, slug, ["new"] * 26)
    page = recruiter.get(f"/vacancies/{slug}?status=new").data.decode()
    assert f'href="/vacancies/{slug}?page=2&amp;status=new"' in page


@pytest.mark.parametrize("query", ["page=abc", "page=-1", "page=0", "status=boss",
                                   "status=%00", "page=99999999999999999999"])
def test_garbage_in_the_query_shows_everyone_from_page_one_with_a_message(
        app, slug, recruiter, query):
    _applicants(app, slug, ["new", "hired"])
    response = recruiter.get(f"/vacancies/{slug}?{query}")
    body = response.data.decode()
    assert response.status_code == 400
    assert "That filter or page was not understood" in body
    assert "Applicant 00" in body and "Applicant 01" in body


def test_applicant_list_message_is_translated(app, slug, recruiter):
    page = html.unescape(recruiter.get(f"/vacancies/{slug}?page=x&lang=fr").data.decode())
    assert "Ce filtre ou cette page n'a pas été compris" in page
