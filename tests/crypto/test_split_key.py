from __future__ import annotations

import pytest

from vault.crypto import (
    Context,
    DecryptionError,
    Keyring,
    key_id_of,
    new_share,
    open_bytes,
    seal_bytes,
    split_data_key,
)

CONTEXT = Context("held_upload", "content", "row")


def test_a_split_key_opens_only_with_its_share_and_its_keyring():
    keyring = Keyring.generate()
    share = new_share()
    sealed = seal_bytes(split_data_key(keyring, "held-upload", share), b"cv bytes", CONTEXT)
    again = split_data_key(keyring, "held-upload", share, key_id_of(sealed))
    assert open_bytes(again, sealed, CONTEXT) == b"cv bytes"
    for wrong in (split_data_key(keyring, "held-upload", new_share()),  # another session
                  split_data_key(Keyring.generate(), "held-upload", share),  # another keyring
                  split_data_key(keyring, "other-purpose", share)):
        with pytest.raises(DecryptionError):
            open_bytes(wrong, sealed, CONTEXT)


def test_a_split_key_names_its_kek_version_and_dies_with_it():
    keyring = Keyring.generate()
    share = new_share()
    sealed = seal_bytes(split_data_key(keyring, "held-upload", share), b"cv", CONTEXT)
    keyring.rotate()
    assert open_bytes(split_data_key(keyring, "held-upload", share, key_id_of(sealed)),
                      sealed, CONTEXT) == b"cv"
    del keyring.keks[key_id_of(sealed)]  # the version retired
    with pytest.raises(DecryptionError):
        split_data_key(keyring, "held-upload", share, key_id_of(sealed))


def test_a_malformed_share_is_refused_opaquely():
    with pytest.raises(DecryptionError):
        split_data_key(Keyring.generate(), "held-upload", b"short")
