from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.kms.backends import destroyed
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


@pytest.mark.every_kek_backend
def test_rotate_kek_rewraps_every_key_and_data_still_opens(app, runner, clock):
    from tests.workers import another_worker

    ids = [make(app, clock, email=f"p{i}@example.org") for i in range(3)]
    result = runner.invoke(args=["vault", "rotate-kek", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "New primary KEK version 2" in result.output
    assert kek_versions(app) == [2, 2, 2]
    # Kept where the KEKs live (the file, the key manager): a new worker reads it there.
    with another_worker(app) as fresh, fresh.app_context():
        kek = vault_keys().kek
        assert kek.primary == 2 and kek.versions == [1, 2]
        assert all(open_candidate(vault_keys(), get(pid)).email for pid in ids)


@pytest.mark.every_kek_backend
def test_interrupted_rotation_is_resumed_not_restarted(app, runner, clock):
    make(app, clock, email="a@example.org")
    make(app, clock, email="b@example.org")
    with app.app_context():
        vault_keys().rotate()  # as if the previous run stopped after saving the new version
    result = runner.invoke(args=["vault", "rotate-kek"])
    assert result.exit_code == 0, result.output
    assert "Resuming: 2 data key(s)" in result.output
    assert kek_versions(app) == [2, 2]


@pytest.mark.every_kek_backend
def test_retire_kek_is_refused_while_a_key_uses_it(app, runner, clock):
    make(app, clock)
    with app.app_context():
        vault_keys().rotate()
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code != 0
    assert "still wrapped by KEK version 1" in result.output
    with app.app_context():
        assert 1 in vault_keys().keyring.versions and 1 in vault_keys().kek.versions
    assert not destroyed(app, 1)


@pytest.mark.every_kek_backend
def test_retire_kek_after_rotation_destroys_the_version(app, runner, clock):
    public_id = make(app, clock)
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    result = runner.invoke(args=["vault", "retire-kek", "1"])
    assert result.exit_code == 0, result.output
    assert destroyed(app, 1) and not destroyed(app, 2)
    with app.app_context():
        assert open_candidate(vault_keys(), get(public_id)).full_name
    assert runner.invoke(args=["vault", "check"]).exit_code == 0


@pytest.mark.every_kek_backend
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


# Two workers over one database and one keyring file: `app` runs the commands, `worker`
# stands for a gunicorn worker (on this host or another) that loaded its keyring before.

def _wrapped_key(app, public_id: str) -> tuple[int, bytes]:
    with app.app_context():
        key = get(public_id).key
        return key.kek_version, key.wrapped


@pytest.mark.every_kek_backend
def test_rotation_by_another_process_reaches_a_running_worker(app, runner, clock):
    from tests.workers import another_worker

    old = make(app, clock, email="old@example.org")
    with another_worker(app) as worker:
        with worker.app_context():  # the worker has its keyring loaded (version 1 only)
            assert vault_keys().keyring.versions == [1]
        assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
        with worker.app_context():
            # The old record, rewrapped by version 2, still opens in the running worker...
            assert open_candidate(vault_keys(), get(old)).email == "old@example.org"
        # ...and what it creates from now on is wrapped by the new primary.
        new = make(worker, clock, email="new@example.org")
        assert _wrapped_key(app, new)[0] == 2


@pytest.mark.every_kek_backend
def test_retirement_by_another_process_stops_a_running_worker_unwrapping(app, runner, clock):
    from tests.workers import another_worker
    from vault.crypto import DecryptionError
    from vault.services.sealing import key_sealer

    public_id = make(app, clock)
    restored = _wrapped_key(app, public_id)  # as a backup of the database holds it
    with another_worker(app) as worker:
        assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
        with worker.app_context():  # the worker follows the rotation: it holds 1 and 2
            assert key_sealer(vault_keys(), public_id, *restored).dek
        assert runner.invoke(args=["vault", "retire-kek", "1"]).exit_code == 0
        with worker.app_context():
            assert 1 not in vault_keys().keyring.versions
            with pytest.raises(DecryptionError):  # the opaque error, as for any bad key
                key_sealer(vault_keys(), public_id, *restored)
            assert open_candidate(vault_keys(), get(public_id)).full_name


def test_key_of_a_newer_version_reloads_the_keyring_file_between_checks(app, runner, clock):
    """A worker that has not compared generations since the rotation (inside its
    KEYRING_CHECK_SECONDS, or just before the rotation committed) still opens a key
    rewrapped by the new version: a newer version than it knows reloads the file."""
    from tests.workers import another_worker

    public_id = make(app, clock)
    with another_worker(app, KEYRING_CHECK_SECONDS=3600) as worker:
        with worker.app_context():
            vault_keys()  # compared now, before the rotation
        # (never inside the worker's context: the runner would use that app)
        assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
        with worker.app_context():
            assert vault_keys().keyring.versions == [1]  # no comparison inside the interval
            assert open_candidate(vault_keys(), get(public_id)).full_name
            assert vault_keys().keyring.primary == 2


@pytest.mark.app_config(KEYRING_CHECK_SECONDS=3600)
def test_generation_is_read_at_most_every_keyring_check_seconds(app, runner, clock):
    from tests.workers import another_worker

    make(app, clock)
    with another_worker(app, KEYRING_CHECK_SECONDS=3600) as worker:
        with worker.app_context():
            vault_keys()
        assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
        with worker.app_context():  # inside the interval: no read, still version 1
            assert vault_keys().keyring.primary == 1
        worker.extensions["vault.keys"].checked_at -= 3600
        with worker.app_context():
            assert vault_keys().keyring.primary == 2


def _env_app(app, keyring: Keyring, **overrides):
    from tests.workers import another_worker

    return another_worker(app, KEYRING=keyring.to_env(), **overrides)


def test_rotate_kek_with_env_keyring_explains_the_path_instead_of_failing(app, clock):
    make(app, clock)
    keyring = Keyring.from_json(open(app.config["KEYRING_FILE"]).read())
    with _env_app(app, keyring) as worker:
        result = worker.test_cli_runner().invoke(args=["vault", "rotate-kek"])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert "--keyring-out FILE" in result.output and "VAULT_KEYRING" in result.output
    assert kek_versions(app) == [1]


def test_env_keyring_rotation_writes_the_new_keyring_then_rewraps_after_restart(
        app, clock, tmp_path):
    public_id = make(app, clock)
    keyring = Keyring.from_json(open(app.config["KEYRING_FILE"]).read())
    out = tmp_path / "new-keyring"
    with _env_app(app, keyring) as old_worker:
        result = old_worker.test_cli_runner().invoke(
            args=["vault", "rotate-kek", "--keyring-out", str(out)])
        assert result.exit_code == 0, result.output
        assert "base64 -w0" in result.output
        assert out.stat().st_mode & 0o777 == 0o600
        new = Keyring.from_json(out.read_text())
        assert (new.primary, new.versions) == (2, [1, 2])
        assert kek_versions(app) == [1]  # nothing rewrapped before the workers restart
        with _env_app(app, new) as restarted:
            result = restarted.test_cli_runner().invoke(args=["vault", "rotate-kek"])
            assert result.exit_code == 0, result.output
            assert "Resuming: 1 data key(s)" in result.output
            assert kek_versions(app) == [2]
            with restarted.app_context():
                assert open_candidate(vault_keys(), get(public_id)).full_name
        # A worker not yet restarted cannot load version 2 from its environment: it says
        # so (503 in a view) rather than failing as if the data were broken.
        from vault.keys import KeysChanged

        with old_worker.app_context(), pytest.raises(KeysChanged):
            open_candidate(vault_keys(), get(public_id))


def test_env_keyring_retirement_is_obeyed_by_workers_still_holding_the_version(
        app, runner, clock, tmp_path):
    from vault.crypto import DecryptionError
    from vault.services.sealing import key_sealer

    public_id = make(app, clock)
    restored = _wrapped_key(app, public_id)
    assert runner.invoke(args=["vault", "rotate-kek"]).exit_code == 0
    keyring = Keyring.from_json(open(app.config["KEYRING_FILE"]).read())
    out = tmp_path / "retired-keyring"
    with _env_app(app, keyring) as worker, _env_app(app, keyring) as operator:
        with worker.app_context():
            assert key_sealer(vault_keys(), public_id, *restored).dek
        result = operator.test_cli_runner().invoke(
            args=["vault", "retire-kek", "1", "--keyring-out", str(out)])
        assert result.exit_code == 0, result.output
        assert Keyring.from_json(out.read_text()).versions == [2]
        with worker.app_context():  # its VAULT_KEYRING still holds version 1
            with pytest.raises(DecryptionError):
                key_sealer(vault_keys(), public_id, *restored)
            assert open_candidate(vault_keys(), get(public_id)).full_name


def test_keyring_out_is_refused_for_a_keyring_file(runner, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(args=["vault", "rotate-kek", "--keyring-out", str(out)])
    assert result.exit_code == 1 and "rewrites itself" in result.output
    assert not out.exists()


def test_keyring_out_never_overwrites_a_file(app, tmp_path):
    keyring = Keyring.from_json(open(app.config["KEYRING_FILE"]).read())
    out = tmp_path / "out"
    out.write_text("keep me")
    with _env_app(app, keyring) as worker:
        result = worker.test_cli_runner().invoke(
            args=["vault", "rotate-kek", "--keyring-out", str(out)])
    assert result.exit_code == 1 and "exists" in result.output
    assert out.read_text() == "keep me"


def test_new_index_key_reaches_a_running_worker(app, runner, clock):
    from tests.workers import another_worker
    from vault.services.indexing import word_tokens

    public_id = make(app, clock)
    with another_worker(app) as worker:
        with worker.app_context():
            vault_keys()
        assert runner.invoke(args=["vault", "reindex", "--new-index-key"]).exit_code == 0
        with worker.app_context():  # its searches use the key the tokens were rebuilt under
            assert word_tokens(vault_keys().blind_index, "zyxwolder") & set(
                get(public_id).index_row.tokens.split())
