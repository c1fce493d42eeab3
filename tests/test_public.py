from __future__ import annotations

from tests.journey import make_vacancy
from vault.extensions import db
from vault.models import Vacancy
from vault.privacy import NOTICE_VERSION


def test_privacy_notice_shows_its_version_and_the_configured_periods(client):
    page = client.get("/privacy").data.decode()
    assert NOTICE_VERSION in page
    assert "180 days" in page and "24 months" in page and "within 4 weeks" in page


def test_privacy_notice_follows_the_configuration(app, client):
    app.config.update(TALENT_POOL_MONTHS=12, APPLICATION_RETENTION_DAYS=90)
    page = client.get("/privacy").data.decode()
    assert "12 months" in page and "90 days" in page


def test_home_lists_open_vacancies_only(app, client):
    open_slug = make_vacancy(app, title="Cloud architect")
    closed_slug = make_vacancy(app, company="Hoptimize", title="Retired role")
    with app.app_context():
        vacancy = db.session.query(Vacancy).filter_by(slug=closed_slug).one()
        vacancy.status = "closed"
        db.session.commit()
    page = client.get("/").data.decode()
    assert "Cloud architect" in page and f"/apply/{open_slug}" in page
    assert "Retired role" not in page
    assert 'href="/apply"' in page
