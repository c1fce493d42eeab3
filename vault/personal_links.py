"""The URLs mailed to candidates.

They are built on the configured PUBLIC_BASE_URL, never on the request's Host header:
otherwise anyone could ask for a link to someone else's data with a forged Host and
have the vault mail the victim a valid token pointing at the attacker's site.
"""

from __future__ import annotations

from flask import current_app

from vault.appctx import now, secret_keys
from vault.services import links


def _absolute(endpoint: str, token: str) -> str:
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    path = current_app.url_map.bind("localhost").build(endpoint, {"token": token})
    return base + path


def self_service_token(public_id: str) -> str:
    return links.make_link_token(secret_keys(), links.SELF_SERVICE, public_id, clock=now)


def self_service_url(public_id: str) -> str:
    return _absolute("candidate.page", self_service_token(public_id))


def renewal_url(public_id: str) -> str:
    token = links.make_link_token(secret_keys(), links.RENEW_CONSENT, public_id, clock=now)
    return _absolute("renewal.confirm", token)
