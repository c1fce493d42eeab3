"""When a queued delivery (a mail, an erasure notice) is tried again after a failure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any


def backoff(attempts: int, config: Mapping[str, Any], prefix: str) -> timedelta:
    """Delay before attempt attempts+1: base, 2 x base, 4 x base... up to the maximum
    (the settings <prefix>_RETRY_BASE_SECONDS and <prefix>_RETRY_MAX_SECONDS). Doubling
    spares a receiver that is down; the cap keeps a long outage from pushing the next
    try days away."""
    base = float(config[f"{prefix}_RETRY_BASE_SECONDS"])
    delay = min(base * 2 ** max(attempts - 1, 0), float(config[f"{prefix}_RETRY_MAX_SECONDS"]))
    return timedelta(seconds=delay)
