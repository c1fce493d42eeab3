"""Prometheus metrics: requests per route template, and figures read from the database.

Request counters live in this process; under gunicorn, PROMETHEUS_MULTIPROC_DIR (set by
gunicorn.conf.py) makes every worker write them to shared files that a scrape of any
worker adds up. Figures about the data (applications, erasures, retention, mail queue)
are read from the database at scrape time, so every worker and host reports the same.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vault.models import AuditEvent, ErasureRecord
from vault.monitoring.checks import mail_backlog_probe
from vault.services import audit

log = logging.getLogger(__name__)

# Labels are the route template and method: never the path (tokens) nor the query (names),
# and a bounded set, whatever URLs clients invent (unknown ones are "<unmatched>").
REQUESTS = Counter("vault_http_requests", "HTTP requests answered, by route template.",
                   ["method", "route", "status"], registry=None)
LATENCY = Histogram("vault_http_request_duration_seconds",
                    "Time to answer a request, by route template.", ["method", "route"],
                    registry=None)
NETWORKS_KEY = "vault.metrics_networks"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _observe(response: Response) -> Response:
    started = g.get("request_started")
    if started is not None:
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    return response


def allowed(remote_addr: str | None) -> bool:
    networks = current_app.extensions[NETWORKS_KEY]
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


class _Figures:
    """A collector holding figures computed once for this scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)

    def describe(self) -> Iterable[Metric]:
        return []


def store_figures(session: Session, *, now: datetime, limiter: Any) -> list[Metric]:
    families: list[Metric] = []
    applications = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == audit.CANDIDATE_CREATED,
        AuditEvent.actor_type == audit.CANDIDATE.type)) or 0
    families.append(CounterMetricFamily(
        "vault_applications", "Applications received through the form.", value=applications))
    erasures = session.scalar(select(func.count()).select_from(ErasureRecord)) or 0
    families.append(CounterMetricFamily(
        "vault_erasures", "People erased (crypto-shredded), all reasons.", value=erasures))
    last_run = session.scalar(select(func.max(AuditEvent.created_at)).where(
        AuditEvent.action == audit.RETENTION_RUN))
    if last_run is not None:
        families.append(GaugeMetricFamily(
            "vault_retention_last_success_timestamp_seconds",
            "When the retention job last finished (Unix time).", value=last_run.timestamp()))
    probe = mail_backlog_probe(current_app)
    if probe is not None:
        backlog = probe(session)
        families.append(GaugeMetricFamily(
            "vault_mail_queue_depth", "Messages waiting in the mail queue.",
            value=backlog.depth))
        age = (now - backlog.oldest_queued_at).total_seconds() if backlog.oldest_queued_at else 0
        families.append(GaugeMetricFamily(
            "vault_mail_queue_oldest_age_seconds",
            "How long the oldest waiting message has waited.", value=max(age, 0.0)))
    if current_app.config["RATELIMIT_ENABLED"]:
        families.append(GaugeMetricFamily(
            "vault_rate_limit_store_up", "1 if the shared rate-limit store answers.",
            value=1 if limiter.storage.check() else 0))
    return families


def exposition(session: Session, *, now: datetime, limiter: Any) -> bytes:
    registry = CollectorRegistry()
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    try:
        families = store_figures(session, now=now, limiter=limiter)
        database_up = 1
    except Exception as exc:  # noqa: BLE001 - a scrape must still answer when the store fails
        session.rollback()
        log.warning("metrics: store figures unavailable (%s)", exc.__class__.__name__)
        families, database_up = [], 0
    families.append(GaugeMetricFamily("vault_database_up", "1 if the database answered.",
                                      value=database_up))
    registry.register(_Figures(families))
    return generate_latest(registry)


def init_app(app: Flask) -> None:
    # Parsed at start-up: a mistyped network stops the app instead of opening /metrics.
    networks = app.config["METRICS_ALLOWED_NETWORKS"]
    if isinstance(networks, str):  # "10.0.0.0/8, 127.0.0.1/32" from an environment file
        networks = [n for n in (part.strip() for part in networks.split(",")) if n]
    app.extensions[NETWORKS_KEY] = [ipaddress.ip_network(n, strict=False) for n in networks]
    app.after_request(_observe)
