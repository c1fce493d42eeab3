from __future__ import annotations

import pytest

from vault.extensions import db
from vault.services.vacancies import (
    VacancyError,
    close_vacancy,
    create_vacancy,
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
