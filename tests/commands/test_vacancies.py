from __future__ import annotations

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
