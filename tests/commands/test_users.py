from __future__ import annotations

from sqlalchemy import select

from vault.auth.passwords import verify_password
from vault.extensions import db
from vault.models import AuditEvent, User
from vault.services import audit


def _create(runner, *args, password="a long enough password\n"):
    return runner.invoke(args=["vault", "create-user", *args], input=password)


def test_create_user_reads_the_password_from_stdin(app, runner):
    result = _create(runner, "Rita@Group.example", "--role", "recruiter", "--company",
                     "Hoptimize", "--password-stdin")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role, user.company) == ("rita@group.example", "recruiter",
                                                          "Hoptimize")
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "a long enough password")
        assert db.session.scalar(select(AuditEvent.action)) == audit.USER_CREATED


def test_create_user_prompts_twice_without_stdin_flag(app, runner):
    result = _create(runner, "p@group.example", "--role", "admin", "--company", "Ingenium",
                     password="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    assert "long enough" not in result.output


def test_duplicate_user_is_refused(app, runner):
    _create(runner, "d@group.example", "--role", "admin", "--company", "Ingenium",
            "--password-stdin")
    result = _create(runner, "D@group.example", "--role", "admin", "--company", "Ingenium",
                     "--password-stdin")
    assert result.exit_code != 0 and "already exists" in result.output
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 1


def test_bad_input_creates_nobody(app, runner):
    cases = [
        (["not-an-email", "--role", "admin", "--company", "Ingenium"], "valid e-mail"),
        (["x@group.example", "--role", "admin", "--company", "Acme"], "company must be"),
        (["x@group.example", "--role", "boss", "--company", "Ingenium"], "boss"),
    ]
    for args, expected in cases:
        result = _create(runner, *args, "--password-stdin")
        assert result.exit_code != 0 and expected in result.output
    short = _create(runner, "x@group.example", "--role", "admin", "--company", "Ingenium",
                    "--password-stdin", password="short\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_reset_second_factor_from_the_command_line(app, runner, make_user):
    from tests.journey import outbox

    uid = make_user(role="admin", email="only.officer@group.example")
    result = runner.invoke(args=["vault", "reset-second-factor", "only.officer@group.example"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(User, uid).totp_enabled_at is None
    assert [m["To"] for m in outbox(app)] == ["only.officer@group.example"]
    unknown = runner.invoke(args=["vault", "reset-second-factor", "nobody@group.example"])
    assert unknown.exit_code != 0 and "No staff account" in unknown.output
