from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.databases import counted_candidates
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import Candidate, Vacancy
from vault.services.candidates import open_document_text
from vault.services.demo import SKILLS, people
from vault.uploads import inspect_upload


def test_seed_demo_adds_searchable_candidates(app, runner, clock):
    result = runner.invoke(args=["vault", "seed-demo", "30", "--seed", "7"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 30
        assert db.session.scalar(select(func.count()).select_from(Vacancy)) == 4
        in_pool = db.session.scalar(select(func.count()).select_from(Candidate).where(
            Candidate.pool_consent_until > clock()))
        assert 3 <= in_pool <= 25
        record = db.session.scalar(select(Candidate))
        assert "Skills" in open_document_text(vault_keys(), record, record.documents[0])
        # The demo's vacancies fill every field a job page shows.
        for vacancy in db.session.scalars(select(Vacancy)):
            assert vacancy.location and vacancy.description and vacancy.contract_type
            assert vacancy.hours_per_week and vacancy.posted_on < clock().date()


def test_seed_demo_leaves_the_planner_statistics_read(app, backend, runner):
    if backend == "sqlite":
        pytest.skip("PostgreSQL's planner statistics")
    result = runner.invoke(args=["vault", "seed-demo", "12"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert counted_candidates(db.session) == 12


def test_demo_cvs_are_real_pdfs_the_upload_check_accepts():
    person = next(people(1, seed=3))
    document = inspect_upload(person.data.cv.content, "cv.pdf")
    assert "Skills" in document.text


def test_demo_skills_are_skewed_like_real_cvs():
    def skills(text: str) -> list[str]:
        lines = text.splitlines()
        return lines[lines.index("Skills") + 1].split(", ")

    counts = Counter(skill for p in people(2000, seed=1, with_files=False)
                     for skill in skills(p.data.cv.text))
    assert counts[SKILLS[0]] > 10 * max(counts[SKILLS[-1]], 1)


def test_same_seed_same_people():
    first = [p.data.email for p in people(5, seed=9, with_files=False)]
    assert first == [p.data.email for p in people(5, seed=9, with_files=False)]


def test_bad_count_is_refused(runner):
    assert runner.invoke(args=["vault", "seed-demo", "0"]).exit_code != 0
