from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import delete, select, update

from tests.services.test_candidates import get, make
from vault.crypto import derive_chain_key
from vault.extensions import db
from vault.keys import VaultKeys
from vault.models import AuditEvent, Candidate, CandidateKey
from vault.services import audit

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


# --- the keyed audit chain and its anchors ---------------------------------------------

def _events(app, clock, count: int) -> list[int]:
    with app.app_context():
        ids = [audit.record(db.session, audit.SYSTEM, audit.RETENTION_RUN, now=clock(),
                            detail=f"run {n}").id for n in range(count)]
        db.session.commit()
        return ids


def _unkeyed_rehash(app) -> None:
    """What the review did to a copy: re-link every event with plain SHA-256."""
    with app.app_context():
        prev = audit.GENESIS
        for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all():
            body = json.dumps([prev, event.created_at.isoformat(timespec="microseconds"),
                               event.actor_type, event.actor_id, event.actor_role,
                               event.action, event.subject_public_id, event.detail],
                              separators=(",", ":"))
            event.prev_hash = prev
            event.hash = prev = hashlib.sha256(body.encode()).hexdigest()
        db.session.commit()


def _delete_events(app, ids: list[int]) -> None:
    with app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids)))
        db.session.commit()


def _anchor_lines(app) -> list[dict]:
    path = Path(app.config["AUDIT_ANCHOR"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_deleting_events_and_rehashing_without_the_key_fails_the_check(app, runner, clock):
    ids = _events(app, clock, 30)
    _delete_events(app, ids[5:17])
    _unkeyed_rehash(app)
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert f"hash chain is broken at event {ids[0]}" in result.output


def test_rehashing_under_another_key_fails_the_check(app, runner, clock):
    ids = _events(app, clock, 10)
    _delete_events(app, ids[3:5])
    forged = derive_chain_key(bytes(32))
    with app.app_context():
        prev = audit.GENESIS
        for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all():
            event.prev_hash = prev
            event.hash = prev = audit.event_hash(
                forged, prev, event.created_at, event.actor_type, event.actor_id,
                event.actor_role, event.action, event.subject_public_id, event.detail)
        db.session.commit()
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert f"hash chain is broken at event {ids[0]}" in result.output


def test_events_deleted_from_the_middle_are_reported(app, runner, clock):
    ids = _events(app, clock, 10)
    _delete_events(app, ids[4:6])
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert f"hash chain is broken at event {ids[6]}" in result.output


def test_events_cut_from_the_end_after_an_anchor_are_reported(app, runner, clock):
    ids = _events(app, clock, 20)
    anchored = runner.invoke(args=["vault", "anchor-audit"])
    assert anchored.exit_code == 0, anchored.output
    assert _anchor_lines(app)[-1]["seq"] == ids[-1]
    assert runner.invoke(args=["vault", "check"]).exit_code == 0
    _delete_events(app, ids[-12:])
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert f"the audit trail ends at event {ids[-13]}" in result.output
    assert f"saw event {ids[-1]}" in result.output and "up to 12 event(s)" in result.output
    # Anchoring the shortened trail is refused: it would make the loss look legitimate.
    again = runner.invoke(args=["vault", "anchor-audit"])
    assert again.exit_code != 0 and "ends at event" in again.output
    assert len(_anchor_lines(app)) == 1


def test_an_anchor_that_disagrees_with_the_chain_is_reported(app, runner, clock):
    ids = _events(app, clock, 5)
    assert runner.invoke(args=["vault", "anchor-audit"]).exit_code == 0
    path = Path(app.config["AUDIT_ANCHOR"])
    line = _anchor_lines(app)[0]
    line["hash"] = "f" * 64
    path.write_text(json.dumps(line) + "\n")
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert f"event {ids[-1]} does not match the anchor" in result.output


def test_a_restored_backup_is_reported_until_acknowledged(app, runner, clock):
    backup = _events(app, clock, 5)
    assert runner.invoke(args=["vault", "anchor-audit"]).exit_code == 0
    later = _events(app, clock, 7)
    assert runner.invoke(args=["vault", "anchor-audit"]).exit_code == 0
    _delete_events(app, later)  # the database is put back as it was at the backup
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert "restored from a backup" in result.output
    assert f"after event {backup[-1]} are missing" in result.output
    # After the restore, events are written again before anyone acknowledges it.
    clock.advance(hours=1)
    _events(app, clock, 9)
    still = runner.invoke(args=["vault", "check"])
    assert still.exit_code == 1 and "anchor-audit --restored" in still.output

    acknowledged = runner.invoke(args=["vault", "anchor-audit", "--restored"])
    assert acknowledged.exit_code == 0, acknowledged.output
    marker = _anchor_lines(app)[-1]
    assert marker["kind"] == "restore"
    with app.app_context():
        event = db.session.get(AuditEvent, marker["seq"])
        assert event.action == audit.AUDIT_RESTORE_ACKNOWLEDGED
        assert event.detail == f"agreed_to={backup[-1]} anchored={later[-1]}"
    assert runner.invoke(args=["vault", "check"]).exit_code == 0
    # From here on the marker binds like any anchor.
    _delete_events(app, [marker["seq"]])
    assert runner.invoke(args=["vault", "check"]).exit_code == 1


def test_acknowledging_a_restore_with_nothing_missing_writes_nothing(app, runner, clock):
    _events(app, clock, 3)
    assert runner.invoke(args=["vault", "anchor-audit"]).exit_code == 0
    result = runner.invoke(args=["vault", "anchor-audit", "--restored"])
    assert result.exit_code == 0 and "nothing to acknowledge" in result.output
    assert [line["kind"] for line in _anchor_lines(app)] == ["head"]


def test_the_retention_job_anchors_the_head(app, runner, clock):
    runner.invoke(args=["vault", "retention", "--dry-run"])
    assert _anchor_lines(app) == []
    assert runner.invoke(args=["vault", "retention"]).exit_code == 0
    with app.app_context():
        head = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert [(a["seq"], a["hash"]) for a in _anchor_lines(app)] == [(head.id, head.hash)]


def test_rotating_keks_and_the_index_key_keeps_the_chain_verifying(app, runner, clock):
    make(app, clock)
    assert runner.invoke(args=["vault", "anchor-audit"]).exit_code == 0
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    assert runner.invoke(args=["vault", "reindex", "--new-index-key"]).exit_code == 0
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 0, result.output


def test_init_adds_the_audit_key_and_relinks_an_unkeyed_trail_once(app, runner, clock):
    ids = _events(app, clock, 4)
    _unkeyed_rehash(app)  # a trail written by the release before the keyed chain
    keyring_file = Path(app.config["KEYRING_FILE"])
    doc = json.loads(keyring_file.read_text())
    kept = {k: doc[k] for k in ("keks", "index_key", "primary")}
    del doc["audit_key"]
    keyring_file.write_text(json.dumps(doc))

    result = runner.invoke(args=["vault", "init"])
    assert result.exit_code == 0, result.output
    assert "Added the audit key" in result.output
    assert "4 event(s) re-linked" in result.output
    doc = json.loads(keyring_file.read_text())
    assert doc["audit_key"] and {k: doc[k] for k in kept} == kept
    # The app in the test holds the keyring it loaded; read the new one as a restart would.
    app.extensions["vault.keys"] = VaultKeys.load(None, keyring_file, 32)
    check = runner.invoke(args=["vault", "check"])
    assert check.exit_code == 0, check.output
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-1] == audit.AUDIT_CHAIN_KEYED and len(actions) == len(ids) + 1
    assert _anchor_lines(app)  # the first anchor is written by init

    # Once anchored, an unkeyed trail is never re-linked again: that is the attack.
    _unkeyed_rehash(app)
    again = runner.invoke(args=["vault", "init"])
    assert again.exit_code == 0 and "re-linked" not in again.output
    check = runner.invoke(args=["vault", "check"])
    assert check.exit_code == 1 and "unkeyed" in check.output


def test_init_leaves_a_broken_unkeyed_trail_alone(app, runner, clock):
    ids = _events(app, clock, 4)
    _unkeyed_rehash(app)
    with app.app_context():
        db.session.get(AuditEvent, ids[1]).detail = "edited"
        db.session.commit()
    result = runner.invoke(args=["vault", "init"])
    assert result.exit_code == 0
    assert f"broken at event {ids[1]}" in result.output
    assert _anchor_lines(app) == []
    with app.app_context():
        assert db.session.get(AuditEvent, ids[0]).hash != ""
        assert audit.walk_chain(db.session).unkeyed
