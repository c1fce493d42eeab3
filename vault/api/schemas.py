"""marshmallow schemas of the API (they validate requests and write the OpenAPI document)."""

from __future__ import annotations

from marshmallow import Schema, fields


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(
        metadata={
            "description": "Fields that failed validation, with "
            "what was wrong (never their values)."
        }
    )
