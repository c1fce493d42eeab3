"""Public pages: home with the open vacancies, the privacy notice, health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text

from vault.extensions import db, limiter
from vault.privacy import NOTICE_VERSION
from vault.services.vacancies import open_vacancies, vacancies_by_company

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> str:
    return render_template("public/home.html",
                           vacancies_by_company=vacancies_by_company(open_vacancies(db.session)))


@bp.get("/privacy")
def privacy() -> str:
    config = current_app.config
    return render_template(
        "public/privacy.html", version=NOTICE_VERSION,
        retention_days=config["APPLICATION_RETENTION_DAYS"],
        pool_months=config["TALENT_POOL_MONTHS"], grace_days=config["GRACE_DAYS"],
        reminder_days=" and ".join(str(d) for d in config["REMINDER_DAYS"]),
        link_days=config["LINK_MAX_AGE_DAYS"])


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
