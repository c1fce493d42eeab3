from __future__ import annotations

from sqlalchemy import select

from tests.services.test_candidates import get, make
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import DataRequest
from vault.services import requests
from vault.services.sealing import record_sealer


def test_request_details_open_under_their_own_request(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        sealer = record_sealer(vault_keys(), get(public_id))
        request = requests.log_request(db.session, public_id, "access", channel="email",
                                       now=clock(), due_days=28, details="Asked by phone",
                                       sealer=sealer)
        db.session.commit()
        assert b"phone" not in request.details
        assert requests.open_details(sealer, db.session.get(DataRequest, request.id)) \
            == "Asked by phone"
    result = app.test_cli_runner().invoke(args=["vault", "check"])
    assert result.exit_code == 0, result.output


def test_details_sealed_before_the_request_had_its_uid_are_resealed_once(app, clock):
    """Earlier code sealed details with no uid in their associated data (the uid came at
    flush): they opened under no row. Re-sealing binds them to their own request."""
    public_id = make(app, clock)
    with app.app_context():
        sealer = record_sealer(vault_keys(), get(public_id))
        request = requests.log_request(db.session, public_id, "object", channel="email",
                                       now=clock(), due_days=28)
        request.details = sealer.seal("data_request", "details", "Objects to the pool")
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["vault", "check"]).exit_code == 1

    with app.app_context():
        assert requests.reseal_unbound_details(db.session, vault_keys()) == 1
        db.session.commit()
        assert requests.reseal_unbound_details(db.session, vault_keys()) == 0
        stored = db.session.scalar(select(DataRequest))
        assert requests.open_details(sealer, stored) == "Objects to the pool"
    result = app.test_cli_runner().invoke(args=["vault", "check"])
    assert result.exit_code == 0, result.output
