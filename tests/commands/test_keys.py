from __future__ import annotations

from sqlalchemy import select

from tests.services.test_candidates import get, make
from vault.appctx import vault_keys
from vault.crypto import Keyring
from vault.extensions import db
from vault.models import CandidateKey
from vault.services.candidates import open_candidate


def kek_versions(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(CandidateKey.kek_version).order_by(
            CandidateKey.candidate_id)))


def test_rotate_kek_rewraps_every_key_and_data_still_opens(app, runner, clock):
    ids = [make(app, clock, email=f"p{i}@example.org") for i in range(3)]
    result = runner.invoke(args=["vault", "rotate-kek", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "New primary KEK version 2" in result.output
    assert kek_versions(app) == [2, 2, 2]
    saved = Keyring.from_json((app.instance_path + "/keyring") and
                              open(app.config["KEYRING_FILE"]).read())
    assert saved.primary == 2 and saved.versions == [1, 2]
    with app.app_context():
        assert all(open_candidate(vault_keys(), get(pid)).email for pid in ids)


def test_interrupted_rotation_is_resumed_not_restarted(app, runner, clock):
    make(app, clock, email="a@example.org")
    make(app, clock, email="b@example.org")
    with app.app_context():
        keys = vault_keys()
        keys.keyring.rotate()  # as if the previous run stopped after saving the new version
        keys.save()
    result = runner.invoke(args=["vault", "rotate-kek"])
    assert result.exit_code == 0, result.output
    assert "Resuming: 2 data key(s)" in result.output
    assert kek_versions(app) == [2, 2]


def test_retire_kek_is_refused_while_a_key_uses_it(app, runner, clock):
    make(app, clock)
    with app.app_context():
        vault_keys().keyring.rotate()
        vault_keys().save()
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code != 0
    assert "still wrapped by KEK version 1" in result.output
    with app.app_context():
        assert 1 in vault_keys().keyring.versions


def test_retire_kek_after_rotation_destroys_the_version(app, runner, clock):
    public_id = make(app, clock)
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code == 0, result.output
    saved = Keyring.from_json(open(app.config["KEYRING_FILE"]).read())
    assert saved.versions == [2]
    with app.app_context():
        assert open_candidate(vault_keys(), get(public_id)).full_name
    assert runner.invoke(args=["vault", "check"]).exit_code == 0


def test_primary_kek_cannot_be_retired(runner):
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code != 0
    assert "primary" in result.output


def test_reindex_with_new_index_key_rebuilds_tokens_under_it(app, runner, clock):
    from vault.crypto import BlindIndex
    from vault.services.indexing import word_tokens

    public_id = make(app, clock)
    with app.app_context():
        old_tokens = get(public_id).index_row.tokens
        old_email_index = get(public_id).email_index
    result = runner.invoke(args=["vault", "reindex", "--new-index-key"])
    assert result.exit_code == 0, result.output
    saved = Keyring.from_json(open(app.config["KEYRING_FILE"]).read())
    with app.app_context():
        candidate = get(public_id)
        assert candidate.index_row.tokens != old_tokens
        assert candidate.email_index != old_email_index
        assert word_tokens(BlindIndex(saved.index_key), "zyxwolder") & set(
            candidate.index_row.tokens.split())
        assert word_tokens(vault_keys().blind_index, "zyxwolder") & set(
            candidate.index_row.tokens.split())


def test_reindex_without_new_key_keeps_tokens(app, runner, clock):
    public_id = make(app, clock)
    with app.app_context():
        before = get(public_id).index_row.tokens
    assert runner.invoke(args=["vault", "reindex"]).exit_code == 0
    with app.app_context():
        assert get(public_id).index_row.tokens == before
