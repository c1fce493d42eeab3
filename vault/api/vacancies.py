"""GET /api/v1/vacancies (vacancies:read): the open vacancies of the whole group.

All companies, not only the client's: the public job board already publishes every open
vacancy to anyone, and a job board carries the group's jobs. Filtering reuses the job
board's service, so the API and the start page always list the same vacancies.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from marshmallow import Schema, fields, validate

from vault.api.auth import require_scope
from vault.api.blueprint import bp
from vault.extensions import db
from vault.privacy import NOTICE_VERSION
from vault.services.api_clients import VACANCIES_READ
from vault.services.job_board import FILTER_MAX, BoardFilter, job_board


class VacancyQuery(Schema):
    company = fields.String(
        validate=validate.Length(max=FILTER_MAX),
        metadata={"description": "Only this company's vacancies (case-insensitive)."},
    )
    location = fields.String(
        validate=validate.Length(max=FILTER_MAX),
        metadata={"description": "Only vacancies at this location (case-insensitive)."},
    )


class VacancySchema(Schema):
    slug = fields.String(
        required=True, metadata={"description": "Stable id; the application's `vacancy` field."}
    )
    company = fields.String(required=True)
    title = fields.String(required=True)
    location = fields.String(required=True)
    description = fields.String(required=True)
    contract_type = fields.String(
        required=True,
        metadata={
            "description": "permanent, fixed_term, freelance, internship, student or '' "
            "(not stated)."
        },
    )
    hours_per_week = fields.Integer(allow_none=True, required=True)
    posted_on = fields.Date(allow_none=True, required=True)
    apply_url = fields.String(
        required=True, metadata={"description": "The vacancy's form on the vault's own site."}
    )


class NoticeSchema(Schema):
    version = fields.String(
        required=True,
        metadata={"description": "Send it as each consent's notice version with an application."},
    )
    url = fields.String(
        required=True,
        metadata={
            "description": "The privacy notice the applicant must be shown before consenting."
        },
    )


class VacancyListSchema(Schema):
    vacancies = fields.List(fields.Nested(VacancySchema), required=True)
    privacy_notice = fields.Nested(NoticeSchema, required=True)


@bp.route("/vacancies", methods=["GET"])
@require_scope(VACANCIES_READ)
@bp.arguments(VacancyQuery, location="query", as_kwargs=True)
@bp.response(200, VacancyListSchema)
def list_vacancies(company: str = "", location: str = "") -> dict[str, Any]:
    """The open vacancies, grouped by company as on the job board."""
    board = job_board(
        db.session, BoardFilter.from_args(company, location), current_app.config["COMPANIES"]
    )
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return {
        "privacy_notice": {"version": NOTICE_VERSION, "url": base + url_for("public.privacy")},
        "vacancies": [
            {
                "slug": v.slug,
                "company": v.company,
                "title": v.title,
                "location": v.location,
                "description": v.description,
                "contract_type": v.contract_type,
                "hours_per_week": v.hours_per_week,
                "posted_on": v.posted_on,
                "apply_url": base + url_for("apply.form", slug=v.slug),
            }
            for _, group in board.by_company
            for v in group
        ],
    }
