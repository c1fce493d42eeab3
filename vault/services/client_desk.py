"""The privacy officer's view of API clients: who they are, whether they still work,
where their erasure notices go and how those fared. No personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vault.local_zone import LOCAL_ZONE
from vault.models import ApiClient, WebhookDelivery, WebhookEndpoint
from vault.services import api_clients, webhooks


def expiry_moment(day: date) -> datetime:
    """The first moment after `day` in Belgium, in UTC (the token's expires_at): an
    expiry date is a day in Belgium, and the token works through that day."""
    return datetime.combine(day + timedelta(days=1), time(), LOCAL_ZONE).astimezone(UTC)


def state(client: ApiClient, now: datetime) -> str:
    if client.revoked_at is not None:
        return "revoked"
    # The same test as the API's (authenticate): the desk never says active for a
    # token the API refuses.
    return "active" if api_clients.is_live(client, now) else "expired"


@dataclass(frozen=True)
class ClientRow:
    client: ApiClient
    state: str  # active | revoked | expired
    webhook_host: str | None
    waiting: int  # notices queued
    failed: int  # notices given up


def client_rows(session: Session, *, now: datetime) -> list[ClientRow]:
    """Every client, newest first, with its webhook's host and notice counts."""
    clients = session.scalars(
        select(ApiClient).order_by(ApiClient.created_at.desc(), ApiClient.id.desc())
    ).all()
    hosts = {
        cid: urlsplit(url).hostname
        for cid, url in session.execute(select(WebhookEndpoint.client_id, WebhookEndpoint.url))
    }
    counts: dict[tuple[int, str], int] = {
        (cid, status): int(n)
        for cid, status, n in session.execute(
            select(WebhookDelivery.client_id, WebhookDelivery.status, func.count())
            .where(WebhookDelivery.status.in_((webhooks.QUEUED, webhooks.FAILED)))
            .group_by(WebhookDelivery.client_id, WebhookDelivery.status)
        )
    }
    return [
        ClientRow(
            c,
            state(c, now),
            hosts.get(c.id),
            counts.get((c.id, webhooks.QUEUED), 0),
            counts.get((c.id, webhooks.FAILED), 0),
        )
        for c in clients
    ]


def find_client(session: Session, client_id: int) -> ApiClient | None:
    return session.get(ApiClient, client_id)
