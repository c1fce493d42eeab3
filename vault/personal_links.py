"""The URLs mailed to candidates.

They are built on the configured PUBLIC_BASE_URL, never on the request's Host header:
otherwise anyone could ask for a link to someone else's data with a forged Host and
have the vault mail the victim a valid token pointing at the attacker's site. Every
path that carries a token starts with /my-data/ or /consent/renew/ (logs redact them).
"""

from __future__ import annotations

from flask import Response, current_app
from sqlalchemy import select

from vault.appctx import now, secret_keys
from vault.extensions import db, limiter
from vault.models import Candidate
from vault.services import identity, links


def _absolute(endpoint: str, token: str) -> str:
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    path = current_app.url_map.bind("localhost").build(endpoint, {"token": token})
    return base + path


def _generation(public_id: str) -> int:
    """The person's current link generation: a link issued under an older one is revoked."""
    record = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
    return 0 if record is None else identity.person_generation(db.session, record)


def self_service_token(public_id: str) -> str:
    return links.make_link_token(secret_keys(), links.SELF_SERVICE, public_id, clock=now,
                                 generation=_generation(public_id))


def self_service_url(public_id: str) -> str:
    return _absolute("candidate.page", self_service_token(public_id))


def renewal_url(public_id: str) -> str:
    token = links.make_link_token(secret_keys(), links.RENEW_CONSENT, public_id, clock=now,
                                  generation=_generation(public_id))
    return _absolute("renewal.confirm", token)


def email_confirmation_url(token: str) -> str:
    return _absolute("candidate.confirm_email", token)


def request_link_url() -> str:
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return base + current_app.url_map.bind("localhost").build("candidate.request_link")


def _refused(response: Response) -> bool:
    return response.status_code in (404, 410)


def _bad_link_limit() -> str:
    return str(current_app.config["RATELIMIT_BAD_LINK"])


# Counts only the answers that refused a token (invalid, expired, replaced, nothing
# held), per client, over every token-bearing route: guessing tokens gets nowhere, and
# a person opening their own valid link is never slowed down.
refused_link_limit = limiter.shared_limit(_bad_link_limit, scope="refused-personal-link",
                                          deduct_when=_refused)
