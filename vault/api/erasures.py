"""GET /api/v1/erasures?since=… (erasures:read): the public ids erased since a moment.

For clients that poll rather than (or besides) receiving the signed notices of
vault.services.webhooks. Read from the erasure ledger, the authoritative record kept
outside the database (vault.services.erasure_ledger), so a restored database does not
hide an erasure from the list. Public ids and times only: never the reason.

The whole group's erasures, not only the client's company's: the ledger records no
company (on purpose, it holds no more than it must), and a public id is random and
meaningless to anyone who did not receive that record. A client matches the ids against
the records it holds and erases those.

Paged by a cursor, not by page numbers: entries are ordered by (time, public id) and
`after` is the last entry of the previous page, so an erasure written while a client
pages through is never skipped nor listed twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import url_for
from marshmallow import Schema, ValidationError, fields, validate

from vault.api.auth import require_scope
from vault.api.blueprint import bp
from vault.api.problems import ApiProblem
from vault.appctx import erasure_ledger
from vault.services.api_clients import ERASURES_READ
from vault.services.erasure_ledger import LedgerError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_CURSOR_SEPARATOR = "~"


def _in_utc_range(moment: datetime) -> None:
    # A valid ISO time near the ends of the calendar (0001-01-01T00:00+00:01) has no UTC
    # equivalent: refused as input, never a 500 when it is compared with the ledger's.
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValidationError("The time is outside the range that can be read in UTC.") from None


class ErasureQuery(Schema):
    since = fields.AwareDateTime(
        required=True,
        format="iso",
        validate=_in_utc_range,
        metadata={
            "description": "ISO 8601 time with an offset (e.g. 2026-11-27T10:00:00Z): "
            "erasures at or after it."
        },
    )
    after = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "The `next_after` of the previous page."},
    )
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Entries per page (1 to {MAX_LIMIT})."},
    )


class ErasureSchema(Schema):
    public_id = fields.String(required=True)
    erased_at = fields.AwareDateTime(required=True, format="iso")


class ErasureListSchema(Schema):
    erasures = fields.List(fields.Nested(ErasureSchema), required=True)
    next_after = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "Pass as `after` (same `since`) for the next page; null "
            "on the last page."
        },
    )
    next = fields.String(
        allow_none=True, required=True, metadata={"description": "The next page's URL."}
    )


def _utc(moment: datetime) -> datetime:
    # A ledger in a database without time zones hands back naive UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _cursor(moment: datetime, public_id: str) -> str:
    return f"{_utc(moment).isoformat()}{_CURSOR_SEPARATOR}{public_id}"


def _parse_cursor(after: str) -> tuple[datetime, str]:
    moment, separator, public_id = after.partition(_CURSOR_SEPARATOR)
    try:
        if not separator or not public_id:
            raise ValueError
        return _utc(datetime.fromisoformat(moment)), public_id
    except (ValueError, OverflowError):  # OverflowError: no UTC equivalent (_in_utc_range)
        raise ApiProblem(
            400,
            "The value of 'after' is not one this API gave.",
            kind="bad-cursor",
            title="Bad cursor",
        ) from None


@bp.route("/erasures", methods=["GET"])
@require_scope(ERASURES_READ)
@bp.arguments(ErasureQuery, location="query", as_kwargs=True)
@bp.response(200, ErasureListSchema)
def list_erasures(since: datetime, limit: int = DEFAULT_LIMIT, after: str = "") -> dict[str, Any]:
    """Public ids erased at or after `since`, oldest first, a page at a time.

    Erase every record you hold under these ids and keep only the fact (GDPR art. 17
    and 19); see "Erasure notices" in the documentation."""
    start = _utc(since)
    position = _parse_cursor(after) if after else None
    try:
        entries = erasure_ledger().read()
    except LedgerError:
        raise ApiProblem(
            503,
            "The erasure ledger cannot be read right now; try again later.",
            kind="ledger-unavailable",
            title="Ledger unavailable",
        ) from None
    keyed = sorted(
        {(_utc(e.erased_at), e.public_id) for e in entries if _utc(e.erased_at) >= start}
    )
    if position is not None:
        keyed = [k for k in keyed if k > position]
    page, more = keyed[:limit], len(keyed) > limit
    next_after = _cursor(*page[-1]) if more else None
    return {
        "erasures": [{"public_id": pid, "erased_at": moment} for moment, pid in page],
        "next_after": next_after,
        "next": url_for(
            "api.list_erasures",
            since=start.isoformat(),
            after=next_after,
            limit=limit,
            _external=False,
        )
        if next_after
        else None,
    }
