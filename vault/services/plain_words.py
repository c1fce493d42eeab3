"""The codes stored in records, in the words a candidate reads on their own page.

Staff pages and exports keep the codes (and vault.messages.label's staff wording);
the person sees what happened to them, not an event name ("candidate.exported") or a
workflow state ("new").
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from vault.messages import label
from vault.services import audit

APPLICATION_STATUS: dict[str, LazyString] = {
    "new": _l("received, not yet reviewed"),
    "reviewing": _l("being reviewed"),
    "rejected": _l("not retained"),
    "hired": _l("hired"),
}

# Who did it: the role recorded with the audit event (never a name).
STAFF_ROLE: dict[str, LazyString] = {
    "recruiter": _l("A recruiter"),
    "admin": _l("Our privacy officer"),
}
SOMEONE_ON_STAFF = _l("A member of our staff")

# What they did, with {who} in front.
STAFF_ACTION: dict[str, LazyString] = {
    audit.CANDIDATE_VIEWED: _l("{who} looked at your data"),
    audit.CV_DOWNLOADED: _l("{who} downloaded your CV"),
    audit.CANDIDATE_EXPORTED: _l("{who} downloaded a copy of all your data"),
}
SOMETHING_ELSE = _l("{who} opened your data")


def application_status(code: str | None) -> str:
    """An application's status for its applicant; an unknown code in staff wording."""
    return str(APPLICATION_STATUS[code]) if code in APPLICATION_STATUS else label(code)


def staff_did(role: str | None, action: str, company: str | None = None) -> str:
    """"A recruiter (Ingenium) downloaded your CV": who, by role and company (never by
    name), did what with the person's data."""
    if action == audit.CANDIDATE_TRANSFERRED:
        # Not a person but a company's system, through the API (vault.services.transfers).
        if company:
            return str(_l("%(company)s's HR system took your file", company=company))
        return str(_l("An HR system took your file"))
    who = str(STAFF_ROLE.get(role or "", SOMEONE_ON_STAFF))
    if company:
        # A company name is a proper noun: brackets read the same in the three languages.
        who = f"{who} ({company})"
    return str(STAFF_ACTION.get(action, SOMETHING_ELSE)).format(who=who)
