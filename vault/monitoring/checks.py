"""Readiness checks: can this worker serve real traffic right now?

Each check returns "ok", "fail" or "skipped"; /readyz answers 503 naming the ones that
failed. Failure details go to the log (exception class only), never to the response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from vault.crypto.kek_backend import KeyManagerUnavailable, probing

log = logging.getLogger(__name__)

OK, FAIL, SKIPPED = "ok", "fail", "skipped"
MAIL_BACKLOG_KEY = "vault.mail_backlog"


@dataclass(frozen=True)
class MailBacklog:
    """What the mail queue holds: messages not yet sent, and when the oldest was queued."""

    depth: int
    oldest_queued_at: datetime | None


# The mail queue supplies this: given a database session, its current backlog.
MailBacklogProbe = Callable[[Session], MailBacklog]


def register_mail_backlog(app: Flask, probe: MailBacklogProbe) -> None:
    """Called by the mail queue's init_app: /readyz and /metrics then watch its backlog.

    Until a probe is registered the backlog check is "skipped" (no queue, no backlog).
    """
    app.extensions[MAIL_BACKLOG_KEY] = probe


def mail_queue_backlog(session: Session) -> MailBacklog:
    """The durable mail queue's backlog (services.mail_queue), for /readyz and /metrics."""
    from vault.appctx import now
    from vault.services import mail_queue

    moment = now()
    stats = mail_queue.stats(session, moment)
    oldest = (moment - timedelta(seconds=stats.oldest_queued_seconds)
              if stats.queued else None)
    return MailBacklog(stats.queued, oldest)


def mail_backlog_probe(app: Flask) -> MailBacklogProbe | None:
    return app.extensions.get(MAIL_BACKLOG_KEY)


def check_database(session: Session) -> str:
    session.execute(text("SELECT 1"))
    return OK


def schema_heads(app: Flask) -> set[str]:
    # Read the migration scripts once per process: they do not change under a running app.
    heads = app.extensions.get("vault.schema_heads")
    if heads is None:
        heads = set(ScriptDirectory(app.extensions["migrate"].directory).get_heads())
        app.extensions["vault.schema_heads"] = heads
    return heads


def check_schema(session: Session, heads: set[str]) -> str:
    # A worker started before `vault db upgrade` ran (or after a rollback) must not take
    # traffic: its queries would meet columns it does not know.
    current = set(session.scalars(text("SELECT version_num FROM alembic_version")))
    return OK if current == heads else FAIL


def check_keys(app: Flask) -> dict[str, str]:
    """Two results from one probe: "key_manager", whether the key manager holding the KEKs
    unwraps ("skipped" with the keyring file), and "keys", whether the keys are loaded
    and usable. The probe is one round trip through the primary KEK (VaultKeys.ready): one
    key manager call in the steady state. An app that started while the key manager was
    down loads its keys here once it answers, so readiness comes back without a request
    for a page."""
    from vault.keys import app_keys, note_answered, note_unavailable

    try:
        # Asked even while an outage is remembered: this is how it is seen to end.
        with probing():
            keys = app_keys(app.extensions)
            usable = keys is not None and keys.ready()
    except KeyManagerUnavailable as exc:
        note_unavailable(exc)  # logged when the reason changes, not on every probe
        return {"key_manager": FAIL, "keys": FAIL}
    if keys is not None and keys.manager is not None and usable:
        note_answered()
    key_manager = SKIPPED if keys is None or keys.manager is None else (OK if usable else FAIL)
    # Keys without the secret key (or another missing secret) do not serve either.
    serving = usable and not app.extensions.get("vault.missing_secrets")
    return {"key_manager": key_manager, "keys": OK if serving else FAIL}


def check_rate_limit_store(app: Flask, limiter: Any) -> str:
    if not app.config["RATELIMIT_ENABLED"]:
        return SKIPPED
    return OK if limiter.storage.check() else FAIL


def check_mail_backlog(session: Session, probe: MailBacklogProbe | None, *, now: datetime,
                       max_depth: int, max_age: timedelta) -> str:
    if probe is None:
        return SKIPPED
    backlog = probe(session)
    too_old = backlog.oldest_queued_at is not None and now - backlog.oldest_queued_at > max_age
    return FAIL if backlog.depth > max_depth or too_old else OK


def readiness(app: Flask, session: Session, limiter: Any, now: datetime) -> dict[str, str]:
    config = app.config
    results: dict[str, str] = {}
    # Each check gives the results it names (the keys' probe gives two, from one call).
    checks: list[tuple[tuple[str, ...], Callable[[], dict[str, str]]]] = [
        (("database",), lambda: {"database": check_database(session)}),
        (("schema",), lambda: {"schema": check_schema(session, schema_heads(app))}),
        (("key_manager", "keys"), lambda: check_keys(app)),
        (("rate_limit_store",), lambda: {
            "rate_limit_store": check_rate_limit_store(app, limiter)}),
        (("mail_backlog",), lambda: {"mail_backlog": check_mail_backlog(
            session, mail_backlog_probe(app), now=now,
            max_depth=int(config["READY_MAIL_BACKLOG_MAX"]),
            max_age=timedelta(minutes=float(config["READY_MAIL_MAX_AGE_MINUTES"])))}),
    ]
    for names, check in checks:
        try:
            found = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; logged by class
            session.rollback()
            for name in names:
                log.warning("readiness check failed: %s (%s)", name, exc.__class__.__name__,
                            extra={"event": "readiness", "check": name})
                results[name] = FAIL
            continue
        for name in names:
            results[name] = found[name]
            if results[name] == FAIL:
                log.warning("readiness check failed: %s", name,
                            extra={"event": "readiness", "check": name})
    session.rollback()
    return results
