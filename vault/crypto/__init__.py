"""The only place that touches keys and ciphertext. No Flask import here."""

from vault.crypto.blind_index import (
    WORD_CHARACTERS,
    BlindIndex,
    normalise,
    tokenise,
    word_counts,
    words,
)
from vault.crypto.chain import derive_chain_key, link, links_equal
from vault.crypto.envelope import (
    Context,
    DataKey,
    DecryptionError,
    WrappedKey,
    derived_data_key,
    key_id_of,
    new_data_key,
    open_bytes,
    open_text,
    rewrap_data_key,
    seal_bytes,
    seal_many,
    seal_text,
    unwrap_data_key,
    wrap_data_key,
)
from vault.crypto.keyring import Keyring, KeyringError, load_keyring
from vault.crypto.split_key import new_share, split_data_key

__all__ = [
    "WORD_CHARACTERS",
    "BlindIndex",
    "Context",
    "DataKey",
    "DecryptionError",
    "Keyring",
    "KeyringError",
    "WrappedKey",
    "derive_chain_key",
    "derived_data_key",
    "key_id_of",
    "link",
    "links_equal",
    "load_keyring",
    "new_data_key",
    "new_share",
    "normalise",
    "open_bytes",
    "open_text",
    "rewrap_data_key",
    "seal_bytes",
    "seal_many",
    "seal_text",
    "split_data_key",
    "tokenise",
    "unwrap_data_key",
    "word_counts",
    "words",
    "wrap_data_key",
]
