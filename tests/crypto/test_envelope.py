from __future__ import annotations

import pytest

from vault.crypto import (
    Context,
    DecryptionError,
    Keyring,
    WrappedKey,
    derived_data_key,
    key_id_of,
    new_data_key,
    open_bytes,
    open_text,
    rewrap_data_key,
    seal_bytes,
    seal_text,
    unwrap_data_key,
    wrap_data_key,
)

PLACE = Context("candidate", "full_name", "pid-1")


def test_text_round_trip():
    dek = new_data_key()
    assert open_text(dek, seal_text(dek, "Ånna Peeters", PLACE), PLACE) == "Ånna Peeters"


def test_large_bytes_round_trip():
    dek = new_data_key()
    data = bytes(range(256)) * 4096
    assert open_bytes(dek, seal_bytes(dek, data, PLACE), PLACE) == data


def test_same_plaintext_seals_differently_each_time():
    dek = new_data_key()
    assert seal_text(dek, "x", PLACE) != seal_text(dek, "x", PLACE)


def test_ciphertext_carries_format_byte_and_key_id():
    dek = new_data_key(key_id=7)
    sealed = bytes(seal_text(dek, "x", PLACE))
    assert sealed[0] == 1
    assert int.from_bytes(sealed[1:5], "big") == 7


@pytest.mark.parametrize("position", [0, 3, 10, 20, -1])
def test_flipped_byte_fails_with_the_one_error(position):
    dek = new_data_key()
    sealed = bytearray(seal_text(dek, "secret value", PLACE))
    sealed[position] ^= 0x01
    with pytest.raises(DecryptionError) as info:
        open_text(dek, bytes(sealed), PLACE)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("other", [
    Context("candidate", "email", "pid-1"),      # another column
    Context("candidate", "full_name", "pid-2"),  # another person
    Context("education", "full_name", "pid-1"),  # another table
])
def test_ciphertext_moved_elsewhere_fails(other):
    dek = new_data_key()
    with pytest.raises(DecryptionError):
        open_text(dek, seal_text(dek, "x", PLACE), other)


def test_wrong_data_key_fails():
    sealed = seal_text(new_data_key(), "x", PLACE)
    with pytest.raises(DecryptionError):
        open_text(new_data_key(), sealed, PLACE)


def test_truncated_ciphertext_fails():
    dek = new_data_key()
    with pytest.raises(DecryptionError):
        open_text(dek, bytes(seal_text(dek, "x", PLACE))[:20], PLACE)


def test_wrap_round_trip_binds_person_and_version():
    keyring = Keyring.generate()
    dek = new_data_key()
    wrapped = wrap_data_key(keyring, dek, "pid-1")
    assert wrapped.kek_version == 1
    assert unwrap_data_key(keyring, wrapped, "pid-1").key == dek.key
    with pytest.raises(DecryptionError):
        unwrap_data_key(keyring, wrapped, "pid-2")


def test_wrapped_key_relabelled_with_another_version_fails():
    keyring = Keyring.generate()
    wrapped = wrap_data_key(keyring, new_data_key(), "pid-1")
    keyring.rotate()
    with pytest.raises(DecryptionError):
        unwrap_data_key(keyring, WrappedKey(2, wrapped.blob), "pid-1")


def test_missing_kek_version_fails_with_the_one_error():
    keyring = Keyring.generate()
    wrapped = wrap_data_key(keyring, new_data_key(), "pid-1")
    with pytest.raises(DecryptionError):
        unwrap_data_key(keyring, WrappedKey(9, wrapped.blob), "pid-1")


def test_rotation_keeps_old_keys_readable_and_rewrap_moves_them():
    keyring = Keyring.generate()
    dek = new_data_key()
    sealed = seal_text(dek, "kept", PLACE)
    old = wrap_data_key(keyring, dek, "pid-1")
    keyring.rotate()
    assert unwrap_data_key(keyring, old, "pid-1").key == dek.key
    new = rewrap_data_key(keyring, old, "pid-1")
    assert new.kek_version == 2
    keyring.retire(1)
    assert open_text(unwrap_data_key(keyring, new, "pid-1"), sealed, PLACE) == "kept"
    with pytest.raises(DecryptionError):
        unwrap_data_key(keyring, old, "pid-1")


def test_a_derived_key_is_per_purpose_and_names_its_kek_version():
    keyring = Keyring.generate()
    mail = derived_data_key(keyring, "mail-queue")
    assert mail.key_id == keyring.primary == 1
    assert mail.key != derived_data_key(keyring, "other-purpose").key
    assert mail == derived_data_key(keyring, "mail-queue")  # deterministic
    sealed = seal_text(mail, "lotte@example.org", PLACE)
    assert key_id_of(sealed) == 1

    keyring.rotate()  # new mail is sealed under version 2; version 1 still opens the old
    assert derived_data_key(keyring, "mail-queue").key_id == 2
    old = derived_data_key(keyring, "mail-queue", key_id_of(sealed))
    assert open_text(old, sealed, PLACE) == "lotte@example.org"

    keyring.retire(1)  # retiring the version kills what its derived key sealed
    with pytest.raises(DecryptionError):
        derived_data_key(keyring, "mail-queue", 1)


def test_key_id_of_refuses_what_is_not_a_ciphertext():
    with pytest.raises(DecryptionError):
        key_id_of(b"short")
