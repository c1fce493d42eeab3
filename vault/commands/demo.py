"""`vault seed-demo N`: fictitious candidates for a demo (never on a production vault)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from vault.appctx import now, vault_keys
from vault.cli import require_secrets
from vault.extensions import db
from vault.models import Vacancy
from vault.privacy import NOTICE_VERSION
from vault.services import consent
from vault.services.candidates import create_candidate
from vault.services.demo import people
from vault.services.indexing import TokenMemo
from vault.services.vacancies import VacancyDetails, create_vacancy, local_day

BATCH = 200
# Fictitious vacancies with every field a job page shows: (company, title, details).
DEMO_VACANCIES: list[tuple[str, str, VacancyDetails]] = [
    ("Ingenium", "Data engineer", VacancyDetails(
        location="Ghent", contract_type="permanent", hours_per_week=38,
        description="You build and run the data pipelines of our engineering projects.\n\n"
                    "What you bring:\n- Python and SQL\n- Curiosity for industrial data")),
    ("Ingenium", "Project manager", VacancyDetails(
        location="Antwerp", contract_type="fixed_term", hours_per_week=32,
        description="You lead engineering projects for our clients, from offer to delivery.")),
    ("Hoptimize", "Backend developer", VacancyDetails(
        location="Brussels", contract_type="permanent", hours_per_week=38,
        description="You write the services behind our logistics platform.\n\n"
                    "What you bring:\n- Python or Go\n- PostgreSQL")),
    ("Hoptimize", "Cloud architect", VacancyDetails(
        location="Brussels", contract_type="freelance", hours_per_week=20,
        description="You design how our platform runs in the cloud, two to three days a week.")),
]
# Posted on different days, so the start page shows real dates.
DEMO_POSTED_DAYS_AGO = (2, 9, 16, 30)


def _vacancies() -> list[Vacancy]:
    existing = list(db.session.scalars(select(Vacancy).where(Vacancy.status == "open")))
    if existing:
        return existing
    companies = current_app.config["COMPANIES"]
    moment = now()
    created = [create_vacancy(db.session, company=company, title=title, companies=companies,
                              now=moment,
                              details=replace(details, posted_on=local_day(moment) - timedelta(
                                  days=DEMO_POSTED_DAYS_AGO[i % len(DEMO_POSTED_DAYS_AGO)])))
               for i, (company, title, details) in enumerate(DEMO_VACANCIES)
               if company in companies]
    db.session.commit()
    return created


@click.command("seed-demo")
@click.argument("count", type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=1, show_default=True, help="Same seed, same people.")
@with_appcontext
def seed_demo_command(count: int, seed: int) -> None:
    """Add COUNT fictitious candidates (about 40% in the talent pool)."""
    require_secrets()
    keys, moment = vault_keys(), now()
    vacancies = _vacancies()
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not a secret
    months = current_app.config["TALENT_POOL_MONTHS"]
    memo: TokenMemo = {}
    with click.progressbar(people(count, seed), length=count, label="Seeding") as bar:
        for number, person in enumerate(bar, start=1):
            vacancy = rng.choice(vacancies) if rng.random() < 0.6 else None
            record = create_candidate(db.session, keys, person.data, now=moment, source="demo",
                                      vacancy_id=vacancy.id if vacancy else None,
                                      token_memo=memo)
            consent.record_consent(db.session, record, consent.APPLICATION, consent.GRANTED,
                                   notice_version=NOTICE_VERSION, source="demo", now=moment)
            if person.pool:
                consent.grant_pool_consent(db.session, record, months=months,
                                           notice_version=NOTICE_VERSION, source="demo",
                                           now=moment)
            if number % BATCH == 0:
                db.session.commit()
    db.session.commit()
    click.echo(f"Added {count} demo candidates.")


COMMANDS = [seed_demo_command]
