"""Per-app objects for views and commands: keys and the clock (injectable in tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from flask import current_app

from vault.keys import VaultKeys
from vault.models import utcnow


def vault_keys() -> VaultKeys:
    return cast(VaultKeys, current_app.extensions["vault.keys"])


def now() -> datetime:
    clock = cast(Callable[[], datetime], current_app.config.get("CLOCK") or utcnow)
    return clock()


def secret_keys() -> list[str]:
    """Signing keys, oldest first: fallbacks, then the current SECRET_KEY."""
    return [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"]]
