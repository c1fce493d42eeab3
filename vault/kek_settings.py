"""Which KEK backend the app uses, from its settings (VAULT_KEK_BACKEND and friends)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault.config import DEFAULTS
from vault.crypto import KeyringError
from vault.crypto.kek_backend import KeyManager
from vault.crypto.keyring import KEY_BYTES, write_private_file
from vault.keys import VaultKeys

if TYPE_CHECKING:
    from vault.crypto.transit import TransitConnection

BACKENDS = ("file", "transit", "pkcs11")
MANAGERS = ("transit", "pkcs11")


def _setting(config: Mapping[str, Any], name: str) -> Any:
    return config.get(name) or DEFAULTS[name]


def secret_setting(config: Mapping[str, Any], name: str, what: str) -> str:
    """A token or PIN from the environment (VAULT_<NAME>) or a file (VAULT_<NAME>_FILE):
    never from the command line, where every user of the machine reads it in the
    process list."""
    value = config.get(name)
    if not value and config.get(f"{name}_FILE"):
        path = Path(config[f"{name}_FILE"])
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise KeyringError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    if not value:
        raise KeyringError(f"no {what}: set VAULT_{name} or VAULT_{name}_FILE")
    return str(value)


def transit_connection(config: Mapping[str, Any]) -> TransitConnection:
    """One client for both Transit keys, logged in with a token or with AppRole."""
    from vault.crypto.transit import (
        AppRoleLogin,
        TokenFile,
        TransitConnection,
        environment_read_once,
    )

    addr = config.get("TRANSIT_ADDR") or os.environ.get("BAO_ADDR")
    if not addr:
        raise KeyringError("no Transit address: set VAULT_TRANSIT_ADDR")
    timeout = float(_setting(config, "TRANSIT_TIMEOUT_SECONDS"))
    down = down_seconds(config)
    if config.get("TRANSIT_ROLE_ID") or config.get("TRANSIT_ROLE_ID_FILE"):
        role_id = secret_setting(config, "TRANSIT_ROLE_ID", "AppRole role_id")
        secret_setting(config, "TRANSIT_SECRET_ID", "AppRole secret_id")  # set at all?
        # The secret_id is read again at every login: a new one written to its file by
        # the operator (or an agent) is used without a restart.
        login = AppRoleLogin(role_id,
                             lambda: secret_setting(config, "TRANSIT_SECRET_ID",
                                                    "AppRole secret_id"),
                             str(_setting(config, "TRANSIT_APPROLE_MOUNT")))
        # No token yet: the first call logs in (also when the key manager is down at
        # start, the app starts and logs in once it answers).
        return TransitConnection(environment_read_once(addr, None, timeout), login,
                                 down_seconds=down)
    token = secret_setting(config, "TRANSIT_TOKEN", "Transit token (or AppRole role_id)")
    # A token file is kept by someone else (an agent renewing or replacing the token):
    # read again whenever it changes, so a new token needs no restart.
    token_file = (TokenFile(Path(config["TRANSIT_TOKEN_FILE"]))
                  if not config.get("TRANSIT_TOKEN") and config.get("TRANSIT_TOKEN_FILE")
                  else None)
    # The proxy and CA settings read once here, not on every call (environment_read_once).
    return TransitConnection(environment_read_once(addr, token, timeout),
                             token_file=token_file, down_seconds=down)


def down_seconds(config: Mapping[str, Any]) -> float:
    """How long an outage of the key manager is remembered (KEY_MANAGER_DOWN_SECONDS)."""
    value = config.get("KEY_MANAGER_DOWN_SECONDS")
    return float(DEFAULTS["KEY_MANAGER_DOWN_SECONDS"] if value is None else value)


def manager_backends(config: Mapping[str, Any], backend: str) -> tuple[KeyManager, KeyManager]:
    """(the KEK key, the roots key) of a key manager as configured."""
    if backend == "transit":
        from vault.crypto.transit import TransitKekBackend

        connection = transit_connection(config)
        mount = str(_setting(config, "TRANSIT_MOUNT"))
        return (TransitKekBackend(connection, str(_setting(config, "TRANSIT_KEY")), mount),
                TransitKekBackend(connection, str(_setting(config, "TRANSIT_ROOTS_KEY")), mount))
    if backend == "pkcs11":
        from vault.crypto.pkcs11_backend import Pkcs11KekBackend

        module = config.get("PKCS11_MODULE")
        if not module:
            raise KeyringError("no PKCS#11 module: set VAULT_PKCS11_MODULE")
        pin = secret_setting(config, "PKCS11_PIN", "PKCS#11 PIN")
        label = str(_setting(config, "PKCS11_TOKEN_LABEL"))
        return (Pkcs11KekBackend(module, label, pin, str(_setting(config, "PKCS11_KEY"))),
                Pkcs11KekBackend(module, label, pin, str(_setting(config, "PKCS11_ROOTS_KEY"))))
    raise KeyringError(f"unknown key manager {backend!r}: one of {', '.join(MANAGERS)}")


def roots_file(config: Mapping[str, Any], backend: str) -> Path:
    name = "TRANSIT_ROOTS_FILE" if backend == "transit" else "PKCS11_ROOTS_FILE"
    return Path(config[name])


def load_keys(config: Mapping[str, Any]) -> VaultKeys:
    backend = str(config.get("KEK_BACKEND") or "file")
    bits = int(config["BLIND_INDEX_BITS"])
    if backend == "file":
        return VaultKeys.load(config.get("KEYRING"), Path(config["KEYRING_FILE"]), bits)
    if backend in MANAGERS:
        manager, roots = manager_backends(config, backend)
        return VaultKeys.load_transit(manager, roots, roots_file(config, backend), bits)
    raise KeyringError(f"unknown VAULT_KEK_BACKEND {backend!r}: one of {', '.join(BACKENDS)}")


def init_manager(config: Mapping[str, Any], backend: str) -> str:
    """Create the key manager's keys and the roots file if missing (never overwriting
    either); the index and audit root keys are made in memory and only written wrapped."""
    manager, roots = manager_backends(config, backend)
    manager.create_key()
    roots.create_key()
    path = roots_file(config, backend)
    if path.exists():
        return f"Roots file: kept the existing {path}"
    write_private_file(path, roots.seal_roots(secrets.token_bytes(KEY_BYTES),
                                       secrets.token_bytes(KEY_BYTES)))
    return (f"Created the roots file {path}: the index and audit root keys, wrapped by "
            f"the {backend} key {roots.key_name!r}. Back it up with the database.")

