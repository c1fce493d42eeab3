"""Readiness, Prometheus metrics and the hook the mail queue plugs its backlog into."""

from __future__ import annotations

from vault.monitoring.checks import (
    MailBacklog,
    MailBacklogProbe,
    mail_queue_backlog,
    register_mail_backlog,
)
from vault.monitoring.metrics import init_app

__all__ = [
    "MailBacklog",
    "MailBacklogProbe",
    "init_app",
    "mail_queue_backlog",
    "register_mail_backlog",
]
