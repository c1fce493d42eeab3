"""Erasure that holds against backups (README, "Backups and erasure")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.backups import restore_backup, take_backup
from tests.journey import apply
from tests.kms.backends import destroyed
from vault.appctx import vault_keys
from vault.crypto import DecryptionError
from vault.extensions import db
from vault.models import Candidate, CandidateKey
from vault.services.candidates import open_candidate
from vault.services.sealing import RecordKeyMissing


@pytest.fixture
def two_people(app, client):
    apply(client, email="erased.person@example.org", full_name="Erased Person")
    apply(client, email="kept.person@example.org", full_name="Kept Person")
    with app.app_context():
        return db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)).all()


def _opens(app, public_id) -> bool:
    with app.app_context():
        record = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
        if record is None:
            return False
        try:
            return bool(open_candidate(vault_keys(), record).email)
        except (DecryptionError, RecordKeyMissing):
            return False


@pytest.mark.every_kek_backend
def test_restored_backup_is_re_shredded_by_replaying_the_ledger(app, runner, two_people,
                                                                 tmp_path):
    erased, kept = two_people
    backup = take_backup(app, tmp_path)
    assert runner.invoke(args=["vault", "erase", erased]).exit_code == 0
    restore_backup(app, backup)
    assert _opens(app, erased)  # the restore brought the person back...
    check = runner.invoke(args=["vault", "check"])
    assert check.exit_code == 1 and "run 'vault replay-erasures'" in check.output
    result = runner.invoke(args=["vault", "replay-erasures"])
    assert result.exit_code == 0 and "re-erased 1 record" in result.output
    assert not _opens(app, erased)  # ...and the ledger, kept outside it, took them again
    assert _opens(app, kept)
    assert runner.invoke(args=["vault", "check"]).exit_code == 0


@pytest.mark.every_kek_backend
def test_a_backup_older_than_a_retired_kek_opens_for_nobody(app, runner, two_people,
                                                             tmp_path):
    erased, kept = two_people
    backup = take_backup(app, tmp_path)
    runner.invoke(args=["vault", "erase", erased])
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    assert runner.invoke(args=["vault", "retire-kek", "1"]).exit_code == 0
    # Destroyed where the KEKs are kept: the keyring file, Transit (min_decryption_version
    # raised and the key trimmed), the PKCS#11 token (the key object destroyed).
    assert destroyed(app, 1)
    assert _opens(app, kept)  # the live database: everyone else still opens
    assert runner.invoke(args=["vault", "check"]).exit_code == 0

    restore_backup(app, backup)
    with app.app_context():
        versions = set(db.session.scalars(select(CandidateKey.kek_version)))
    assert versions == {1}
    assert not _opens(app, erased) and not _opens(app, kept)  # every key in it is dead
    # Nor for a worker started afresh on the restored database (a key manager that is
    # asked again, not this worker's memory).
    from tests.workers import another_worker

    with another_worker(app) as fresh:
        assert not _opens(fresh, erased) and not _opens(fresh, kept)
    check = runner.invoke(args=["vault", "check"])
    assert check.exit_code == 1
    assert "KEK version 1, which is not in the keyring" in check.output
    assert "Traceback" not in check.output


@pytest.fixture(scope="session")
def shared_ledger_url():
    """A ledger database of this test session's own, apart from the vault database, as
    several hosts would share it in production."""
    from tests.conftest import PG_URL

    if not PG_URL:
        pytest.skip("the shared ledger needs PostgreSQL (VAULT_TEST_DATABASE_URL)")
    from tests.databases import own_database

    with own_database(PG_URL, "ledger") as url:
        yield url


def test_two_hosts_write_one_ledger_and_a_restore_replays_both(app, runner, two_people,
                                                                tmp_path, shared_ledger_url):
    from flask import Flask

    from vault import create_app

    # Host B: another instance folder (its own outbox, no ledger file of its own), the
    # same database, keyring and secret, both writing to the shared ledger.
    def host(base: Flask, name: str) -> Flask:
        instance = tmp_path / name
        instance.mkdir()
        shutil.copy(Path(base.instance_path) / "keyring", instance / "keyring")
        config = {k: base.config[k] for k in ("TESTING", "SECRET_KEY", "DATABASE_URL",
                                               "HTTPS", "RATELIMIT_ENABLED", "CLOCK")}
        config.update(ERASURE_LEDGER=shared_ledger_url, MAIL_OUTBOX=str(instance / "outbox"))
        return create_app(config, instance_path=str(instance))

    host_a, host_b = host(app, "host-a"), host(app, "host-b")
    third = "third.person@example.org"
    apply(app.test_client(), email=third, full_name="Third Person")
    with app.app_context():
        ids = db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)).all()
    backup = take_backup(app, tmp_path)
    assert host_a.test_cli_runner().invoke(args=["vault", "erase", ids[0]]).exit_code == 0
    assert host_b.test_cli_runner().invoke(args=["vault", "erase", ids[2]]).exit_code == 0
    assert not (Path(host_a.instance_path) / "erasure-ledger.jsonl").exists()

    for each in (host_a, host_b):  # a restore is done with the app stopped on every host
        with each.app_context():
            db.engine.dispose()
    restore_backup(app, backup)
    assert _opens(app, ids[0]) and _opens(app, ids[2])
    result = host_b.test_cli_runner().invoke(args=["vault", "replay-erasures"])
    assert result.exit_code == 0 and "re-erased 2 record" in result.output, result.output
    assert not _opens(app, ids[0]) and not _opens(app, ids[2]) and _opens(app, ids[1])
    for each in (host_a, host_b):
        with each.app_context():
            db.engine.dispose()
