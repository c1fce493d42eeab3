"""The shares of held CVs, in the applicant's session cookie (see services.held_uploads).

The cookie is signed, so the browser cannot forge a pair; it is not encrypted, which is
why it holds only the share: without the keyring and the row it opens nothing. A few
pairs at most (two tabs, two vacancies); the oldest is dropped, and its CV deleted,
when a new one comes.
"""

from __future__ import annotations

from flask import session

from vault.services.held_uploads import Claim

SESSION_KEY = "vault_held_cv"
MAX_PER_SESSION = 3


def _pairs() -> list[list[str]]:
    value = session.get(SESSION_KEY)
    if not isinstance(value, list):
        return []
    return [p for p in value if isinstance(p, list) and len(p) == 2
            and all(isinstance(x, str) for x in p)]


def claim_for(token: str | None) -> Claim | None:
    """This session's claim on a token, or None (another session's token, or none)."""
    for held_token, share in _pairs():
        if token and held_token == token:
            return Claim(held_token, share)
    return None


def remember(claim: Claim) -> list[str]:
    """Keep a new claim; the tokens dropped to make room (their CVs must be deleted)."""
    pairs = [*_pairs(), [claim.token, claim.share]]
    dropped = [token for token, _share in pairs[:-MAX_PER_SESSION]]
    session[SESSION_KEY] = pairs[-MAX_PER_SESSION:]
    return dropped


def forget(token: str) -> None:
    pairs = [p for p in _pairs() if p[0] != token]
    if pairs:
        session[SESSION_KEY] = pairs
    else:
        session.pop(SESSION_KEY, None)
