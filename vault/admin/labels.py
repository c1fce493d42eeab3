"""Words for the codes the privacy desk shows (request kinds and statuses, channels,
sources, erasure categories, export recipients, and roles), in the page's language.

The codes stay in the database, the audit trail and exports; only the pages word them.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

DESK_LABELS: dict[str, LazyString] = {
    # Kinds of data-subject request (vault.services.requests.KINDS).
    "access": _l("access"),
    "export": _l("export"),
    "correct": _l("correction"),
    "withdraw": _l("withdrawal"),
    "object": _l("objection"),
    "erase": _l("erasure"),
    "renew": _l("renewal"),
    # Request statuses.
    "open": _l("open"),
    "fulfilled": _l("fulfilled"),
    "rejected": _l("rejected"),
    # Channels a request came in by.
    "self-service": _l("self-service"),
    "admin": _l("privacy officer"),
    "cli": _l("command line"),
    # Where a record came from.
    "apply": _l("application"),
    "spontaneous": _l("spontaneous application"),
    "import": _l("import"),
    "demo": _l("demo"),
    # Roles.
    "recruiter": _l("recruiter"),
    # API clients and their erasure notices (vault.services.webhooks).
    "active": _l("active"),
    "revoked": _l("revoked"),
    "expired": _l("expired"),
    "queued": _l("waiting"),
    "delivered": _l("delivered"),
    "failed": _l("failed"),
    "cancelled": _l("cancelled"),
}

ERASURE_LABELS: dict[str, LazyString] = {
    "subject-request": _l("The person asked for erasure (letter, e-mail, phone)"),
    "objection": _l("The person objected and there is no overriding ground"),
    "consent-withdrawn": _l("Consent was withdrawn"),
    "unlawful": _l("The data was processed unlawfully"),
    "legal-obligation": _l("Erasure required by law or a court"),
}

RECIPIENT_LABELS: dict[str, LazyString] = {
    "person": _l("the person"),
    "organisation": _l("another organisation"),
}


def desk_label(code: str | None) -> str:
    """The words for a code; a code without words is shown as it is."""
    if code is None:
        return ""
    return str(DESK_LABELS[code]) if code in DESK_LABELS else code
