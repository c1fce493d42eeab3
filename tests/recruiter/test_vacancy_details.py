"""The recruiter sets a vacancy's contract type, hours, posting day and description
through the form, submitted as a browser submits it (CSRF on, over HTTPS)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.browser import BROWSER_CONFIG, BrowserLikeClient, staff_browser
from vault.extensions import db
from vault.models import Vacancy

pytestmark = pytest.mark.app_config(**BROWSER_CONFIG)


@pytest.fixture
def recruiter(app, make_user) -> BrowserLikeClient:
    return staff_browser(app, make_user(role="recruiter", company="Hoptimize"))


def _vacancy(app) -> Vacancy:
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy))
        db.session.expunge_all()
        return vacancy


NEW = {"title": "Platform engineer", "location": "Leuven", "contract_type": "fixed_term",
       "hours_per_week": "32", "posted_on": "2026-02-27",
       "description": "You keep our platform running.\r\n\r\nWhat you bring:\r\n- Linux"}


def test_recruiter_sets_every_field_of_a_new_vacancy(app, recruiter, client):
    recruiter.open("/vacancies/new")
    response = recruiter.submit(fields=NEW)
    assert response.status_code == 302
    vacancy = _vacancy(app)
    assert (vacancy.company, vacancy.location, vacancy.contract_type, vacancy.hours_per_week,
            vacancy.posted_on) == ("Hoptimize", "Leuven", "fixed_term", 32, date(2026, 2, 27))
    assert vacancy.description == "You keep our platform running.\r\n\r\nWhat you bring:\r\n- Linux"
    page = client.get(f"/jobs/{vacancy.slug}").get_data(as_text=True)
    assert "<dd>Fixed-term contract</dd>" in page and "<dd>32 hours a week</dd>" in page
    assert "<dd>27/02/2026</dd>" in page
    assert "<p>What you bring:<br>\n- Linux</p>" in page


def test_posting_day_defaults_to_today_in_belgium(app, recruiter, clock):
    clock.current = clock.current.replace(hour=23, minute=30)  # 00:30 the next day in Brussels
    recruiter.open("/vacancies/new")
    assert recruiter.submit(fields={**NEW, "posted_on": ""}).status_code == 302
    assert _vacancy(app).posted_on == date(2026, 3, 3)


def test_recruiter_edits_the_new_fields_and_the_form_shows_them(app, recruiter):
    recruiter.open("/vacancies/new")
    recruiter.submit(fields=NEW)
    slug = _vacancy(app).slug
    recruiter.open(f"/vacancies/{slug}/edit")
    form = recruiter.form()
    assert (form.value("contract_type"), form.value("hours_per_week"),
            form.value("posted_on")) == ("fixed_term", "32", "2026-02-27")
    response = recruiter.submit(fields={"contract_type": "permanent", "hours_per_week": "38",
                                        "posted_on": "2026-03-01"})
    assert response.status_code == 302
    vacancy = _vacancy(app)
    assert (vacancy.contract_type, vacancy.hours_per_week, vacancy.posted_on) == (
        "permanent", 38, date(2026, 3, 1))
    # The description came back from the textarea unchanged.
    assert vacancy.description == NEW["description"]


@pytest.mark.parametrize(("fields", "says"), [
    ({"posted_on": "2026-03-03"}, b"cannot be in the future"),
    ({"posted_on": "2024-01-01"}, b"more than a year ago"),
    ({"posted_on": "27/02/2026"}, b"Not a valid date value"),
    ({"hours_per_week": "0"}, b"Enter a whole number from 1 to 60."),
    ({"hours_per_week": "80"}, b"Enter a whole number from 1 to 60."),
    ({"hours_per_week": "38.5"}, b"Not a valid integer value"),
    ({"contract_type": "slavery"}, b"Not a valid choice"),
    ({"location": "Ghent\r\nBrussels"}, b"must be one line"),
    ({"location": "x" * 121}, b"Field cannot be longer than 120 characters."),
])
def test_bad_values_are_refused_clearly_and_nothing_is_stored(app, recruiter, fields, says):
    recruiter.open("/vacancies/new")
    response = recruiter.submit(fields={**NEW, **fields})
    assert response.status_code == 400 and says in response.data
    with app.app_context():
        assert db.session.scalar(select(Vacancy)) is None


def test_bad_edit_changes_nothing(app, recruiter):
    recruiter.open("/vacancies/new")
    recruiter.submit(fields=NEW)
    slug = _vacancy(app).slug
    recruiter.open(f"/vacancies/{slug}/edit")
    response = recruiter.submit(fields={"title": "Renamed", "posted_on": "2030-01-01"})
    assert response.status_code == 400 and b"cannot be in the future" in response.data
    vacancy = _vacancy(app)
    assert (vacancy.title, vacancy.posted_on) == ("Platform engineer", date(2026, 2, 27))


def test_a_vacancy_posted_long_ago_stays_editable(app, recruiter):
    recruiter.open("/vacancies/new")
    recruiter.submit(fields=NEW)
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy))
        vacancy.posted_on = date(2024, 5, 1)  # before the one-year limit: kept as it is
        slug = vacancy.slug
        db.session.commit()
    recruiter.open(f"/vacancies/{slug}/edit")
    assert recruiter.submit(fields={"title": "Platform engineer II"}).status_code == 302
    vacancy = _vacancy(app)
    assert (vacancy.title, vacancy.posted_on) == ("Platform engineer II", date(2024, 5, 1))


def test_form_errors_are_translated(app, recruiter):
    recruiter.open("/vacancies/new?lang=nl")
    response = recruiter.submit(fields={**NEW, "posted_on": "2026-03-05"})
    assert response.status_code == 400
    assert "De datum van plaatsing mag niet in de toekomst liggen." in response.get_data(
        as_text=True)
