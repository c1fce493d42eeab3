"""Bearer tokens, scopes, the per-client rate limit and the audit event of every call.

Decorate an operation with `@require_scope(SCOPE)` directly below `@bp.route(...)`, so
that authentication comes before anything reads the request: a caller without a valid
token learns nothing about what the body should have been.
Order inside: refused tokens per address (429) -> token (401) -> per-client rate limit
(429) -> scope (403) -> the view.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

from vault.api.blueprint import bp
from vault.api.problems import ApiProblem
from vault.appctx import now, vault_keys
from vault.extensions import db, limiter
from vault.models import ApiClient
from vault.services import api_clients

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

SECURITY_SCHEME = "bearerToken"
KEY_ID_SHAPE = re.compile(r"vlt_([0-9a-f]{24})_")


def _client_key() -> str:
    # Only reached after authentication (the limit wraps the authenticated part).
    return "api-client:" + cast(ApiClient, g.api_client).key_id


def _limit_value() -> str:
    return str(current_app.config["RATELIMIT_API"])


# One budget per client over all operations (shared_limit: one scope name), kept where the
# app keeps its other limits (Redis when RATELIMIT_STORAGE_URI names it). When that store
# is down, Flask-Limiter enforces the limit per worker in memory and logs an error
# (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED): calls keep working and stay limited.
_per_client = limiter.shared_limit(_limit_value, scope="api-client", key_func=_client_key)


_FAILURES = "api-auth-failure"


def _failure_limit() -> RateLimitItem:
    return parse(str(current_app.config["RATELIMIT_API_AUTH_FAILURES"]))


def _failures_exhausted(address: str) -> int | None:
    """Seconds until this address may try a token again, None while it may. The
    per-client budget only starts once a token is valid; refused tokens are counted per
    address, so a caller without one cannot make the vault look tokens up, hash secrets
    and (for a known key id) write audit events without end."""
    if not limiter.enabled:
        return None
    try:
        if limiter.limiter.test(_failure_limit(), _FAILURES, address):
            return None
        reset = limiter.limiter.get_window_stats(_failure_limit(), _FAILURES, address).reset_time
    except Exception as exc:  # noqa: BLE001 - a store that is down must not refuse calls
        log.warning("failed-token limit unavailable: %s", exc.__class__.__name__)
        return None
    return max(1, int(reset - time.time()) + 1)


def _count_failure(address: str) -> None:
    if not limiter.enabled:
        return
    try:
        limiter.limiter.hit(_failure_limit(), _FAILURES, address)
    except Exception as exc:  # noqa: BLE001 - as above
        log.warning("failed-token limit unavailable: %s", exc.__class__.__name__)


def _unauthorised(detail: str) -> ApiProblem:
    # RFC 6750: a 401 names the scheme; no error code when no token was sent at all.
    return ApiProblem(
        401,
        detail,
        kind="unauthorised",
        title="Unauthorised",
        headers={"WWW-Authenticate": 'Bearer realm="vault"'},
    )


def _authenticate() -> ApiClient:
    address = get_remote_address()
    wait = _failures_exhausted(address)
    if wait is not None:
        raise ApiProblem(
            429,
            "Too many calls from this address were refused for their token; retry after "
            "the time in Retry-After.",
            kind="rate-limited",
            title="Too many requests",
            headers={"Retry-After": str(wait)},
        )
    try:
        return _check_token()
    except ApiProblem:
        _count_failure(address)
        raise


def _check_token() -> ApiClient:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("This operation needs an API token: 'Authorization: Bearer vlt_...'.")
    # The key id (public, not the secret) lets the audit trail name refused calls of a
    # known client: a revoked or expired token still in use is worth seeing.
    # Only a key id of the right shape is looked up: anything else (a NUL byte, which
    # PostgreSQL refuses with an error) never reaches the database.
    shaped = KEY_ID_SHAPE.match(token.strip())
    key_id = shaped.group(1) if shaped else None
    client = api_clients.authenticate(db.session, vault_keys().keyring, token, now=now())
    if client is None:
        if key_id is not None:
            known = db.session.scalar(db.select(ApiClient).where(ApiClient.key_id == key_id))
            if known is not None:
                g.api_refused_client = known
        # One answer for unknown, wrong, expired and revoked tokens: nothing to probe.
        raise _unauthorised("The API token is not valid (unknown, expired or revoked).")
    return client


def require_scope(scope: str) -> Callable[[F], F]:
    if scope not in api_clients.SCOPES:
        raise ValueError(f"unknown scope {scope}")

    def decorate(view: F) -> F:
        @wraps(view)
        def scoped(*args: Any, **kwargs: Any) -> Any:
            client = cast(ApiClient, g.api_client)
            if scope not in client.scope_set:
                raise ApiProblem(
                    403,
                    f"This operation needs the scope {scope}, which this client was not given.",
                    kind="insufficient-scope",
                    title="Insufficient scope",
                    headers={
                        "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'
                    },
                )
            return view(*args, **kwargs)

        limited = _per_client(scoped)

        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            g.api_client = _authenticate()
            return limited(*args, **kwargs)

        documented = bp.doc(security=[{SECURITY_SCHEME: [scope]}])(guarded)
        for status in (401, 403, 429):
            documented = bp.alt_response(status, HTTPStatus(status).name)(documented)
        return cast(F, documented)

    return decorate
