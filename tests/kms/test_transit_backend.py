"""The Transit KEK backend against a real OpenBao server: what is Transit's own (batches,
trimming, its errors); what every backend does is in test_kek_contract.py."""

from __future__ import annotations

import pytest

from vault.crypto import (
    new_data_key,
)
from vault.crypto.kek_backend import KeyManagerUnavailable, unwrap_one
from vault.crypto.keyring import KeyringError
from vault.crypto.transit import TransitKekBackend, environment_read_once


def test_a_page_of_twenty_unwraps_in_one_call(transit, monkeypatch):
    deks = [new_data_key() for _ in range(20)]
    items = list(zip(transit.wrap([(d, f"pid-{i}") for i, d in enumerate(deks)]),
                     [f"pid-{i}" for i in range(20)], strict=True))
    calls = []
    decrypt = transit.client.secrets.transit.decrypt_data
    monkeypatch.setattr(transit.client.secrets.transit, "decrypt_data",
                        lambda **kw: calls.append(kw) or decrypt(**kw))
    opened = transit.unwrap(items)
    assert len(calls) == 1
    assert [d.key for d in opened] == [d.key for d in deks]


def test_retired_version_is_destroyed_in_the_key_manager(transit):
    dek = new_data_key()
    (old,) = transit.wrap([(dek, "pid-1")])  # a backup holds this one
    transit.rotate()
    (new,) = transit.rewrap([(old, "pid-1")])
    assert transit.retire(1) == [1]
    assert transit.versions == [2]
    # The backup's key opens for nobody any more, the rewrapped one still does.
    assert transit.unwrap([(old, "pid-1")]) == [None]
    assert unwrap_one(transit, new, "pid-1").key == dek.key
    keys = transit.client.secrets.transit.read_key(name=transit.key_name)["data"]["keys"]
    assert set(keys) == {"2"}  # trimmed: version 1 no longer exists in the key manager


def test_retiring_a_version_already_gone_is_refused(transit):
    transit.rotate()
    transit.rotate()
    transit.retire(1)
    with pytest.raises(KeyringError):
        transit.retire(1)


def test_unreachable_key_manager_raises_one_clear_error(bao):
    gone = TransitKekBackend(environment_read_once("http://127.0.0.1:9", bao.token, 1), "kek")
    with pytest.raises(KeyManagerUnavailable) as info:
        gone.wrap([(new_data_key(), "pid-1")])
    assert bao.token not in str(info.value)
    assert "bao.token" not in repr(gone)


def test_wrong_token_is_unavailable_not_a_bad_key(bao, transit):
    stranger = TransitKekBackend(environment_read_once(bao.url, "not-the-token", 5),
                                 transit.key_name)
    with pytest.raises(KeyManagerUnavailable):
        stranger.unwrap([(transit.wrap([(new_data_key(), "p")])[0], "p")])


def test_a_transit_mount_that_is_gone_is_unavailable_not_a_raw_hvac_error(bao, transit):
    # The mount disabled or renamed under a running app: every call is answered 404.
    # A 503 for the request (and a clear line for a command), never a 500.
    (wrapped,) = transit.wrap([(new_data_key(), "pid")])
    moved = TransitKekBackend(bao.client(), transit.key_name, mount_point="no-such-mount")
    with pytest.raises(KeyManagerUnavailable):
        moved.unwrap([(wrapped, "pid")])
    with pytest.raises(KeyManagerUnavailable):
        moved.wrap([(new_data_key(), "pid")])
    with pytest.raises(KeyringError):
        _ = moved.versions  # reading the key is how a reload learns of it


def test_a_batch_refused_whole_is_unavailable_not_every_key_corrupt(bao, transit):
    # The Transit key deleted (or a request-level 400 without per-item results): not
    # the data keys' fault, so not DecryptionError (which 'vault check' reports as
    # damaged records and rotation as keys that cannot be opened).
    (wrapped,) = transit.wrap([(new_data_key(), "pid")])
    gone = TransitKekBackend(bao.client(), transit.key_name + "-gone")
    with pytest.raises(KeyManagerUnavailable):
        gone.unwrap([(wrapped, "pid")])
    with pytest.raises(KeyManagerUnavailable):
        gone.rewrap([(wrapped, "pid")])
    # Per-item refusals stay per item: another person's key is None, the rest opens.
    dek = new_data_key()
    (mine,) = transit.wrap([(dek, "me")])
    assert [d and d.key for d in transit.unwrap([(wrapped, "other"), (mine, "me")])] == [
        None, dek.key]
