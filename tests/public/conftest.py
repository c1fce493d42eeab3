from __future__ import annotations

from datetime import date

import pytest

from vault.extensions import db
from vault.services.vacancies import VacancyDetails, close_vacancy, create_vacancy


@pytest.fixture
def open_job(app):
    """Opens a vacancy with every field a job page shows; returns its slug."""

    def make(company: str = "Ingenium", title: str = "Data engineer", *,
             closed: bool = False, **details: object) -> str:
        fields: dict[str, object] = {
            "location": "Ghent", "contract_type": "permanent", "hours_per_week": 38,
            "posted_on": date(2026, 2, 20), "description": "You build our data pipelines."}
        fields.update(details)
        with app.app_context():
            vacancy = create_vacancy(db.session, company=company, title=title,
                                     details=VacancyDetails(**fields),  # type: ignore[arg-type]
                                     companies=app.config["COMPANIES"],
                                     now=app.config["CLOCK"]())
            if closed:
                close_vacancy(vacancy, now=app.config["CLOCK"]())
            db.session.commit()
            return vacancy.slug

    return make
