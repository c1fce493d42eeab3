"""Page problems found by axe-core (impact serious or critical) or the 390 px overflow
check that are known and left to the pages' owners: page name (as in Site.check) ->
{rule id, or "rule@width" for one viewport only: why}. Each is a strict expected failure:
that page's check at that width reports SUBXFAIL with the reason while the problem is
there, and fails once it is gone, until its line here is removed.
"""

# Empty: every page of the journeys passes both checks at both widths. A problem that
# must wait for a fix is listed here as page -> {rule (or rule@width): why}.
KNOWN: dict[str, dict[str, str]] = {}


def known_problems(page: str, width: int) -> dict[str, str]:
    """The known problems of a page at a viewport width: rule id -> why."""
    out = {}
    for key, why in KNOWN.get(page, {}).items():
        rule, _, only = key.partition("@")
        if not only or int(only) == width:
            out[rule] = why
    return out
