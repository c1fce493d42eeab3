"""Bearer tokens, scopes, the per-client rate limit and the audit event of every call.

Decorate an operation with `@require_scope(SCOPE)` directly below `@bp.route(...)`, so
that authentication comes before anything reads the request: a caller without a valid
token learns nothing about what the body should have been.
Order inside: refused tokens per address (429) -> token (401) -> per-client rate limit
(429) -> scope (403) -> the view.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, request

from vault.api.blueprint import bp
from vault.api.problems import ApiProblem
from vault.appctx import now, vault_keys
from vault.extensions import db, limiter
from vault.models import ApiClient
from vault.services import api_clients

F = TypeVar("F", bound=Callable[..., Any])

SECURITY_SCHEME = "bearerToken"


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


def _refused_token_limit() -> str:
    return str(current_app.config["RATELIMIT_API_AUTH_FAILURES"])


def _token_refused(response: Response) -> bool:
    return response.status_code == 401


# The per-client budget only starts once a token is valid; refused tokens are counted per
# address (the limiter's default key), so a caller without one cannot make the vault
# look tokens up, hash secrets and (for a known key id) write audit events without end.
# Only the 401 answers count (deduct_when): a client using its valid token from the same
# address is never slowed down by this limit. Kept by the limiter like every other limit
# (Redis, with the per-worker memory fallback when the store is down), once its budget
# is spent the call is refused before the token is even looked at.
_refused_tokens = limiter.shared_limit(
    _refused_token_limit,
    scope="api-auth-failure",
    deduct_when=_token_refused,
    error_message="Too many calls from this address were refused for their token; retry "
    "after the time in Retry-After.",
)


def _unauthorised(detail: str) -> ApiProblem:
    # RFC 6750: a 401 names the scheme; no error code when no token was sent at all.
    return ApiProblem(
        401,
        detail,
        kind="unauthorised",
        title="Unauthorised",
        headers={"WWW-Authenticate": 'Bearer realm="vault"'},
    )


@_refused_tokens
def _authenticate() -> ApiClient:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("This operation needs an API token: 'Authorization: Bearer vlt_...'.")
    checked = api_clients.check_token(db.session, vault_keys().keyring, token, now=now())
    if checked.client is None:
        # The key id (public, not the secret) lets the audit trail name refused calls of
        # a known client (vault.api.calls): a revoked or expired token still in use is
        # worth seeing.
        if checked.named is not None:
            g.api_refused_client = checked.named
        # One answer for unknown, wrong, expired and revoked tokens: nothing to probe.
        raise _unauthorised("The API token is not valid (unknown, expired or revoked).")
    return checked.client


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
