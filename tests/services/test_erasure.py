"""The one erasure path: policy, protocol order, scrubbing, and what stays on disk."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.forensics import database_dump, find_markers, instance_bytes
from tests.services.test_candidates import MARK_CV, MARK_MAIL, MARK_NAME, get, make
from vault.appctx import vault_keys
from vault.database import scrub_deleted_bytes, sqlite_driver
from vault.extensions import db
from vault.models import (
    ApplicationStatistic,
    AuditEvent,
    Candidate,
    CandidateIndex,
    CandidateKey,
    DataRequest,
    Document,
    Education,
    ErasureRecord,
    PendingScrub,
)
from vault.services import audit, erasure, erasure_ledger
from vault.services.candidates import open_candidate
from vault.services.erasure_ledger import FileLedger


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.every_kek_backend
def test_erasure_shreds_key_data_and_tokens_and_leaves_ledger(app, clock):
    keep = make(app, clock, name="Kept Person", email="kept@example.org")
    public_id = make(app, clock)
    with app.app_context():
        wrapped = bytes(get(public_id).key.wrapped)
        ledger = Path(app.config["ERASURE_LEDGER"])
        result = erasure.erase_records(
            db.session, [get(public_id)], reason=erasure.SELF_SERVICE, now=clock(),
            ledger=FileLedger(ledger), actor=audit.CANDIDATE)
        assert (result.erased, result.held_back, result.scrub_pending) == ([public_id], [], False)
        assert get(public_id) is None
        for model in (CandidateKey, Education, Document, CandidateIndex):
            assert _count(model) == 1
        assert db.session.scalar(select(ErasureRecord.reason)) == "self-service"
        assert [e.public_id for e in erasure_ledger.read(ledger)] == [public_id]
        assert db.session.scalar(select(ApplicationStatistic.outcome)) == "withdrawn"
        assert db.session.scalar(select(AuditEvent.action).where(
            AuditEvent.subject_public_id == public_id)) == audit.CANDIDATE_ERASED
        assert _count(PendingScrub) == 0
        assert open_candidate(vault_keys(), get(keep)).full_name == "Kept Person"
    assert find_markers(app, [MARK_NAME.encode(), MARK_MAIL.encode(), MARK_CV.encode()]) == []
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            raw = b"".join(p.read_bytes() for p in Path(app.instance_path).glob("vault.db*"))
            assert wrapped not in raw


@pytest.mark.every_kek_backend
def test_erasure_needs_no_key_manager_call(app, clock, runner, kek, request):
    """Erasure destroys the wrapped key in the database: with the key manager unreachable
    (the OpenBao server hung, the PKCS#11 token pulled out) it still completes."""
    from tests.kms.backends import key_manager_down

    first, second = make(app, clock, email="a@example.org"), make(app, clock)
    with app.app_context():
        vault_keys()  # loaded before the outage, as in a running worker
    with key_manager_down(request, kek):
        with app.app_context():
            result = erasure.erase_records(
                db.session, [get(first)], reason=erasure.OPERATOR, now=clock(),
                ledger=FileLedger(Path(app.config["ERASURE_LEDGER"])), actor=audit.CLI)
            assert result.erased == [first]
        erased = runner.invoke(args=["vault", "erase", second])
        assert erased.exit_code == 0, erased.output
    with app.app_context():
        assert get(first) is None and get(second) is None
        assert _count(CandidateKey) == 0


def test_unknown_reason_or_category_erases_nothing(app, clock):
    public_id = make(app, clock)
    with app.app_context():
        for kwargs in ({"reason": "because"}, {"reason": erasure.OPERATOR, "category": "spite"}):
            with pytest.raises(erasure.ErasureError):
                erasure.erase_records(db.session, [get(public_id)], now=clock(),
                                      ledger=None, actor=audit.CLI, **kwargs)
        db.session.rollback()
        assert get(public_id) is not None and _count(ErasureRecord) == 0


def _unique_token_tails(app, public_id: str, others: list[str]) -> list[bytes]:
    """The tails of this record's search tokens that no other record's tokens contain.

    FTS5 stores terms prefix-compressed, so only a token's tail is sure to be on disk
    whole; tails shared with a live record's token would be false alarms."""
    with app.app_context():
        mine = set(get(public_id).index_row.tokens.split())
        theirs = " ".join(get(pid).index_row.tokens for pid in others)
    return [t[-5:].encode() for t in mine if t[-5:] not in theirs]


@pytest.mark.parametrize("secure_delete", [True, False], ids=["secure-delete", "optimize"])
def test_an_erased_persons_search_tokens_leave_the_database_files(app, clock, secure_delete):
    others = [make(app, clock, name=f"Other Person{i}", email=f"o{i}@example.org")
              for i in range(3)]
    public_id = make(app, clock, name="Anna Zyxwolder Plimsoll Quandary Fenwick Orrery Tamsin")
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("on PostgreSQL the tokens live in candidate_index rows only")
        if sqlite_driver().sqlite_version_info < (3, 42) and secure_delete:
            pytest.skip("FTS5 secure-delete needs SQLite 3.42")
        if not secure_delete:  # the fallback for an older SQLite: merge every segment
            db.session.execute(text("INSERT INTO candidate_search(candidate_search, rank) "
                                    "VALUES ('secure-delete', 0)"))
            db.session.commit()
            assert "not in secure-delete mode" in " ".join(erasure.problems(db.session))
    tails = _unique_token_tails(app, public_id, others)
    assert len(tails) >= 5
    with app.app_context():
        assert scrub_deleted_bytes(db.engine)
    before = database_dump(app)
    assert all(tail in before for tail in tails)  # the check below can see them

    with app.app_context():
        erasure.erase_records(db.session, [get(public_id)], reason=erasure.OPERATOR,
                              now=clock(), ledger=None, actor=audit.CLI)
    after = database_dump(app)
    assert [t for t in tails if t in after] == []


def test_erasure_returns_at_once_while_a_reader_holds_the_log(app, clock, runner):
    others = make(app, clock, name="Kept Person", email="kept@example.org")
    public_id = make(app, clock)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the write-ahead log is SQLite's")
        path = db.engine.url.database
    reader = sqlite_driver().connect(path, isolation_level=None)
    try:
        # A reader in the middle of a transaction pins the log: a TRUNCATE checkpoint
        # cannot finish until it ends. The first release waited for it, 30 s a try.
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM candidate").fetchone()
        with app.app_context():
            started = time.monotonic()
            result = erasure.erase_records(db.session, [get(public_id)],
                                           reason=erasure.OPERATOR, now=clock(),
                                           ledger=None, actor=audit.CLI)
            elapsed = time.monotonic() - started
            assert result.erased == [public_id] and result.scrub_pending
            assert _count(PendingScrub) == 1
        assert elapsed < 5  # generous: the point is that it does not wait on the reader
        check = runner.invoke(args=["vault", "check"])
        assert check.exit_code == 1
        assert re.search(r"1 erasure\(s\) not yet scrubbed", check.output)
    finally:
        reader.close()

    retention = runner.invoke(args=["vault", "retention"])
    assert retention.exit_code == 0, retention.output
    with app.app_context():
        assert _count(PendingScrub) == 0
        assert get(others) is not None
    assert runner.invoke(args=["vault", "check"]).exit_code == 0


def test_cli_erasure_of_a_held_record_keeps_it_and_queues_the_request(app, clock, runner):
    public_id = make(app, clock)
    with app.app_context():
        get(public_id).legal_hold = True
        db.session.commit()
    result = runner.invoke(args=["vault", "erase", public_id])
    assert result.exit_code == 1 and "legal hold" in result.output
    with app.app_context():
        assert get(public_id) is not None and _count(CandidateKey) == 1
        assert _count(DataRequest, DataRequest.kind == "erase",
                      DataRequest.status == "open", DataRequest.channel == "cli") == 1
    # Asking twice does not queue the same request twice.
    runner.invoke(args=["vault", "erase", public_id])
    with app.app_context():
        assert _count(DataRequest) == 1


def test_cli_erasure_takes_a_category_never_free_text(app, clock, runner):
    public_id = make(app, clock)
    refused = runner.invoke(args=["vault", "erase", public_id, "--category", "Anna's ex"])
    assert refused.exit_code == 2
    assert runner.invoke(args=["vault", "erase", public_id,
                               "--category", "unlawful"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == audit.CANDIDATE_ERASED)) == "operator category=unlawful"


def test_replay_erases_a_restored_record_even_under_a_hold(app, clock, runner):
    public_id = make(app, clock)
    ledger = Path(app.config["ERASURE_LEDGER"])
    erasure_ledger.append(ledger, [erasure_ledger.LedgerEntry(public_id, clock(), "operator")])
    with app.app_context():
        get(public_id).legal_hold = True  # as the restored copy had it, before the erasure
        db.session.commit()
    assert runner.invoke(args=["vault", "replay-erasures"]).exit_code == 0
    with app.app_context():
        assert get(public_id) is None and _count(CandidateKey) == 0


def test_only_the_erasure_service_deletes_records_or_keys():
    """Every entry point goes through services.erasure: nothing else deletes a record,
    a data key or a search-index row."""
    root = Path(__file__).resolve().parents[2] / "vault"
    pattern = re.compile(r"delete\((Candidate|CandidateKey|CandidateIndex)\)"
                         r"|session\.delete\((candidate|record|c|r)\)")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "erasure.py" and pattern.search(p.read_text())]
    assert offenders == []


