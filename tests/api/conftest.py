"""API clients made through the real service, and their tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import pytest
from flask import Flask

from vault.extensions import db
from vault.services import api_clients, audit
from vault.services.api_clients import SCOPES


@pytest.fixture
def make_client(app: Flask) -> Callable[..., tuple[int, str]]:
    def make(
        scopes: Iterable[str] = SCOPES,
        company: str = "Ingenium",
        expires_at: datetime | None = None,
        name: str = "Board",
    ) -> tuple[int, str]:
        from vault.appctx import vault_keys

        with app.app_context():
            client, token = api_clients.create_client(
                db.session,
                vault_keys().keyring,
                name=name,
                company=company,
                scopes=list(scopes),
                expires_at=expires_at,
                created_by=None,
                companies=app.config["COMPANIES"],
                now=app.config["CLOCK"](),
                actor=audit.CLI,
            )
            db.session.commit()
            return client.id, token

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
