"""What the two outboxes (the mail queue, the webhook outbox) share: claiming a due row
with a lease, counting a failed attempt, and when a row is tried again after a failure.

A row of either table has: status (queued until done), attempts, next_attempt_at, claim
(a random token) and claimed_until (the lease). A sender claims one due row in a short
transaction, speaks to the outside world with no lock held, then records the outcome
only if the claim is still its own.

Every time written here comes from the sender's clock read at that moment, not from the
start of the run: a run can last long (timeouts add up), and a lease computed from the
start could already have run out when the row is taken, letting a second sender take
the same row while the first is still delivering it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

QUEUED, FAILED = "queued", "failed"

Clock = Callable[[], datetime]


def backoff(attempts: int, config: Mapping[str, Any], prefix: str) -> timedelta:
    """Delay before attempt attempts+1: base, 2 x base, 4 x base... up to the maximum
    (the settings <prefix>_RETRY_BASE_SECONDS and <prefix>_RETRY_MAX_SECONDS). Doubling
    spares a receiver that is down; the cap keeps a long outage from pushing the next
    try days away."""
    base = float(config[f"{prefix}_RETRY_BASE_SECONDS"])
    delay = min(base * 2 ** max(attempts - 1, 0), float(config[f"{prefix}_RETRY_MAX_SECONDS"]))
    return timedelta(seconds=delay)


def run_clock(now: datetime, clock: Clock | None) -> Clock:
    """The clock of one sender run: `clock` when given (the app's clock, or a test's),
    else `now` moved on by the real time elapsed since the run began."""
    if clock is not None:
        return clock
    started = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - started)


@dataclass(frozen=True)
class Claim:
    id: int
    token: str


@dataclass(frozen=True)
class Outbox:
    """One outbox table (`model`) and its settings (<prefix>_CLAIM_SECONDS,
    <prefix>_MAX_ATTEMPTS, <prefix>_RETRY_BASE_SECONDS, <prefix>_RETRY_MAX_SECONDS)."""

    model: Any  # a mapped class with the columns named in the module's docstring
    prefix: str

    def claim_next(
        self,
        session: Session,
        *,
        now: datetime,
        config: Mapping[str, Any],
        where: tuple[ColumnElement[bool], ...] = (),
        prepare: Callable[[Any], None] | None = None,
    ) -> Claim | None:
        """Claim the next due row (and commit), or None when nothing is due. `now` is
        the time of this claim: the lease runs from it. `prepare` may change the row in
        the claiming transaction."""
        # SKIP LOCKED: a row another sender is claiming right now is passed over, not
        # waited on (on SQLite the write lock of BEGIN IMMEDIATE serialises claims).
        row = session.scalar(self.next_due(now, where).with_for_update(skip_locked=True))
        if row is None:
            session.commit()
            return None
        token = secrets.token_hex(16)
        row.claim = token
        row.claimed_until = now + timedelta(seconds=float(config[f"{self.prefix}_CLAIM_SECONDS"]))
        if prepare is not None:
            prepare(row)
        claim = Claim(row.id, token)
        session.commit()
        return claim

    def next_due(self, now: datetime, where: tuple[ColumnElement[bool], ...] = ()) -> Select[Any]:
        """The first due row, in the order of the table's due index (models.due_index)."""
        model = self.model
        return (
            select(model)
            .where(
                model.status == QUEUED,
                model.next_attempt_at <= now,
                or_(model.claimed_until.is_(None), model.claimed_until <= now),
                *where,
            )
            .order_by(model.next_attempt_at, model.id)
            .limit(1)
        )

    def ours(self, claim: Claim) -> ColumnElement[bool]:
        """The row of this claim, while the claim is still ours."""
        return (self.model.id == claim.id) & (self.model.claim == claim.token)

    def claimed(self, session: Session, claim: Claim) -> Any | None:
        """The claimed row if the claim is still ours; else None (and the read ends): the
        row went (an erasure) or another sender took it over after the lease ran out."""
        row = session.get(self.model, claim.id)
        if row is None or row.claim != claim.token:
            session.commit()
            return None
        return row

    @staticmethod
    def release(row: Any) -> None:
        row.claim = None
        row.claimed_until = None

    def count_failure(
        self,
        row: Any,
        error: str,
        *,
        now: datetime,
        config: Mapping[str, Any],
        final: bool = False,
    ) -> bool:
        """One more failed attempt at `now`: the row is released and tried again after
        the backoff, or, when `final` or its attempts are used up, kept as failed. True
        when it gave up. The caller commits."""
        row.attempts += 1
        row.last_error = error
        self.release(row)
        if final or row.attempts >= int(config[f"{self.prefix}_MAX_ATTEMPTS"]):
            row.status = FAILED
            return True
        row.next_attempt_at = now + backoff(row.attempts, config, self.prefix)
        return False
