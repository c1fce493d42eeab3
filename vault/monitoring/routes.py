"""/readyz (readiness) and /metrics (Prometheus); /healthz (liveness) is in vault.public."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from vault.appctx import now
from vault.extensions import db, limiter
from vault.monitoring import checks, metrics

bp = Blueprint("monitoring", __name__)


@bp.get("/readyz")
@limiter.exempt
def readyz() -> tuple[Response, int]:
    results = checks.readiness(current_app, db.session, limiter, now())
    failed = sorted(name for name, result in results.items() if result == checks.FAIL)
    body = {"status": "fail" if failed else "ok", "checks": results, "failed": failed}
    return jsonify(body), 503 if failed else 200


@bp.get("/metrics")
@limiter.exempt
def metrics_page() -> Response:
    # Figures about the service are for the operator's network only; elsewhere the page
    # does not exist.
    if not metrics.allowed(request.remote_addr):
        abort(404)
    body = metrics.exposition(db.session, now=now(), limiter=limiter)
    db.session.rollback()
    return Response(body, content_type=CONTENT_TYPE_LATEST)
