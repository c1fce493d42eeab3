"""The per-request cache of opened data keys: a DEK lives in memory only while used."""

from __future__ import annotations

import contextvars

from tests.services.test_candidates import get, sample_input
from vault import keys as vault_keys_module
from vault.appctx import vault_keys
from vault.crypto import WrappedKey
from vault.extensions import db
from vault.keys import begin_request, end_request, opened_keys
from vault.services import audit, erasure
from vault.services.candidates import create_candidate, open_candidate


def _record(app, clock) -> str:
    with app.app_context():
        public_id = create_candidate(db.session, vault_keys(), sample_input(name="Ada Lens"),
                                     now=clock()).public_id
        db.session.commit()
    return public_id


def _items(public_id: str) -> list[tuple[WrappedKey, str]]:
    record = get(public_id)
    return [(WrappedKey(record.key.kek_version, record.key.wrapped), public_id)]


def test_a_request_ended_in_another_context_leaves_no_data_key_in_the_one_it_began_in(
    app, clock
):
    public_id = _record(app, clock)
    with app.app_context():
        keys = vault_keys()
        began_in = contextvars.copy_context()
        started = began_in.run(begin_request)
        began_in.run(keys.unwrap_many, _items(public_id))
        assert began_in.run(vault_keys_module._OPENED.get)  # the key is cached there
        end_request(started)  # the teardown runs elsewhere (a streamed response)
        assert not began_in.run(vault_keys_module._OPENED.get)


def test_an_erased_persons_opened_data_key_leaves_the_request_cache_at_erasure(app, clock):
    keep = _record(app, clock)
    public_id = _record(app, clock)
    with app.app_context():
        keys = vault_keys()
        with opened_keys():
            for pid in (keep, public_id):
                open_candidate(keys, get(pid))
            erasure.erase_records(db.session, [get(public_id)], reason=erasure.SELF_SERVICE,
                                  now=clock(), ledger=None, actor=audit.CANDIDATE)
            cached = vault_keys_module._OPENED.get()
            assert cached is not None
            assert {name[2] for name in cached} == {keep}
