"""seal_many: the ciphertexts of seal_bytes, one cipher object per key."""

from __future__ import annotations

import struct

import pytest

from vault.crypto import Context, DecryptionError, new_data_key, open_bytes, open_text, seal_many


def test_seal_many_gives_what_open_bytes_opens_in_each_ones_context():
    dek = new_data_key()
    first = Context("candidate", "full_name", "pid-1")
    second = Context("document", "content:ab12", "pid-1")
    name, content, empty = seal_many(
        dek, [(b"Jan Peeters", first), (b"%PDF-1.7 ...", second), (b"", first)]
    )
    assert open_text(dek, name, first) == "Jan Peeters"
    assert open_bytes(dek, content, second) == b"%PDF-1.7 ..."
    assert open_bytes(dek, empty, first) == b""
    with pytest.raises(DecryptionError):  # bound to its place, as seal_bytes
        open_bytes(dek, name, second)


def test_seal_many_uses_a_fresh_nonce_for_every_value():
    dek = new_data_key()
    context = Context("candidate", "email", "pid-2")
    sealed = seal_many(dek, [(b"same", context)] * 50)
    assert len({s[5:17] for s in sealed}) == 50


def test_associated_data_is_the_length_prefixed_layout_of_the_first_release():
    context = Context("education", "degree:0f1e", "Zoë-id")
    parts = [p.encode() for p in ("education", "degree:0f1e", "Zoë-id")]
    assert context.associated_data(7) == b"vault.field.v1" + b"".join(
        struct.pack(">H", len(p)) + p for p in parts
    ) + struct.pack(">I", 7)


def test_seal_many_binds_each_value_to_its_own_place_and_person():
    """The associated data seal_many builds from parts kept per place and per person is
    each value's own: neighbours of another person, or whose table and column split
    the same letters differently, do not open it."""
    dek = new_data_key()
    contexts = [Context("ab", "c", "pid-1"), Context("a", "bc", "pid-1"),
                Context("ab", "c", "pid-2"), Context("a", "bc", "pid-12")]
    sealed = seal_many(dek, [(f"value {n}".encode(), c) for n, c in enumerate(contexts)])
    for n, (ciphertext, context) in enumerate(zip(sealed, contexts, strict=True)):
        assert open_bytes(dek, ciphertext, context) == f"value {n}".encode()
        for other in contexts:
            if other != context:
                with pytest.raises(DecryptionError):
                    open_bytes(dek, ciphertext, other)
