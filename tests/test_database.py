from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from vault.extensions import db
from vault.models import Vacancy


def test_failed_statement_does_not_print_its_parameters(app):
    with app.app_context():
        db.session.add(Vacancy(slug="marker-slug-4471", company="Ingenium", title="t"))
        db.session.commit()
        db.session.add(Vacancy(slug="marker-slug-4471", company="Ingenium", title="t"))
        with pytest.raises(IntegrityError) as info:
            db.session.commit()
        db.session.rollback()
        dialect = db.engine.dialect.name
    message = str(info.value)
    assert "SQL parameters hidden" in message
    if dialect == "sqlite":
        assert "marker-slug-4471" not in message
    # PostgreSQL's own DETAIL line names a duplicate key's value; no unique column holds
    # an applicant's plaintext (they hold random ids, ciphertext or staff e-mail), so
    # the parameters SQLAlchemy would print are what must stay hidden.


def test_sqlite_runs_with_wal_foreign_keys_and_secure_delete(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_concurrent_read_then_write_transactions_wait_instead_of_failing(app):
    """BEGIN IMMEDIATE: two writers that read first never hit 'database is locked'."""
    import threading

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite locking; PostgreSQL has row locks for this")

    with app.app_context():
        db.session.add(Vacancy(slug="counter", company="Ingenium", title="0"))
        db.session.commit()
    errors: list[Exception] = []

    def bump() -> None:
        try:
            for _ in range(20):
                with app.app_context():
                    vacancy = db.session.query(Vacancy).filter_by(slug="counter").one()
                    vacancy.title = str(int(vacancy.title) + 1)
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert db.session.query(Vacancy).filter_by(slug="counter").one().title == "80"


def test_public_ids_never_look_like_command_line_options():
    from vault.models import new_public_id

    assert not any(new_public_id().startswith("-") for _ in range(5000))


def test_a_second_retention_run_leaves_while_the_first_holds_the_job_lock(app, client, runner):
    from sqlalchemy import func, select

    from tests.journey import apply
    from vault.database import JobBusy, job_lock
    from vault.models import AuditEvent

    apply(client)
    with app.app_context():
        runs_before = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "retention.run"))
        with job_lock(db.engine, "retention"):
            with pytest.raises(JobBusy):  # another process, here or on another host
                with job_lock(db.engine, "retention"):
                    pass
            result = runner.invoke(args=["vault", "retention"])
            assert result.exit_code == 0 and "in progress" in result.output
            assert "mail sent" not in result.output
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "retention.run")) == runs_before
    result = runner.invoke(args=["vault", "retention"])  # released: it runs
    assert "records shredded: 0" in result.output and "mail sent: 1" in result.output
