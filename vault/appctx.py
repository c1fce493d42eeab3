"""Per-app objects for views and commands: keys and the clock (injectable in tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import cast

from flask import Flask, current_app, g

from vault.crypto import KeyringError
from vault.extensions import db
from vault.keys import VaultKeys, app_keys, begin_request, end_request
from vault.models import utcnow
from vault.services.erasure_ledger import ErasureLedger, open_ledger
from vault.services.keyring_state import current_state


def vault_keys() -> VaultKeys:
    """The app's keys, following key changes made by any other process.

    Once per request (or command), and at most every KEYRING_CHECK_SECONDS, the keyring
    generation in the database is compared with the one these keys were loaded at; when
    it moved, the keyring is read again. Without this a worker keeps wrapping new records
    with a KEK that another host rotated away, and keeps unwrapping with a retired one.
    An app that started while its key manager was down loads its keys here, at the first
    call after it answers.
    """
    # Started while the key manager was down: loaded now, or KeyManagerUnavailable (503).
    keys = app_keys(current_app.extensions)
    if keys is None:
        raise KeyringError("the app has no keys: run 'vault init'")
    if not g.get("vault_keys_followed"):
        g.vault_keys_followed = True
        moment = time.monotonic()
        if moment - keys.checked_at >= float(current_app.config["KEYRING_CHECK_SECONDS"]):
            keys.follow(*current_state(db.session))
            keys.checked_at = moment
    return keys


def recheck_keys() -> None:
    """Let the next vault_keys() compare generations again: for a loop that runs in one
    app context for hours (the mail worker), once per run."""
    g.pop("vault_keys_followed", None)


def erasure_ledger() -> ErasureLedger:
    """The app's erasure ledger (a file, or the database that every host shares)."""
    ledger = current_app.extensions.get("vault.erasure_ledger")
    if ledger is None:
        ledger = open_ledger(current_app.config["ERASURE_LEDGER"])
        current_app.extensions["vault.erasure_ledger"] = ledger
    return cast(ErasureLedger, ledger)


def now() -> datetime:
    clock = cast(Callable[[], datetime], current_app.config.get("CLOCK") or utcnow)
    return clock()


def secret_keys() -> list[str]:
    """Signing keys, oldest first: fallbacks, then the current SECRET_KEY."""
    return [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"]]


def init_app(app: Flask) -> None:
    """Each request keeps the data keys it unwrapped (a page that opens one record
    twice asks the key manager once) and drops them when it ends."""

    @app.before_request
    def _open_request_keys() -> None:
        g.vault_opened_keys = begin_request()

    @app.teardown_request
    def _drop_request_keys(_exc: BaseException | None) -> None:
        token = g.pop("vault_opened_keys", None)
        if token is not None:
            end_request(token)
