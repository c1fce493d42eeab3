"""/api/v1: the API for job boards and HR systems (bearer tokens, OpenAPI 3.1).

Built with flask-smorest rather than APIFlask: flask-smorest attaches to the Flask app
that create_app already builds (an extension with init_app, like every other one here),
while APIFlask wants the application to be its own APIFlask class, which would change
the whole web app for the sake of one blueprint. flask-smorest's marshmallow schemas
also produce the OpenAPI document from the same code that validates requests.

The OpenAPI document is served at /api/v1/openapi.json; /api/v1/docs renders it as a
page on the server (no script, nothing from another site, so the app's CSP holds).
Modules adding operations to the blueprint are listed in MODULES.
"""

from __future__ import annotations

from http import HTTPStatus
from importlib import import_module
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from vault.api import calls, docs, problems  # noqa: F401 - calls registers the audit hook
from vault.api.auth import SECURITY_SCHEME
from vault.api.blueprint import bp
from vault.api.schemas import ProblemSchema

MODULES: tuple[str, ...] = (
    "vault.api.vacancies",
    "vault.api.applications",
    "vault.api.candidates",
    "vault.api.erasures",
)


class VaultApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        # flask-smorest would answer every HTTP error of the whole app in JSON; the web
        # pages keep theirs, and /api/v1 answers in problem+json (vault.api.problems).
        return None

    def _register_responses(self) -> None:
        # The documented error responses say what is sent: application/problem+json.
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not 100 <= status < 200 and status not in (204, 304):
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, problems.PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default: dict[str, Any] = {
            "description": "An error (RFC 9457 problem details)",
            "schema": ProblemSchema,
        }
        prepare_response(default, self.spec, problems.PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def init_app(app: Flask) -> None:
    config = app.config
    config.setdefault("API_TITLE", "Recruitment-data vault API")
    config.setdefault("API_VERSION", "v1")
    config.setdefault("OPENAPI_VERSION", "3.1.0")
    config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    for module in MODULES:
        import_module(module)
    api = VaultApi(app)
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "vlt_<key id>_<secret>, given once by the privacy officer.",
        },
    )
    api.register_blueprint(bp)
    app.extensions["vault.api"] = api
    from vault.extensions import csrf

    # Bearer-token calls carry no cookie, so there is no ambient authority for another
    # site to borrow: the CSRF token and the Origin check (vault/csrf.py) protect cookie
    # sessions, and API clients (servers, not browsers) send neither. Exempt for /api/v1
    # only; every other POST of the app keeps both checks.
    csrf.exempt(bp)
    docs.init_app(app)
    problems.init_app(app)
