"""CSRF: Flask-WTF's token check, plus an origin check that works with what browsers send.

Flask-WTF's own second check (WTF_CSRF_SSL_STRICT) demands a Referer naming the
request's Host over HTTPS. That fails twice here: privacy settings strip the Referer,
and behind a reverse proxy the Host is the proxy's upstream name, not the public one.
It is turned off in vault/config.py and replaced by `origin_refusal` below (run by
`OriginCheckedCSRF`), which reads the headers a browser sets itself (Origin, Referer,
Sec-Fetch-Site) and compares them with the configured public origin(s), never with
anything the request says about its own host.

The token stays the primary defence; the origin check is the second, independent one
(OWASP: verify the source origin, and Fetch Metadata).

The API under /api/v1 is exempt from both (vault/api/__init__.py exempts its blueprint,
and only it): its calls authenticate with a bearer token in a header and carry no
cookie, so another site has no ambient credential of the caller to abuse, and its
clients are servers that send neither a form token nor an Origin.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFError, CSRFProtect

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
# Sec-Fetch-Site values that no other site can cause: the page itself, or the user
# (address bar, bookmark). "same-site" is refused: a sibling subdomain is another origin.
TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})


class _Headers(Protocol):
    def get(self, key: str) -> str | None: ...


class CrossOriginRequest(CSRFError):
    """The browser says the form was sent from another origin (or cannot vouch for it)."""

    code = 403
    description = "The request did not come from this site."


def origin_of(url: str | None) -> str | None:
    """The serialised origin (scheme://host[:port]) of a URL, as browsers write it in the
    Origin header: lower case, default port left out. None when it has none."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    suffix = f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


def _listed(value: Any) -> list[str]:
    # VAULT_TRUSTED_ORIGINS may be a JSON list or, as people write it, "a, b" or "a".
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    return [str(v) for v in value or []]


def trusted_origins(config: Mapping[str, Any]) -> frozenset[str]:
    """The origins whose pages may post forms: PUBLIC_BASE_URL's, and TRUSTED_ORIGINS
    (for example a separate staff host). Taken from configuration only: the Host and
    X-Forwarded-Host headers are the client's to write."""
    urls = [config.get("PUBLIC_BASE_URL"), *_listed(config.get("TRUSTED_ORIGINS"))]
    return frozenset(o for o in (origin_of(u) for u in urls) if o)


def origin_config_problems(config: Mapping[str, Any]) -> list[str]:
    """Settings under which every form would be refused: said at start-up, because the
    symptom (403 on every form) does not name its cause."""
    problems = []
    public = origin_of(config.get("PUBLIC_BASE_URL"))
    if public is None:
        problems.append("PUBLIC_BASE_URL is not an http(s) address")
    elif config.get("HTTPS") and not public.startswith("https://"):
        problems.append(f"HTTPS is on but PUBLIC_BASE_URL's origin is {public}: browsers "
                        "will post forms from an https:// page, and they will be refused")
    for url in _listed(config.get("TRUSTED_ORIGINS")):
        if origin_of(url) is None:
            problems.append(f"TRUSTED_ORIGINS entry {url[:100]!r} is not an http(s) origin")
    return problems


def origin_refusal(headers: _Headers, trusted: frozenset[str]) -> str | None:
    """Why a state-changing browser request must be refused, or None if its origin holds.

    Decision, in order (each line says why):
    1. Sec-Fetch-Site other than same-origin/none: the browser itself says another site
       (or a sibling subdomain) sent it. Pages cannot forge this header.
    2. Origin present: it must be one of ours. "null" is what browsers send when a
       no-referrer policy applies (or from a sandboxed frame, file:// or data: page);
       it is accepted only when Sec-Fetch-Site vouches "same-origin" (a proxy that adds
       `Referrer-Policy: no-referrer` then still lets our own forms through).
    3. No Origin (browsers before 2020, or an extension stripped it): the Referer, when
       present, must be one of ours (Django's rule).
    4. Neither Origin nor Referer: accepted only when Sec-Fetch-Site says "same-origin".
       Every browser in use since 2020 sends Origin on a POST, and with our
       `Referrer-Policy: same-origin` also a Referer, so a request with none of the
       three is either not a browser (and carries no victim's cookie) or one whose
       extension stripped everything; we refuse it with a page explaining why rather
       than accept a request nothing vouches for (OWASP's advice, Django's behaviour).
       The token still protects such a request, but two checks are better than one.
    """
    get = headers.get
    fetch_site = (get("Sec-Fetch-Site") or "").strip().lower() or None
    if fetch_site is not None and fetch_site not in TRUSTED_FETCH_SITES:
        return f"Sec-Fetch-Site is {fetch_site[:20]!r}"
    origin = get("Origin")
    if origin is not None:
        if origin.strip() == "null":
            return None if fetch_site == "same-origin" else "Origin is null"
        if origin_of(origin) in trusted:
            return None
        return f"Origin {origin[:100]!r} is not a trusted origin"
    referrer = get("Referer")
    if referrer:
        if origin_of(referrer) in trusted:
            return None
        return "Referer is not from a trusted origin"
    if fetch_site == "same-origin":
        return None
    return "no Origin, Referer or Sec-Fetch-Site"


def local_referrer() -> str | None:
    """The path (and query) of the page a form was sent from, when the browser named it
    and it is one of ours; for a link back to that page. None otherwise."""
    referrer = request.referrer
    if not referrer or origin_of(referrer) not in trusted_origins(current_app.config):
        return None
    parts = urlsplit(referrer)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    # "//host" would be another site to a browser: only a plain local path is returned.
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return None
    return path


class OriginCheckedCSRF(CSRFProtect):
    """CSRFProtect whose protect() also checks the origin over HTTPS, before the token so
    that a cross-site post is told it came from elsewhere, not that it expired."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        for problem in origin_config_problems(app.config):
            log.warning("form origin check: %s", problem)

    def protect(self, apply_exemptions: bool = False) -> None:
        if self._origin_check_applies(apply_exemptions):
            reason = origin_refusal(request.headers, trusted_origins(current_app.config))
            if reason is not None:
                # The endpoint, not the path (a personal link's token is in the path); the
                # reason quotes headers, never form data. It tells an operator whose
                # PUBLIC_BASE_URL does not match the address people use what is wrong.
                log.warning("refused a %s to %s: %s", request.method, request.endpoint, reason)
                raise CrossOriginRequest(reason)
        super().protect(apply_exemptions)

    def _origin_check_applies(self, apply_exemptions: bool) -> bool:
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return False
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return False
        # Over HTTPS only, like Flask-WTF's strict check: on plain http (the local demo
        # of 'make run', reached as localhost or 127.0.0.1 alike) browsers send no
        # Fetch Metadata and an on-path attacker could rewrite anything anyway. HTTPS in
        # the configuration counts too, so a proxy that forgets X-Forwarded-Proto does
        # not switch the check off.
        return bool(request.is_secure or current_app.config.get("HTTPS"))