def test_an_erased_applicant_leaves_no_marker_or_search_token_in_any_file(app, client):
    """The whole journey, read as an attacker with the disk would: every file under the
    instance folder (database, its write-ahead log, ledger, anchors, delivered mail)."""
    from tests.journey import MARK_CV as CV_MARK
    from tests.journey import MARK_EMAIL as EMAIL_MARK
    from tests.journey import MARK_NAME as NAME_MARK
    from tests.journey import apply, link_in, outbox

    apply(client, email="someone.else@example.org", full_name="Someone Else")
    apply(client)
    mails = [m for m in outbox(app) if m["To"] == EMAIL_MARK]
    assert mails  # delivered: the outbox holds the address and the link in plaintext
    link = link_in(mails[-1])
    with app.app_context():
        records = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        mine, theirs = records[1].public_id, records[0].public_id
    tails = _unique_token_tails(app, mine, [theirs])
    markers = [NAME_MARK.encode(), EMAIL_MARK.encode(), CV_MARK.encode()]
    assert find_markers(app, markers) and tails

    assert client.post(f"{link}/erase").status_code == 200
    assert find_markers(app, markers) == []
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:  # on PostgreSQL the server's files are not ours to read
        files = {"database": database_dump(app)} | {
            name: data for name, data in instance_bytes(app).items()}
        assert [(t, name) for t in tails for name, data in files.items() if t in data] == []
