from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from vault.extensions import db
from vault.models import Vacancy


def test_create_vacancy_prints_the_slug(app, runner):
    result = runner.invoke(args=["vault", "create-vacancy", "--company", "Hoptimize",
                                 "--title", "Backend developer", "--location", "Brussels"])
    assert result.exit_code == 0 and result.output.strip() == "backend-developer"
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy))
        assert (vacancy.company, vacancy.location, vacancy.status) == (
            "Hoptimize", "Brussels", "open")


def test_create_vacancy_refuses_an_unknown_company(app, runner):
    result = runner.invoke(args=["vault", "create-vacancy", "--company", "Acme",
                                 "--title", "X"])
    assert result.exit_code != 0 and "company must be" in result.output
    with app.app_context():
        assert db.session.scalar(select(Vacancy)) is None


def test_create_vacancy_refuses_a_title_with_a_line_break(app, runner):
    result = runner.invoke(args=["vault", "create-vacancy", "--company", "Hoptimize",
                                 "--title", "Backend\r\nBcc: spy@evil.example"])
    assert result.exit_code != 0 and "must be one line" in result.output
    with app.app_context():
        assert db.session.scalar(select(Vacancy)) is None


def test_close_vacancy_of_an_unknown_slug_is_an_error(runner):
    result = runner.invoke(args=["vault", "close-vacancy", "nope"])
    assert result.exit_code != 0 and "No vacancy" in result.output


def test_create_vacancy_takes_contract_hours_and_posting_day(app, runner):
    result = runner.invoke(args=["vault", "create-vacancy", "--company", "Ingenium",
                                 "--title", "Data engineer", "--location", "Ghent",
                                 "--contract-type", "internship", "--hours", "20",
                                 "--posted", "2026-02-27",
                                 "--description", "Line one\nLine two"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy))
        assert (vacancy.contract_type, vacancy.hours_per_week, vacancy.posted_on,
                vacancy.description) == ("internship", 20, date(2026, 2, 27),
                                         "Line one\nLine two")


def test_create_vacancy_posts_today_when_no_day_is_given(app, runner, clock):
    assert runner.invoke(args=["vault", "create-vacancy", "--company", "Ingenium",
                               "--title", "X"]).exit_code == 0
    with app.app_context():
        vacancy = db.session.scalar(select(Vacancy))
        assert (vacancy.posted_on, vacancy.contract_type, vacancy.hours_per_week) == (
            clock().date(), "", None)


@pytest.mark.parametrize(("option", "says"), [
    (["--hours", "99"], "whole number from 1 to 60"),
    (["--posted", "2030-01-01"], "cannot be in the future"),
    (["--posted", "01/03/2026"], "Invalid value for '--posted'"),
    (["--contract-type", "zero-hours"], "Invalid value for '--contract-type'"),
])
def test_create_vacancy_refuses_bad_details_and_stores_nothing(app, runner, option, says):
    result = runner.invoke(args=["vault", "create-vacancy", "--company", "Ingenium",
                                 "--title", "X", *option])
    assert result.exit_code != 0 and says in result.output
    with app.app_context():
        assert db.session.scalar(select(Vacancy)) is None
