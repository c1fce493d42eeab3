"""The recruitment-data vault: create_app builds the Flask application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault.config import DEFAULTS

if TYPE_CHECKING:
    from flask import Flask

# Flask and click are imported where the app is built, not with the package: the upload
# sandbox (python -m vault.sandbox, a zygote per worker or a process per upload) imports
# this package too, and must start fast.

REPO_ROOT = Path(__file__).resolve().parent.parent


class SetupRequired(RuntimeError):
    """Secrets are missing; the message says to run 'vault init'."""


def create_app(test_config: dict[str, Any] | None = None, *,
               instance_path: str | None = None) -> Flask:
    from flask import Flask

    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("VAULT_INSTANCE_PATH")
        or str(REPO_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(REPO_ROOT / "templates"),
        static_folder=str(REPO_ROOT / "static"),
    )
    from vault.upload_stream import VaultRequest

    app.request_class = VaultRequest
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("VAULT")
    else:
        app.config.from_mapping(test_config)
    _resolve_paths(app)
    _load_secrets(app)

    from vault import (
        appctx,
        cli,
        database,
        errors,
        headers,
        i18n,
        logging_setup,
        monitoring,
        web,
    )
    from vault.auth import sessions
    from vault.extensions import csrf, db, limiter, login_manager, migrate

    logging_setup.init_app(app)
    monitoring.init_app(app)
    monitoring.register_mail_backlog(app, monitoring.mail_queue_backlog)
    database.init_app(app)
    appctx.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    sessions.init_app(app)
    headers.init_app(app)
    i18n.init_app(app)
    if app.config["PROXY_HOPS"]:
        # Behind a reverse proxy the client's address is in X-Forwarded-For; trusting
        # exactly as many hops as there are proxies keeps clients from forging it (rate
        # limits and login throttling are per client address).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    errors.init_app(app)
    web.register_blueprints(app)
    cli.init_app(app)
    return app


def _resolve_paths(app: Flask) -> None:
    instance = Path(app.instance_path)
    config = app.config
    config["SQLALCHEMY_DATABASE_URI"] = _database_url(config["DATABASE_URL"], instance)
    from vault.database import engine_options

    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(
        config["SQLALCHEMY_DATABASE_URI"]))
    config["KEYRING_FILE"] = str(config["KEYRING_FILE"] or instance / "keyring")
    config["TRANSIT_ROOTS_FILE"] = str(config["TRANSIT_ROOTS_FILE"] or
                                       instance / "keyring.transit")
    config["PKCS11_ROOTS_FILE"] = str(config["PKCS11_ROOTS_FILE"] or
                                      instance / "keyring.pkcs11")
    config["SECRET_KEY_FILE"] = str(config["SECRET_KEY_FILE"] or instance / "secret_key")
    config["ERASURE_LEDGER"] = str(config["ERASURE_LEDGER"] or instance / "erasure-ledger.jsonl")
    config["AUDIT_ANCHOR"] = str(config["AUDIT_ANCHOR"] or instance / "audit-anchor.jsonl")
    config.setdefault("MAIL_OUTBOX", str(instance / "outbox"))
    config["SESSION_COOKIE_SECURE"] = bool(config["HTTPS"])
    config["REMEMBER_COOKIE_SECURE"] = bool(config["HTTPS"])
    config["PREFERRED_URL_SCHEME"] = "https" if config["HTTPS"] else "http"


def _database_url(url: str | None, instance: Path) -> str:
    from vault.database import database_url

    return database_url(url) if url else f"sqlite:///{instance / 'vault.db'}"


def _load_secrets(app: Flask) -> None:
    """No secret has a default. Without them the app refuses to serve.

    The command line may still load the app without them, because 'vault init' (which
    creates them) is a command of this app; every other command checks for them.
    """
    from vault.crypto import KeyringError
    from vault.messages import message

    config = app.config
    if not config.get("SECRET_KEY"):
        key_file = Path(config["SECRET_KEY_FILE"])
        if key_file.exists():
            config["SECRET_KEY"] = key_file.read_text().strip()
    missing: list[str] = []
    if not config.get("SECRET_KEY"):
        missing.append("secret key")
    from vault.crypto.kek_backend import KeyManagerUnavailable
    from vault.kek_settings import down_seconds, load_keys
    from vault.keys import PendingKeys

    try:
        app.extensions["vault.keys"] = load_keys(config)
    except KeyringError as exc:
        missing.append(f"usable keyring ({exc})")
    except KeyManagerUnavailable as exc:
        # Start anyway: a key manager that is down for a while must not keep every worker
        # from starting (nor a restart loop hammer it). Pages that need keys answer 503
        # and /readyz fails until it answers; then the keys load without a restart.
        import logging

        logging.getLogger(__name__).warning("starting without keys: %s", exc)
        app.extensions["vault.keys"] = PendingKeys(lambda: load_keys(config), str(exc),
                                                   down_seconds(config))
    app.extensions["vault.missing_secrets"] = missing
    import click

    if missing and click.get_current_context(silent=True) is None:
        raise SetupRequired(message("not_initialised", what=" and ".join(missing)))
