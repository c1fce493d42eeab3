from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select, update

from tests.services.test_candidates import get, make
from vault.extensions import db
from vault.models import AuditEvent, Candidate, CandidateKey

REPO = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], instance: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env["VAULT_INSTANCE_PATH"] = str(instance)
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_init_creates_secrets_and_database_and_never_overwrites_them(tmp_path):
    instance = tmp_path / "instance"
    vault = str(Path(sys.executable).parent / "vault")
    first = run_cli([vault, "init"], instance)
    assert first.returncode == 0, first.stderr
    keyring = (instance / "keyring").read_bytes()
    secret = (instance / "secret_key").read_bytes()
    assert oct((instance / "keyring").stat().st_mode & 0o777) == "0o600"
    assert oct((instance / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert (instance / "vault.db").exists()
    flask = str(Path(sys.executable).parent / "flask")
    second = run_cli([flask, "--app", "wsgi", "vault", "init"], instance)
    assert second.returncode == 0, second.stderr
    assert "kept the existing" in second.stdout
    assert (instance / "keyring").read_bytes() == keyring
    assert (instance / "secret_key").read_bytes() == secret
    check = run_cli([vault, "check"], instance)
    assert check.returncode == 0, check.stderr
    assert "All checks passed" in check.stdout


def test_commands_other_than_init_say_to_run_init(tmp_path):
    result = run_cli([str(Path(sys.executable).parent / "vault"), "check"], tmp_path / "empty")
    assert result.returncode != 0
    assert "vault init" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_passes_on_a_healthy_vault(app, runner, clock):
    make(app, clock)
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 0, result.output
    assert "1 record(s) open with every field" in result.output


def test_check_reports_a_ciphertext_that_does_not_open(app, runner, clock):
    public_id = make(app, clock)
    with app.app_context():
        candidate = get(public_id)
        sealed = bytearray(candidate.phone)
        sealed[-1] ^= 1
        db.session.execute(update(Candidate).where(Candidate.id == candidate.id)
                           .values(phone=bytes(sealed)))
        db.session.commit()
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert f"record {public_id}: cannot open candidate.phone" in result.output


def test_check_opens_queued_mail_and_reports_one_moved_to_another_record(app, client, runner):
    from tests.journey import apply
    from vault.models import MailMessage

    apply(client)
    apply(client, email="someone.else@example.org")
    assert runner.invoke(args=["vault", "check"]).exit_code == 0
    with app.app_context():
        first, second = db.session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
        public_id = db.session.get(Candidate, second.candidate_id).public_id
        # Someone's sealed mail copied onto another person's row must not open there.
        db.session.execute(update(MailMessage).where(MailMessage.id == second.id)
                           .values(recipient=first.recipient))
        db.session.commit()
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert f"record {public_id}: cannot open mail_queue.recipient" in result.output


def test_check_reports_a_record_without_key(app, runner, clock):
    public_id = make(app, clock)
    with app.app_context():
        db.session.execute(CandidateKey.__table__.delete().where(
            CandidateKey.candidate_id == get(public_id).id))
        db.session.commit()
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert "1 candidate record(s) have no data key" in result.output


def test_check_names_the_first_broken_link_of_the_audit_chain(app, runner, clock):
    make(app, clock)
    make(app, clock, email="two@example.org")
    assert runner.invoke(args=["vault", "erase", "--category", "unlawful",
                               *[_first_public_id(app)]]).exit_code == 0
    runner.invoke(args=["vault", "rotate-kek"])
    with app.app_context():
        first = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id))
        first.detail = "edited"
        db.session.commit()
        first_id = first.id
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert f"hash chain is broken at event {first_id}" in result.output


def _first_public_id(app) -> str:
    with app.app_context():
        return db.session.scalar(select(Candidate.public_id).order_by(Candidate.id))


def test_erase_command_shreds_the_record(app, runner, clock):
    public_id = make(app, clock)
    result = runner.invoke(args=["vault", "erase", public_id])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert get(public_id) is None
    assert runner.invoke(args=["vault", "check"]).exit_code == 0


def test_erase_command_with_unknown_id_changes_nothing(app, runner, clock):
    make(app, clock)
    result = runner.invoke(args=["vault", "erase", "no-such-id"])
    assert result.exit_code != 0
    assert "no record" in result.output
    with app.app_context():
        assert db.session.scalar(select(Candidate.id)) is not None
