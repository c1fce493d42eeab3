"""GET /api/v1/candidates[/<public_id>[/cv]] (candidates:read): an HR system takes the
file of a person its company hired (vault.services.transfers says which, and what
"once" means).

A record that is not there for this client (unknown, erased, not hired, another
company's) is a 404, the same answer in every case: nothing tells whether it exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import Response, current_app, g
from marshmallow import Schema, fields

from vault.api.auth import require_scope
from vault.api.blueprint import bp
from vault.api.problems import ApiProblem
from vault.appctx import now, vault_keys
from vault.extensions import db
from vault.models import ApiClient, Candidate
from vault.services import transfers
from vault.services.api_clients import CANDIDATES_READ
from vault.services.candidates import open_document
from vault.services.exports import (
    SCHEMA_ID,
    build_export,
    content_disposition,
    export_json,
    staff_document_filename,
)


class HiredSchema(Schema):
    public_id = fields.String(required=True)
    hired_at = fields.AwareDateTime(allow_none=True, required=True)
    vacancy = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The vacancy's slug; null for a spontaneous application."},
    )
    transferred_at = fields.AwareDateTime(
        allow_none=True,
        required=True,
        metadata={
            "description": "When your company's system (any of its API clients) took "
            "the file; null if it has not."
        },
    )


class HiredListSchema(Schema):
    candidates = fields.List(fields.Nested(HiredSchema), required=True)


EXPORT_DOC = {
    "type": "object",
    "description": f"One record in the vault's export format (JSON Schema {SCHEMA_ID}, "
    "docs/export-schema.json in the repository), as a transfer to your company: staff "
    "notes, staff_access and requests are empty, and `companies` names yours alone.",
    "required": ["schema", "schema_version", "exported_at", "records"],
    "properties": {
        "schema": {"type": "string"},
        "schema_version": {"type": "integer"},
        "exported_at": {"type": "string", "format": "date-time"},
        "records": {"type": "array", "items": {"type": "object"}},
    },
}
PUBLIC_ID = {
    "in": "path",
    "name": "public_id",
    "required": True,
    "schema": {"type": "string", "maxLength": 32},
}


def _client() -> ApiClient:
    return cast(ApiClient, g.api_client)


def _not_found() -> ApiProblem:
    return ApiProblem(
        404, "No hired candidate of your company has this id.", kind="not-found", title="Not found"
    )


def _hired(public_id: str) -> Candidate:
    candidate = transfers.hired_candidate(db.session, _client().company, public_id)
    if candidate is None:
        raise _not_found()
    return candidate


def _take(candidate: Candidate) -> None:
    try:
        transfers.take(db.session, _client(), candidate, now=now())
    except transfers.TransferClosed as exc:
        raise ApiProblem(
            410,
            f"Your company's system took this file on {exc.started_at:%Y-%m-%d} "
            f"(UTC); it can be fetched for "
            f"{int(transfers.TRANSFER_WINDOW.total_seconds() // 3600)} hours "
            "after that, once.",
            kind="transfer-closed",
            title="Already transferred",
        ) from None


@bp.route("/candidates", methods=["GET"])
@require_scope(CANDIDATES_READ)
@bp.response(200, HiredListSchema)
def list_hired() -> dict[str, Any]:
    """The hired candidates of your company, with whether its system took each file."""
    hired = transfers.hired_candidates(db.session, _client().company)
    taken = transfers.transfers_of(db.session, _client(), [c.public_id for c in hired])
    return {
        "candidates": [
            {
                "public_id": c.public_id,
                "hired_at": c.status_changed_at,
                "vacancy": c.vacancy.slug if c.vacancy else None,
                "transferred_at": taken.get(c.public_id),
            }
            for c in hired
        ]
    }


@bp.route("/candidates/<public_id>", methods=["GET"])
@require_scope(CANDIDATES_READ)
@bp.doc(
    parameters=[PUBLIC_ID],
    responses={
        "200": {"description": "The file.", "content": {"application/json": {"schema": EXPORT_DOC}}}
    },
)
@bp.alt_response(404, "NOT_FOUND")
@bp.alt_response(410, "GONE")
def candidate_file(public_id: str) -> Response:
    """A hired candidate's file (the export format); the first fetch is the transfer."""
    candidate = _hired(public_id)
    _take(candidate)
    moment: datetime = now()
    # Transfer mode: the person's own data and this company's application only; no
    # notes, no record of who in the group opened the data, no requests to the
    # controller, no other company a spontaneous application named.
    document = build_export(
        db.session, vault_keys(), [candidate], now=moment, transfer_to=_client().company
    )
    db.session.commit()
    return current_app.response_class(export_json(document), mimetype="application/json")


@bp.route("/candidates/<public_id>/cv", methods=["GET"])
@require_scope(CANDIDATES_READ)
@bp.doc(
    parameters=[PUBLIC_ID],
    responses={
        "200": {
            "description": "The CV as it was sent (PDF or Word).",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
)
@bp.alt_response(404, "NOT_FOUND")
@bp.alt_response(410, "GONE")
def candidate_cv(public_id: str) -> Response:
    """The hired candidate's CV; part of the same transfer as the file."""
    candidate = _hired(public_id)
    if not candidate.documents:
        raise _not_found()
    _take(candidate)
    document = candidate.documents[0]
    _name, media_type, content = open_document(vault_keys(), candidate, document)
    db.session.commit()
    response = current_app.response_class(content, mimetype=media_type)
    # content_disposition checks the name is plain ASCII, as for every other download.
    response.headers["Content-Disposition"] = content_disposition(
        staff_document_filename(candidate, document.stored_name)
    )
    return response
