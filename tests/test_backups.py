"""Erasure that holds against backups (README, "Backups and erasure")."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.backups import restore_backup, take_backup
from tests.journey import apply
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


def test_a_backup_older_than_a_retired_kek_opens_for_nobody(app, runner, two_people,
                                                             tmp_path):
    erased, kept = two_people
    backup = take_backup(app, tmp_path)
    runner.invoke(args=["vault", "erase", erased])
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    assert runner.invoke(args=["vault", "retire-kek", "1"]).exit_code == 0
    assert _opens(app, kept)  # the live database: everyone else still opens
    assert runner.invoke(args=["vault", "check"]).exit_code == 0

    restore_backup(app, backup)
    with app.app_context():
        versions = set(db.session.scalars(select(CandidateKey.kek_version)))
    assert versions == {1}
    assert not _opens(app, erased) and not _opens(app, kept)  # every key in it is dead
    check = runner.invoke(args=["vault", "check"])
    assert check.exit_code == 1
    assert "KEK version 1, which is not in the keyring" in check.output
    assert "Traceback" not in check.output
