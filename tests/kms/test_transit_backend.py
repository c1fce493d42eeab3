"""The Transit KEK backend against a real OpenBao server."""

from __future__ import annotations

import pytest

from vault.crypto import (
    Context,
    DecryptionError,
    WrappedKey,
    new_data_key,
    open_text,
    seal_text,
)
from vault.crypto.kek_backend import KeyManagerUnavailable, unwrap_one
from vault.crypto.keyring import KeyringError
from vault.crypto.transit import TransitKekBackend


def test_wrapped_key_opens_only_for_its_person(transit):
    dek = new_data_key(key_id=3)
    (wrapped,) = transit.wrap([(dek, "pid-anna")])
    assert wrapped.kek_version == 1
    assert dek.key not in wrapped.blob
    opened = unwrap_one(transit, wrapped, "pid-anna")
    assert (opened.key, opened.key_id) == (dek.key, 3)
    # Same wrapped key under another person's public id: another derived key, no open.
    with pytest.raises(DecryptionError):
        unwrap_one(transit, wrapped, "pid-bert")


def test_relabelled_version_never_opens(transit):
    (wrapped,) = transit.wrap([(new_data_key(), "pid-1")])
    transit.rotate()
    assert transit.unwrap([(WrappedKey(2, wrapped.blob), "pid-1")]) == [None]


def test_tampered_wrapped_key_fails_alone_in_its_batch(transit):
    deks = [new_data_key() for _ in range(3)]
    wrapped = transit.wrap([(d, f"pid-{i}") for i, d in enumerate(deks)])
    bad = bytearray(wrapped[1].blob)
    # A character inside the base64 body (never the padding, whose spare bits are ignored).
    bad[20] = ord("A") if bad[20] != ord("A") else ord("B")
    items = [(wrapped[0], "pid-0"), (WrappedKey(1, bytes(bad)), "pid-1"), (wrapped[2], "pid-2")]
    opened = transit.unwrap(items)
    assert opened[1] is None
    assert [d.key for d in (opened[0], opened[2])] == [deks[0].key, deks[2].key]


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


def test_rotate_then_rewrap_moves_every_key_to_the_new_version(transit):
    deks = [new_data_key() for _ in range(5)]
    wrapped = transit.wrap([(d, f"pid-{i}") for i, d in enumerate(deks)])
    assert transit.rotate() == 2
    assert transit.primary == 2
    new = transit.rewrap([(w, f"pid-{i}") for i, w in enumerate(wrapped)])
    assert {w.kek_version for w in new} == {2}
    assert [d.key for d in transit.unwrap([(w, f"pid-{i}") for i, w in enumerate(new)])] == \
        [d.key for d in deks]
    # Data sealed under the DEK still opens: rotation never re-encrypts data.
    place = Context("candidate", "full_name", "pid-0")
    sealed = seal_text(deks[0], "Anna", place)
    assert open_text(unwrap_one(transit, new[0], "pid-0"), sealed, place) == "Anna"


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


def test_primary_version_cannot_be_retired(transit):
    with pytest.raises(KeyringError):
        transit.retire(1)


def test_retiring_a_version_already_gone_is_refused(transit):
    transit.rotate()
    transit.rotate()
    transit.retire(1)
    with pytest.raises(KeyringError):
        transit.retire(1)


def test_unreachable_key_manager_raises_one_clear_error(bao):
    gone = TransitKekBackend.connect("http://127.0.0.1:9", bao.token, "kek", timeout=1)
    with pytest.raises(KeyManagerUnavailable) as info:
        gone.wrap([(new_data_key(), "pid-1")])
    assert bao.token not in str(info.value)
    assert "bao.token" not in repr(gone)


def test_wrong_token_is_unavailable_not_a_bad_key(bao, transit):
    stranger = TransitKekBackend.connect(bao.url, "not-the-token", transit.key_name)
    with pytest.raises(KeyManagerUnavailable):
        stranger.unwrap([(transit.wrap([(new_data_key(), "p")])[0], "p")])
