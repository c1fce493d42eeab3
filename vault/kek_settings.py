"""Which KEK backend the app uses, from its settings (VAULT_KEK_BACKEND and friends)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vault.config import DEFAULTS
from vault.crypto import KeyringError
from vault.crypto.kek_backend import write_roots
from vault.crypto.keyring import KEY_BYTES
from vault.crypto.transit import TransitKekBackend, seal_roots
from vault.keys import VaultKeys

BACKENDS = ("file", "transit")


def transit_token(config: Mapping[str, Any]) -> str:
    """The Transit token from the environment or a file: never from the command line,
    where every user of the machine reads it in the process list."""
    token = config.get("TRANSIT_TOKEN")
    if not token and config.get("TRANSIT_TOKEN_FILE"):
        path = Path(config["TRANSIT_TOKEN_FILE"])
        try:
            token = path.read_text().strip()
        except OSError as exc:
            raise KeyringError(f"cannot read the Transit token file {path}: "
                               f"{exc.strerror}") from None
    if not token:
        raise KeyringError("no Transit token: set VAULT_TRANSIT_TOKEN or "
                           "VAULT_TRANSIT_TOKEN_FILE")
    return str(token)


def transit_backends(config: Mapping[str, Any]) -> tuple[TransitKekBackend, TransitKekBackend]:
    """(the KEK key, the roots key) as configured."""
    addr = config.get("TRANSIT_ADDR") or os.environ.get("BAO_ADDR")
    if not addr:
        raise KeyringError("no Transit address: set VAULT_TRANSIT_ADDR")
    token = transit_token(config)

    def setting(name: str) -> Any:
        return config.get(name) or DEFAULTS[name]

    timeout = float(setting("TRANSIT_TIMEOUT_SECONDS"))
    mount = str(setting("TRANSIT_MOUNT"))
    return (TransitKekBackend.connect(addr, token, str(setting("TRANSIT_KEY")), mount, timeout),
            TransitKekBackend.connect(addr, token, str(setting("TRANSIT_ROOTS_KEY")), mount,
                                      timeout))


def load_keys(config: Mapping[str, Any]) -> VaultKeys:
    backend = str(config.get("KEK_BACKEND") or "file")
    bits = int(config["BLIND_INDEX_BITS"])
    if backend == "file":
        return VaultKeys.load(config.get("KEYRING"), Path(config["KEYRING_FILE"]), bits)
    if backend == "transit":
        manager, roots = transit_backends(config)
        return VaultKeys.load_transit(manager, roots, Path(config["TRANSIT_ROOTS_FILE"]), bits)
    raise KeyringError(f"unknown VAULT_KEK_BACKEND {backend!r}: one of {', '.join(BACKENDS)}")


def init_transit(config: Mapping[str, Any]) -> str:
    """Create the Transit keys and the roots file if missing (never overwriting either);
    the index and audit root keys are made in memory and only ever written wrapped."""
    manager, roots = transit_backends(config)
    manager.create_key()
    roots.create_key()
    path = Path(config["TRANSIT_ROOTS_FILE"])
    if path.exists():
        return f"Transit roots: kept the existing {path}"
    write_roots(path, seal_roots(roots, secrets.token_bytes(KEY_BYTES),
                                 secrets.token_bytes(KEY_BYTES)))
    return (f"Created the Transit roots file {path}: the index and audit root keys, wrapped "
            f"by the Transit key {roots.key_name!r}. Back it up with the database.")
