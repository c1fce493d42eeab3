"""Page problems found by axe-core (impact serious or critical) or the 390 px overflow
check that are known and left to the pages' owners: page name (as in Site.check) ->
{rule id, or "rule@width" for one viewport only: why}. Each is a strict expected failure:
that page's check at that width reports SUBXFAIL with the reason while the problem is
there, and fails once it is gone, until its line here is removed.
"""

_CONSENT_TABLE = (
    "at 390 px the consents table (5 columns) scrolls inside its own box (static/vault.css), "
    "which a keyboard cannot reach: templates/candidate/page.html should give that table "
    "tabindex=\"0\" and an aria-label (or wrap it in <div role=\"region\" tabindex=\"0\" "
    "aria-label=...>)")

_STATUS_MENU = (
    "templates/recruiter/candidate.html renders the status <select> (status_form.status) "
    "without a label: give it one (visible, or aria-label=_(\"Status\"))")

_RESOLVE_MENU = (
    "templates/admin/requests.html renders each open request's \"Resolve as\" <select> "
    "(resolve_form.status) without a label, and with the same id on every row")

KNOWN: dict[str, dict[str, str]] = {
    "my-data": {"scrollable-region-focusable@390": _CONSENT_TABLE},
    "my-data-after-changes": {"scrollable-region-focusable@390": _CONSENT_TABLE},
    "recruiter-candidate": {"select-name": _STATUS_MENU},
    "recruiter-candidate-after-changes": {"select-name": _STATUS_MENU},
    "officer-requests": {"select-name": _RESOLVE_MENU},
}


def known_problems(page: str, width: int) -> dict[str, str]:
    """The known problems of a page at a viewport width: rule id -> why."""
    out = {}
    for key, why in KNOWN.get(page, {}).items():
        rule, _, only = key.partition("@")
        if not only or int(only) == width:
            out[rule] = why
    return out
