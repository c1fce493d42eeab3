"""Failed-login throttling without lock-out by strangers (ASVS 2.2.1).

Failures are counted per (account, client) pair and per account, both by keyed hashes
(of the address typed, known or not, and of the client address): the table holds no
address, and an answer says nothing about whether an account exists.

- The pair is throttled hard: LOGIN_MAX_FAILURES within the window and that client is
  refused for that account. A stranger guessing from one address stops there.
- The account as a whole only softly: past LOGIN_ACCOUNT_SOFT_FAILURES (from all clients)
  every attempt waits a growing delay. The owner, from a client of their own, still
  logs in: guessing from many addresses stays slow, the password alone opens nothing
  where a second factor is required (REQUIRE_2FA), and nobody can lock the owner out.
A successful login clears the failures of its own pair, never those of others.
Counting in the database holds across workers and restarts and follows the injectable clock.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from vault.models import LoginFailure


def keyed(secret_key: str, kind: str, value: str) -> str:
    digest = hmac.new(secret_key.encode(), f"{kind}:{value.strip().lower()}".encode(),
                      hashlib.sha256)
    return f"{kind}:" + digest.hexdigest()[:32]


@dataclass(frozen=True)
class Policy:
    pair_max: int
    account_soft: int
    window: timedelta
    delay_seconds: float
    delay_max_seconds: float


@dataclass(frozen=True)
class Verdict:
    refused: bool  # this client may not try this account now
    delay: float  # seconds to wait before answering


def verdict(session: Session, account: str, client: str, *, now: datetime,
            policy: Policy) -> Verdict:
    since = now - policy.window
    pair = session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.account_key == account, LoginFailure.client_key == client,
        LoginFailure.created_at > since)) or 0
    if pair >= policy.pair_max:
        return Verdict(refused=True, delay=0.0)
    total = session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.account_key == account, LoginFailure.created_at > since)) or 0
    if total < policy.account_soft:
        return Verdict(refused=False, delay=0.0)
    over = total - policy.account_soft
    delay = min(policy.delay_seconds * (2 ** min(over, 20)), policy.delay_max_seconds)
    return Verdict(refused=False, delay=delay)


def record_failure(session: Session, account: str, client: str, *, now: datetime) -> None:
    session.add(LoginFailure(account_key=account, client_key=client, created_at=now))


def clear_pair(session: Session, account: str, client: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.account_key == account,
                                               LoginFailure.client_key == client))


def prune(session: Session, *, now: datetime, window: timedelta) -> None:
    """Failures older than the window count for nothing any more."""
    session.execute(delete(LoginFailure).where(LoginFailure.created_at <= now - window))
