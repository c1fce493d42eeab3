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


def test_migration_gives_existing_notes_their_recruiters_company(tmp_path):
    """Notes written before notes had a company: a recruiter's note goes to their
    company, the officer's (or an unknown author's) to the officer alone."""
    from flask_migrate import upgrade

    from tests.conftest import _make_app

    app = _make_app(tmp_path, f"sqlite:///{tmp_path / 'vault.db'}")
    moment = "2026-03-02 09:00:00"
    with app.app_context():
        upgrade(revision="0001")
        for uid, role, company in ((1, "recruiter", "Hoptimize"), (2, "admin", "Ingenium")):
            db.session.execute(text(
                'INSERT INTO "user" (id, email, password_hash, role, company, active, '
                "session_token, created_at) VALUES (:id, :email, '-', :role, :company, 1, "
                "'t', :at)"), {"id": uid, "email": f"{uid}@x", "role": role,
                               "company": company, "at": moment})
        db.session.execute(text(
            "INSERT INTO candidate (id, public_id, created_at, updated_at, source, status, "
            "email_index, legal_hold, full_name, email) VALUES (1, 'p', :at, :at, 'apply', "
            "'new', 'e', 0, x'00', x'00')"), {"at": moment})
        for note_id, author in ((1, 1), (2, 2), (3, None)):
            db.session.execute(text(
                "INSERT INTO note (id, uid, candidate_id, author_id, body, created_at) "
                "VALUES (:id, :uid, 1, :author, x'00', :at)"),
                {"id": note_id, "uid": f"n{note_id}", "author": author, "at": moment})
        db.session.commit()
        upgrade()
        rows = db.session.execute(text("SELECT id, company FROM note ORDER BY id")).all()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "Hoptimize"), (2, None), (3, None)]
