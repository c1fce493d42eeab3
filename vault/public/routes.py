"""Public pages: home with the open vacancies, job pages, the privacy notice, health check."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import text

from vault.extensions import db, limiter
from vault.privacy import NOTICE_VERSION
from vault.public.text import paragraphs
from vault.services.job_board import BoardFilter, job_board
from vault.services.vacancies import vacancy_by_slug

bp = Blueprint("public", __name__)
bp.add_app_template_filter(paragraphs, "paragraphs")


@bp.get("/")
def home() -> str:
    wanted = BoardFilter.from_args(request.args.get("company"), request.args.get("location"))
    return render_template("public/home.html",
                           board=job_board(db.session, wanted, current_app.config["COMPANIES"]))


@bp.get("/jobs/<slug>")
def job(slug: str) -> str | tuple[str, int]:
    vacancy = vacancy_by_slug(db.session, slug)
    if vacancy is None:
        abort(404)
    if not vacancy.is_open:
        # 410 Gone, not 404: the page existed and was taken down on purpose, which is
        # what 410 says; search engines and job boards that link here drop it, while a
        # person (from an old link or a mail) still reads that the job is filled or
        # withdrawn and gets the spontaneous application instead of a dead end.
        return render_template("public/job_closed.html", vacancy=vacancy), 410
    return render_template("public/job.html", vacancy=vacancy)


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
