"""What every KEK backend promises (vault.crypto.kek_backend.KekBackend), checked against
the keyring file, a real OpenBao Transit and a real SoftHSM2 token alike."""

from __future__ import annotations

import pytest

from vault.crypto import (
    Context,
    DecryptionError,
    Keyring,
    KeyringError,
    WrappedKey,
    new_data_key,
    open_text,
    seal_text,
)
from vault.crypto.kek_backend import FileKekBackend, KekBackend, unwrap_one


@pytest.fixture(params=["file", "transit", "pkcs11"])
def kek_backend(request: pytest.FixtureRequest) -> KekBackend:
    """A KEK of the test's own in each backend (the servers are the session's)."""
    if request.param == "file":
        return FileKekBackend(Keyring.generate())
    return request.getfixturevalue("hsm" if request.param == "pkcs11" else "transit")


def _pairs(wrapped: list[WrappedKey]) -> list[tuple[WrappedKey, str]]:
    return [(w, f"pid-{i}") for i, w in enumerate(wrapped)]


def test_wrapped_key_opens_only_for_its_person(kek_backend):
    dek = new_data_key(key_id=3)
    (wrapped,) = kek_backend.wrap([(dek, "pid-anna")])
    assert wrapped.kek_version == 1 and dek.key not in wrapped.blob
    opened = unwrap_one(kek_backend, wrapped, "pid-anna")
    assert (opened.key, opened.key_id) == (dek.key, 3)
    with pytest.raises(DecryptionError):
        unwrap_one(kek_backend, wrapped, "pid-bert")


def test_relabelled_version_never_opens(kek_backend):
    (wrapped,) = kek_backend.wrap([(new_data_key(), "pid-1")])
    kek_backend.rotate()
    assert kek_backend.unwrap([(WrappedKey(2, wrapped.blob), "pid-1")]) == [None]


def test_tampered_wrapped_key_fails_alone_in_its_batch(kek_backend):
    deks = [new_data_key() for _ in range(3)]
    wrapped = kek_backend.wrap([(d, f"pid-{i}") for i, d in enumerate(deks)])
    bad = bytearray(wrapped[1].blob)
    # A byte inside the body (for Transit a base64 character, never the padding).
    bad[20] = ord("A") if bad[20] != ord("A") else ord("B")
    items = _pairs(wrapped)
    items[1] = (WrappedKey(wrapped[1].kek_version, bytes(bad)), "pid-1")
    opened = kek_backend.unwrap(items)
    assert opened[1] is None
    assert [opened[0].key, opened[2].key] == [deks[0].key, deks[2].key]


def test_rotate_then_rewrap_moves_every_key_and_data_still_opens(kek_backend):
    deks = [new_data_key() for _ in range(5)]
    wrapped = kek_backend.wrap([(d, f"pid-{i}") for i, d in enumerate(deks)])
    assert kek_backend.rotate() == 2 and kek_backend.primary == 2
    new = kek_backend.rewrap(_pairs(wrapped))
    assert {w.kek_version for w in new} == {2}
    assert [d.key for d in kek_backend.unwrap(_pairs(new))] == [d.key for d in deks]
    place = Context("candidate", "full_name", "pid-0")
    sealed = seal_text(deks[0], "Anna", place)  # rotation never re-encrypts data
    assert open_text(unwrap_one(kek_backend, new[0], "pid-0"), sealed, place) == "Anna"


def test_retired_version_opens_nothing_it_wrapped(kek_backend):
    dek = new_data_key()
    (old,) = kek_backend.wrap([(dek, "pid-1")])  # as a backup holds it
    kek_backend.rotate()
    (new,) = kek_backend.rewrap([(old, "pid-1")])
    assert kek_backend.retiring(1) == [1]
    assert kek_backend.retire(1) == [1]
    assert kek_backend.versions == [2]
    assert kek_backend.unwrap([(old, "pid-1")]) == [None]
    assert kek_backend.rewrap([(old, "pid-1")]) == [None]
    assert unwrap_one(kek_backend, new, "pid-1").key == dek.key


def test_primary_version_cannot_be_retired(kek_backend):
    with pytest.raises(KeyringError):
        kek_backend.retire(1)
    assert kek_backend.versions == [1]
