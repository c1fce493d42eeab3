"""A second app over the same database and keyring: another worker process, as gunicorn
runs several on every host."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from tests.conftest import _make_app
from vault.extensions import db


@contextmanager
def another_worker(app: Flask, **overrides: Any) -> Iterator[Flask]:
    """An app object of its own (its own keyring in memory, its own engine) beside `app`."""
    from tests.kms.backends import kek_settings_of

    config = {"CLOCK": app.config["CLOCK"], **kek_settings_of(app), **overrides}
    worker = _make_app(Path(app.instance_path), app.config["DATABASE_URL"], config)
    try:
        yield worker
    finally:
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()
