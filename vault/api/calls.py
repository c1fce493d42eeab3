"""The audit event of every API call."""

from __future__ import annotations

import logging

from flask import Response, g, request

from vault.api.blueprint import bp
from vault.appctx import now
from vault.extensions import db
from vault.services import audit

log = logging.getLogger(__name__)

API_CALL = "api.call"  # detail: key id, method, route pattern, status


def actor_of(client_id: int) -> audit.Actor:
    return audit.Actor(audit.API_ACTOR, client_id)


@bp.after_request
def audit_call(response: Response) -> Response:
    """Every authenticated call (and every refused call naming a known client's key id)
    is an audit event: the client's key id, the route pattern (never the path, which may
    hold a public id, nor the query) and the status. Nothing the request carried."""
    client = g.get("api_client") or g.get("api_refused_client")
    if client is None:
        return response
    if response.status_code >= 400:
        # An error writes nothing: whatever the view added is dropped before the event.
        db.session.rollback()
    rule = request.url_rule.rule if request.url_rule is not None else "?"
    try:
        audit.record(
            db.session,
            actor_of(client.id),
            API_CALL,
            now=now(),
            detail=f"key {client.key_id} {request.method} {rule} {response.status_code}",
        )
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - the answer is already decided
        db.session.rollback()
        # The class only: a database error can quote the statement's parameters.
        log.error("could not record an API call in the audit trail: %s", exc.__class__.__name__)
    return response
