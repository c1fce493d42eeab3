"""Blueprint registration and the guard that keeps an uninitialised vault from serving."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from vault.api.problems import is_api_request, problem
from vault.errors import render_error
from vault.messages import message


def _refuse_without_secrets() -> tuple[str, int] | Response | None:
    missing = current_app.extensions.get("vault.missing_secrets")
    # Health and readiness still answer (in JSON) so monitoring sees what is wrong.
    if missing and request.endpoint not in ("public.healthz", "monitoring.readyz"):
        if is_api_request():  # API clients read problem+json, never an HTML page
            return problem(503, "The vault is not set up yet.", kind="not-initialised",
                           title="Not initialised")
        return render_error(503, message("not_initialised", what=" and ".join(missing)))
    return None


def register_blueprints(app: Flask) -> None:
    from vault.admin.routes import bp as admin_bp
    from vault.apply.routes import bp as apply_bp
    from vault.auth.navigation import staff_nav
    from vault.auth.routes import bp as auth_bp
    from vault.candidate.routes import bp as candidate_bp
    from vault.monitoring.routes import bp as monitoring_bp
    from vault.nav_current import current_section
    from vault.public.routes import bp as public_bp
    from vault.recruiter.routes import bp as recruiter_bp
    from vault.renewal.routes import bp as renewal_bp

    app.before_request(_refuse_without_secrets)
    app.context_processor(lambda: {"staff_nav": staff_nav, "current_section": current_section})
    app.register_blueprint(public_bp)
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(apply_bp)
    app.register_blueprint(candidate_bp)
    app.register_blueprint(recruiter_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(renewal_bp)
    from vault import api

    # After vault.errors: the API wraps its error handlers to answer in problem+json.
    api.init_app(app)
