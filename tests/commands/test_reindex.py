"""`vault reindex`: records indexed before prefix tokens are brought up to date."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.services.test_candidates import MARK_CV, get, make
from vault.appctx import vault_keys
from vault.crypto.blind_index import is_prefix_token
from vault.extensions import db
from vault.models import AuditEvent, CandidateIndex, User
from vault.services import audit
from vault.services.indexing import INDEX_VERSION
from vault.services.search import search


def _as_before_prefix_tokens(app, public_id: str) -> None:
    """The record as the release before prefix tokens left it: word tokens only, and
    the analysis the migration gives existing rows."""
    with app.app_context():
        record = get(public_id)
        words_only = " ".join(t for t in record.index_row.tokens.split()
                              if not is_prefix_token(t))
        db.session.execute(update(CandidateIndex).where(
            CandidateIndex.candidate_id == record.id).values(tokens=words_only, analysis=1))
        db.session.commit()


def _found(app, clock, q: str) -> set[str]:
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.role == "admin"))
        if officer is None:
            officer = User(email="o@x", password_hash="-", role="admin", company="Ingenium")
            db.session.add(officer)
            db.session.commit()
        return {hit.public_id for hit in search(db.session, vault_keys(), officer, q=q,
                                                now=clock()).results}


def test_reindex_gives_older_records_their_prefix_tokens_and_check_names_them_until_then(
        app, runner, clock):
    old = make(app, clock)
    current = make(app, clock, name="Bert Current", email="bert@example.org")
    _as_before_prefix_tokens(app, old)
    with app.app_context():
        untouched = get(current).index_row.tokens
    prefix = MARK_CV.lower()[:6]
    # The other record is found by the prefix, the older one only by the whole word.
    assert _found(app, clock, MARK_CV) == {old, current}
    assert _found(app, clock, prefix) == {current}

    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 1
    assert ("1 record(s) have search tokens from an older analysis (before prefix "
            "tokens)") in result.output and "vault reindex --outdated" in result.output

    result = runner.invoke(args=["vault", "reindex", "--outdated"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt the search tokens of 1 record(s)." in result.output
    with app.app_context():
        assert get(old).index_row.analysis == INDEX_VERSION
        assert any(is_prefix_token(t) for t in get(old).index_row.tokens.split())
        assert get(current).index_row.tokens == untouched
        assert db.session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == audit.INDEX_REBUILT)) == "records=1 new_key=False outdated=True"
    assert _found(app, clock, prefix) == {old, current}
    result = runner.invoke(args=["vault", "check"])
    assert result.exit_code == 0, result.output

    # Nothing left to do: a second run rebuilds nothing.
    result = runner.invoke(args=["vault", "reindex", "--outdated"])
    assert "Rebuilt the search tokens of 0 record(s)." in result.output


def test_a_plain_reindex_also_brings_older_records_up_to_date(app, runner, clock):
    old = make(app, clock)
    _as_before_prefix_tokens(app, old)
    assert runner.invoke(args=["vault", "reindex"]).exit_code == 0
    with app.app_context():
        assert get(old).index_row.analysis == INDEX_VERSION
    assert _found(app, clock, MARK_CV.lower()[:6]) == {old}


def test_outdated_and_a_new_index_key_do_not_go_together(app, runner):
    result = runner.invoke(args=["vault", "reindex", "--outdated", "--new-index-key"])
    assert result.exit_code == 2
    assert "leave out --outdated" in result.output
