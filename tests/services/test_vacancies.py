from __future__ import annotations

from datetime import date

import pytest

from vault.extensions import db
from vault.services.vacancies import (
    VacancyDetails,
    VacancyError,
    check_details,
    close_vacancy,
    create_vacancy,
    local_day,
    open_vacancies,
    slugify,
    update_vacancy,
)

COMPANIES = ["Ingenium", "Hoptimize"]


def test_slugs_are_ascii_and_unique(app, clock):
    with app.app_context():
        first = create_vacancy(db.session, company="Ingenium", title="Ingénieur Données (m/f/x)",
                               companies=COMPANIES, now=clock())
        second = create_vacancy(db.session, company="Hoptimize",
                                title="Ingénieur Données (m/f/x)", companies=COMPANIES,
                                now=clock())
        assert first.slug == "ingenieur-donnees-m-f-x"
        assert second.slug == "ingenieur-donnees-m-f-x-2"


def test_reserved_and_invalid_slugs_are_refused(app, clock):
    with app.app_context():
        for slug in ("done", "Bad Slug", "../x"):
            with pytest.raises(VacancyError):
                create_vacancy(db.session, company="Ingenium", title="T", slug=slug,
                               companies=COMPANIES, now=clock())
        create_vacancy(db.session, company="Ingenium", title="T", slug="taken",
                       companies=COMPANIES, now=clock())
        with pytest.raises(VacancyError, match="already taken"):
            create_vacancy(db.session, company="Ingenium", title="T", slug="taken",
                           companies=COMPANIES, now=clock())


def test_unknown_company_and_empty_title_are_refused(app, clock):
    with app.app_context():
        with pytest.raises(VacancyError, match="company must be"):
            create_vacancy(db.session, company="Acme", title="T", companies=COMPANIES,
                           now=clock())
        with pytest.raises(VacancyError, match="title"):
            create_vacancy(db.session, company="Ingenium", title="  ", companies=COMPANIES,
                           now=clock())


def test_closing_starts_the_retention_clock_and_hides_the_vacancy(app, clock):
    with app.app_context():
        vacancy = create_vacancy(db.session, company="Ingenium", title="T",
                                 companies=COMPANIES, now=clock())
        close_vacancy(vacancy, now=clock.advance(days=3))
        assert vacancy.closed_at == clock() and not vacancy.is_open
        assert open_vacancies(db.session) == []


def test_slugify_never_returns_an_empty_slug():
    assert slugify("!!!") == "vacancy"


@pytest.mark.parametrize("title", ["Data\r\nBcc: spy@evil.example", "Data\nengineer",
                                   "Data\tengineer", "Data\x00engineer", "Data\u2028engineer"])
def test_a_title_with_control_characters_is_refused(app, clock, title):
    with app.app_context():
        with pytest.raises(VacancyError, match="one line"):
            create_vacancy(db.session, company="Ingenium", title=title, companies=COMPANIES,
                           now=clock())
        vacancy = create_vacancy(db.session, company="Ingenium", title="Data engineer",
                                 companies=COMPANIES, now=clock())
        with pytest.raises(VacancyError, match="one line"):
            update_vacancy(vacancy, title=title, location="", description="",
                           companies=COMPANIES)
        assert vacancy.title == "Data engineer"


def test_details_are_checked_and_trimmed(clock):
    checked = check_details(VacancyDetails(location="  Ghent ", description="\n Text \n",
                                           contract_type="student", hours_per_week=60,
                                           posted_on=date(2026, 3, 2)), now=clock())
    assert (checked.location, checked.description, checked.hours_per_week) == (
        "Ghent", "Text", 60)


@pytest.mark.parametrize(("details", "field"), [
    (VacancyDetails(location="Ghent\u2028Brussels"), "location"),
    (VacancyDetails(location="x" * 121), "location"),
    (VacancyDetails(description="x" * 10_001), "description"),
    (VacancyDetails(contract_type="zero-hours"), "contract_type"),
    (VacancyDetails(hours_per_week=0), "hours_per_week"),
    (VacancyDetails(hours_per_week=61), "hours_per_week"),
    (VacancyDetails(posted_on=date(2026, 3, 3)), "posted_on"),
    (VacancyDetails(posted_on=date(2025, 2, 28)), "posted_on"),
])
def test_bad_details_are_refused_naming_their_field(clock, details, field):
    with pytest.raises(VacancyError) as refused:
        check_details(details, now=clock())
    assert refused.value.field == field


def test_today_is_the_day_in_brussels(app, clock):
    late = clock.current.replace(hour=23, minute=30)  # 00:30 on 3 March in Brussels
    assert local_day(late) == date(2026, 3, 3)
    check_details(VacancyDetails(posted_on=date(2026, 3, 3)), now=late)
    with app.app_context():
        vacancy = create_vacancy(db.session, company="Ingenium", title="T",
                                 companies=COMPANIES, now=late)
        assert vacancy.posted_on == date(2026, 3, 3)


def test_older_callers_keep_the_new_fields(app, clock):
    with app.app_context():
        vacancy = create_vacancy(db.session, company="Ingenium", title="T", companies=COMPANIES,
                                 now=clock(), details=VacancyDetails(
                                     contract_type="permanent", hours_per_week=38))
        update_vacancy(vacancy, title="T2", location="Ghent", description="D",
                       companies=COMPANIES)
        assert (vacancy.title, vacancy.location, vacancy.contract_type,
                vacancy.hours_per_week) == ("T2", "Ghent", "permanent", 38)
