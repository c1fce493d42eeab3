"""Per-app objects for views and commands: keys and the clock (injectable in tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from flask import current_app

from vault.keys import VaultKeys
from vault.models import utcnow
from vault.services.erasure_ledger import ErasureLedger, open_ledger


def vault_keys() -> VaultKeys:
    return cast(VaultKeys, current_app.extensions["vault.keys"])


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
