from __future__ import annotations

from sqlalchemy import delete

from vault.extensions import db
from vault.models import KeyringState
from vault.services.keyring_state import advance, current_state


def test_the_migration_starts_at_generation_zero_with_nothing_retired(app):
    with app.app_context():
        assert current_state(db.session) == (0, frozenset())


def test_advance_counts_up_and_lists_each_retired_version_once(app):
    with app.app_context():
        assert advance(db.session) == 1
        assert advance(db.session, retired=3) == 2
        assert advance(db.session, retired=1) == 3
        assert advance(db.session, retired=3) == 4
        db.session.commit()
    with app.app_context():
        assert current_state(db.session) == (4, frozenset({1, 3}))


def test_advance_recreates_a_missing_row(app):
    with app.app_context():
        db.session.execute(delete(KeyringState))
        db.session.commit()
        assert current_state(db.session) == (0, frozenset())
        assert advance(db.session, retired=2) == 1
        db.session.commit()
        assert current_state(db.session) == (1, frozenset({2}))
