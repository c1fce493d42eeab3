"""`vault seed-demo N`: fictitious candidates for a demo (never on a production vault)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from vault.appctx import now, vault_keys
from vault.cli import require_secrets
from vault.extensions import db
from vault.keys import VaultKeys
from vault.models import Vacancy
from vault.privacy import NOTICE_VERSION
from vault.services import consent
from vault.services.bulkload import (
    BATCH,
    BuiltRecord,
    ConsentRow,
    PlannedRecord,
    analyze_after_load,
    build_batch,
    default_workers,
    load,
    run_jobs,
    token_arrays_for,
)
from vault.services.demo import people, person_rng
from vault.services.indexing import TokenMemo
from vault.services.vacancies import VacancyDetails, create_vacancy, local_day

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


@dataclass(frozen=True)
class _DemoBatch:
    start: int
    count: int
    seed: int
    vacancy_ids: tuple[int, ...]
    months: int
    now: datetime
    token_arrays: bool = False  # PostgreSQL: token_ids made by the workers


def demo_records(batch: _DemoBatch) -> list[PlannedRecord]:
    """People start.. of the seed, as the application form would leave them: applied
    (60% to a vacancy), consent to the application, 40% also to the talent pool."""
    # Every person of a batch has one of two ledgers, made once and shared: the same
    # rows, and pickled once per batch on their way back from a worker (pickle keeps
    # one copy of an object it meets again).
    until = consent.add_months(batch.now, batch.months)
    application = ConsentRow(consent.APPLICATION, consent.GRANTED, NOTICE_VERSION, "demo",
                             batch.now)
    applied = (application,)
    pool = (application, ConsentRow(consent.TALENT_POOL, consent.GRANTED, NOTICE_VERSION,
                                    "demo", batch.now, until))
    planned = []
    for number, person in enumerate(people(batch.count, batch.seed, start=batch.start),
                                    start=batch.start):
        pick = person_rng(batch.seed, -1 - number)  # the vacancy draw, apart from the person
        vacancy = (pick.choice(batch.vacancy_ids)
                   if batch.vacancy_ids and pick.random() < 0.6 else None)
        planned.append(PlannedRecord(data=person.data, source="demo",
                                     consents=pool if person.pool else applied,
                                     pool_consent_until=until if person.pool else None,
                                     vacancy_id=vacancy))
    return planned


def _build_demo(keys: VaultKeys, batch: _DemoBatch, memo: TokenMemo) -> list[BuiltRecord]:
    return build_batch(keys, demo_records(batch), now=batch.now, memo=memo,
                       token_arrays=batch.token_arrays)


@click.command("seed-demo")
@click.argument("count", type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=1, show_default=True, help="Same seed, same people.")
@click.option("--workers", type=click.IntRange(0, 16), default=None,
              help="Processes that seal the records (default: one per CPU; 0: none).")
@with_appcontext
def seed_demo_command(count: int, seed: int, workers: int | None) -> None:
    """Add COUNT fictitious candidates (about 40% in the talent pool), in one transaction."""
    require_secrets()
    keys, moment = vault_keys(), now()
    vacancy_ids = tuple(v.id for v in _vacancies())
    months = int(current_app.config["TALENT_POOL_MONTHS"])
    token_arrays = token_arrays_for(db.session)
    batches = (_DemoBatch(start, min(BATCH, count - start), seed, vacancy_ids, months, moment,
                          token_arrays)
               for start in range(0, count, BATCH))
    chosen = default_workers(keys) if workers is None else workers
    with click.progressbar(length=count, label="Seeding") as bar:
        try:
            load(db.session, keys, run_jobs(keys, _build_demo, batches, workers=chosen),
                 now=moment, progress=bar.update)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    analyze_after_load(db.session, count)
    click.echo(f"Added {count} demo candidates.")


COMMANDS = [seed_demo_command]
