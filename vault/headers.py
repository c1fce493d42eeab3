"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request

# No inline script or style anywhere, no third-party origin: everything the pages use
# is served by the app itself, so anything injected into a page cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # The personal link's token is in the path: no Referer may carry it to another site.
    # Same-origin requests keep theirs: over HTTPS, Flask-WTF refuses a form posted
    # without a Referer naming this host (with "no-referrer" every form failed there).
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # Pages may show personal data: nothing is kept by browsers or proxies. Only the
    # app's own static files (no personal data) may be cached.
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
