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
