"""Public pages: home, health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text

from vault.extensions import db, limiter

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> str:
    return render_template("public/home.html")


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database_ok = True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"; no detail leaks
        database_ok = False
    finally:
        db.session.rollback()
    keyring_ok = "vault.keys" in current_app.extensions
    body = {"status": "ok" if database_ok and keyring_ok else "fail",
            "database": database_ok, "keyring": keyring_ok}
    return jsonify(body), 200 if body["status"] == "ok" else 503
