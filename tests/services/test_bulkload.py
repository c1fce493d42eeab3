"""The bulk path (services.bulkload) writes what the one-by-one path writes.

The same JSON Lines go in once through import_jsonl (create_candidate, record_consent,
audit.record, one record at a time) and once through import_jsonl_stream (COPY or
executemany, batches sealed in worker processes); every record must then read back
the same: its fields, CV, search card and tokens, consent ledger, audit event, export,
and the searches that find it.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text

from tests.databases import counted_candidates
from tests.services.test_exports import CV_BYTES
from vault.appctx import secret_keys, vault_keys
from vault.extensions import db
from vault.models import AuditEvent, Candidate, Consent, EmailChange, MailMessage, User
from vault.privacy import NOTICE_VERSION
from vault.services import audit, bulkload, exports, identity, imports, mail_queue, notifications
from vault.services.candidates import open_candidate, open_document
from vault.services.imports import import_jsonl, import_jsonl_stream
from vault.services.indexing import TokenMemo, open_card
from vault.services.sealing import record_sealer
from vault.services.search import search

POOL_MONTHS = 24


def records(clock) -> list[dict[str, Any]]:
    now = clock()
    moment = (now - timedelta(days=40)).isoformat()
    later = (now + timedelta(days=300)).isoformat()
    far = (now + timedelta(days=3000)).isoformat()
    cv = base64.b64encode(CV_BYTES).decode()
    return [
        {
            "contact": {
                "full_name": "Jan Peeters",
                "email": "jan.peeters@example.org",
                "phone": "+32 9 123 45 67",
            },
            "position": "Backend developer",
            "personal": {"age": "41", "gender": "male"},
            "interests": "chess, Go",
            "companies": ["Ingenium"],
            "education": [
                {
                    "degree": "Master of Science",
                    "field": "Informatics",
                    "institution": "KU Leuven",
                    "year": "2006",
                },
                {"degree": "Bachelor", "field": "Physics", "institution": "UGent"},
            ],
            "documents": [{"filename": "jan-cv.pdf", "content": cv}],
            "consents": [
                {
                    "purpose": "application",
                    "event": "granted",
                    "at": moment,
                    "notice_version": "2025-01",
                    "source": "apply",
                },
                {
                    "purpose": "talent_pool",
                    "event": "granted",
                    "at": moment,
                    "notice_version": "2025-01",
                    "source": "apply",
                    "expires_at": later,
                },
            ],
        },
        # Only talent_pool_until, and longer than this vault's pool period: capped.
        {
            "contact": {"full_name": "Sofie Maes", "email": "sofie@example.org"},
            "position": "Data engineer",
            "personal": {"age": 29},
            "talent_pool_until": far,
        },
        # Nothing but a name and an address: an import consent event is added.
        {"contact": {"full_name": "Wout Claes", "email": "wout@example.org"}},
        # A pool consent that was withdrawn stays withdrawn.
        {
            "contact": {"full_name": "Lotte Dubois", "email": "lotte@example.org"},
            "interests": "sailing, Kafka",
            "companies": ["Hoptimize", "Ingenium"],
            "consents": [
                {
                    "purpose": "talent_pool",
                    "event": "granted",
                    "at": moment,
                    "notice_version": "2025-01",
                    "expires_at": later,
                },
                {
                    "purpose": "talent_pool",
                    "event": "withdrawn",
                    "at": moment,
                    "notice_version": "2025-01",
                },
            ],
        },
    ]


def jsonl(items: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


def options(clock) -> dict[str, Any]:
    return {"now": clock(), "pool_months": POOL_MONTHS, "notice_version": NOTICE_VERSION}


def planned_lines(data: bytes, clock) -> list[bulkload.PlannedRecord]:
    """What import_jsonl_stream's workers plan for each line, before build_batch."""
    return [imports.plan_import(imports.parse_line(line, now=clock(), pool_months=POOL_MONTHS),
                                now=clock(), notice_version=NOTICE_VERSION)
            for line in data.splitlines()]


def one_at_a_time(keys, planned: list[bulkload.PlannedRecord], clock,
                  meanwhile: Callable[[Connection], None]) -> Iterator[list[Any]]:
    """Each planned record built as a batch of its own, with `meanwhile` run on another
    connection after each (another writer of the vault, while the run loads)."""
    for item in planned:
        yield bulkload.build_batch(keys, [item], now=clock(), memo=TokenMemo())
        with db.engine.connect() as other:
            meanwhile(other)


def readable(record: Candidate) -> dict[str, Any]:
    """Everything that can be read of a record, but its own id, key and upload time."""
    keys = vault_keys()
    opened = open_candidate(keys, record)
    fields = {k: v for k, v in vars(opened).items() if k not in ("public_id", "documents")}
    fields["education"] = [
        {k: v for k, v in vars(e).items() if k != "uid"} for e in opened.education
    ]
    documents = [(*open_document(keys, record, d), d.kind, d.has_text) for d in record.documents]
    card = open_card(record_sealer(keys, record), record.index_row.card)
    export = exports.build_export(db.session, keys, [record], now=record.created_at)
    for item in export["records"]:
        item.pop("public_id")
        for document in item["documents"]:
            document.pop("zip_path"), document.pop("uploaded_at")
    created = db.session.execute(
        select(
            AuditEvent.action, AuditEvent.detail, AuditEvent.actor_type, AuditEvent.created_at
        ).where(AuditEvent.subject_public_id == record.public_id)
    ).all()
    return {
        "fields": fields,
        "documents": documents,
        "index": (record.index_row.tokens, record.index_row.analysis, card, card.terms),
        "consents": [
            (c.purpose, c.event, c.notice_version, c.source, c.created_at, c.expires_at)
            for c in record.consents
        ],
        # Not updated_at: on the one-by-one path it is the wall clock of the flush that
        # followed the consents (Candidate.updated_at's onupdate), not the run's clock.
        "record": (
            record.source,
            record.status,
            record.created_at,
            record.email_index,
            record.email_confirmed_at,
            record.pool_consent_until,
            record.companies,
            record.language,
            record.legal_hold,
            record.link_generation,
            record.key.kek_version,
        ),
        "audit": created,
        "export": export,
    }


@pytest.mark.parametrize("workers", [0, 2])
def test_bulk_import_reads_back_exactly_as_the_one_by_one_import(app, clock, make_user, workers):
    data = jsonl(records(clock))
    officer = make_user(role="admin", company="Ingenium")
    with app.app_context():
        keys = vault_keys()
        one = import_jsonl(db.session, keys, data.splitlines(), **options(clock))
        db.session.commit()
        bulk = import_jsonl_stream(
            db.session, keys, io.BytesIO(data), workers=workers, **options(clock)
        )
        db.session.commit()
        assert (one.imported, bulk.imported, one.rejected, bulk.rejected) == (4, 4, [], [])
        everything = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        by_one, by_bulk = everything[:4], everything[4:]
        assert [r.public_id for r in by_one] == one.public_ids
        for a, b in zip(by_one, by_bulk, strict=True):
            assert a.public_id != b.public_id and a.key.wrapped != b.key.wrapped
            assert readable(a) == readable(b)
        # The trail is one unbroken chain through both runs.
        state = audit.walk_chain(db.session)
        assert state.broken_at is None and state.events >= 8
        # Search finds each person twice (once per path), with the same result line.
        user = db.session.get(User, officer)
        for query in ("Kafka", "Peeters", "Backend developer", "chess", "Maes"):
            page = search(db.session, keys, user, q=query, now=clock())
            lines = sorted((h.full_name, h.position, str(h.excerpt)) for h in page.results)
            assert lines and lines[::2] == lines[1::2], query


def _asked(record: Candidate) -> dict[str, Any]:
    """What a record's request to confirm its address left: its pending change, its
    queued mail (the link's token aside) and its audit events, all opened."""
    sealer = record_sealer(vault_keys(), record)
    (change,) = record.email_changes
    (mail,) = db.session.scalars(select(MailMessage).where(
        MailMessage.candidate_id == record.id)).all()
    body = sealer.open(mail_queue.TABLE, "body", mail.body, mail.uid)
    token = re.search(r"/my-data/confirm-email/(\S+)", body)
    assert token is not None, "no confirmation link in the mail"
    events = db.session.execute(select(AuditEvent.action, AuditEvent.detail,
                                       AuditEvent.actor_type, AuditEvent.created_at).where(
        AuditEvent.subject_public_id == record.public_id).order_by(AuditEvent.id)).all()
    return {
        "change": (sealer.open("email_change", "new_email", change.new_email, change.uid),
                   change.requested_by, change.requested_at, change.expires_at),
        "mail": (mail.kind, mail.status, mail.attempts, mail.created_at,
                 mail.next_attempt_at, mail.html_body, mail.sender_name,
                 sealer.open(mail_queue.TABLE, "recipient", mail.recipient, mail.uid),
                 sealer.open(mail_queue.TABLE, "subject", mail.subject, mail.uid),
                 body.replace(token.group(1), "TOKEN")),
        "events": events,
        "token": token.group(1),
    }


@pytest.mark.parametrize("workers", [0, 2])
def test_bulk_import_asks_each_record_to_confirm_as_the_one_by_one_path(app, clock, workers):
    """The bulk path asks for confirmations in the run itself (bulkload.Confirmations):
    the same change, mail and audit events as identity.ask_to_confirm and
    notifications.queue_import_confirmations leave, and each link confirms its record."""
    data = jsonl(records(clock))
    with app.app_context():
        keys = vault_keys()
        one = import_jsonl(db.session, keys, data.splitlines(), **options(clock))
        by_one = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        tickets = identity.ask_to_confirm(
            db.session, keys, by_one, now=clock(),
            lifetime_hours=app.config["EMAIL_CHANGE_MAX_AGE_HOURS"], secret_keys=secret_keys(),
            requested_by=identity.IMPORT, actor=audit.CLI)
        assert notifications.queue_import_confirmations(db.session, keys, tickets) == 4
        db.session.commit()
        bulk = import_jsonl_stream(
            db.session, keys, io.BytesIO(data), workers=workers,
            confirmations=notifications.import_confirmations(clock()),
            secret_keys=secret_keys(), **options(clock))
        db.session.commit()
        assert (one.imported, bulk.imported, bulk.queued) == (4, 4, 4)
        by_bulk = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()[4:]
        for a, b in zip(by_one, by_bulk, strict=True):
            expected, got = _asked(a), _asked(b)
            assert expected.pop("token") != got.pop("token")
            assert got == expected
        state = audit.walk_chain(db.session)
        assert state.broken_at is None and state.events == 16
        # Each mailed link confirms its own record, and only it.
        for record in by_bulk:
            confirmed = identity.confirm_email_change(
                db.session, keys, _asked(record)["token"], secret_keys=secret_keys(),
                now=clock(), max_age_hours=app.config["EMAIL_CHANGE_MAX_AGE_HOURS"])
            db.session.commit()
            assert record in confirmed.records
            assert record.email_confirmed_at is not None


def test_a_rejected_bulk_import_queues_no_confirmation(app, clock):
    lines = jsonl(records(clock)) + b"[1, 2]\n"
    with app.app_context():
        report = import_jsonl_stream(
            db.session, vault_keys(), io.BytesIO(lines), workers=0,
            confirmations=notifications.import_confirmations(clock()),
            secret_keys=secret_keys(), **options(clock))
        db.session.rollback()
        assert (report.imported, report.queued) == (0, 0)
        for model in (Candidate, EmailChange, MailMessage):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_a_memo_started_afresh_between_batches_changes_no_row(app, clock, monkeypatch):
    """A worker's memo is replaced once it holds MEMO_ENTRIES (memory flat with the
    vocabulary): records built after that read back as the one-by-one path's."""
    monkeypatch.setattr(bulkload, "MEMO_ENTRIES", 1)
    monkeypatch.setattr(imports, "LINES_PER_BATCH", 1)
    data = jsonl(records(clock))
    with app.app_context():
        keys = vault_keys()
        import_jsonl(db.session, keys, data.splitlines(), **options(clock))
        db.session.commit()
        report = import_jsonl_stream(db.session, keys, io.BytesIO(data), workers=0,
                                     **options(clock))
        db.session.commit()
        assert report.imported == 4
        everything = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        for a, b in zip(everything[:4], everything[4:], strict=True):
            assert readable(a) == readable(b)


def test_bulk_loaded_token_arrays_equal_what_the_database_computes(app, backend, clock):
    if backend == "sqlite":
        pytest.skip("FTS5 there, no token array")
    data = jsonl(records(clock))
    with app.app_context():
        keys = vault_keys()
        # The import has its workers make the arrays (token_arrays)...
        import_jsonl_stream(db.session, keys, io.BytesIO(data), workers=0,
                            **options(clock))
        # ...a batch built without them has the writer make them.
        planned = planned_lines(data, clock)
        built = bulkload.build_batch(keys, planned, now=clock(), memo=TokenMemo())
        assert all(record.token_array is None for record in built)
        bulkload.load(db.session, keys, [built], now=clock())
        db.session.commit()
        # The loader sends token_ids itself (migration 0016 keeps a given array): it
        # must be exactly the array the trigger's function makes of the same tokens.
        rows = db.session.execute(text(
            "SELECT token_ids, candidate_token_ids(tokens) FROM candidate_index")).all()
        assert len(rows) == 8
        assert all(given and given == computed for given, computed in rows)


def test_a_large_load_has_the_planner_statistics_read_and_a_small_one_not(
        app, backend, clock, monkeypatch):
    data = jsonl(records(clock))
    with app.app_context():
        import_jsonl_stream(db.session, vault_keys(), io.BytesIO(data), workers=0,
                            **options(clock))
        db.session.commit()
        if backend == "sqlite":
            assert bulkload.analyze_after_load(db.session, 4) is False
            return
        loaded = db.session.scalar(select(func.count()).select_from(Candidate))
        assert counted_candidates(db.session) <= 0  # the load alone leaves them unread
        assert bulkload.analyze_after_load(db.session, loaded) is True
        assert counted_candidates(db.session) == loaded
        assert bulkload.analyze_after_load(db.session, 0) is False
        # Less than ANALYZE_SHARE of what was counted: left to autovacuum.
        monkeypatch.setattr(bulkload, "ANALYZE_SHARE", 0.5)
        assert bulkload.analyze_after_load(db.session, loaded // 2 - 1) is False
        assert bulkload.analyze_after_load(db.session, loaded // 2) is True


def test_statistics_that_cannot_be_read_leave_the_load_in_place(app, backend, clock, caplog):
    if backend == "sqlite":
        pytest.skip("PostgreSQL's planner statistics")
    with app.app_context():
        report = import_jsonl_stream(db.session, vault_keys(), io.BytesIO(jsonl(records(clock))),
                                     workers=0, **options(clock))
        db.session.commit()
        with db.engine.connect() as other:
            # Another session holds the lock ANALYZE needs (a VACUUM, a CREATE INDEX
            # CONCURRENTLY) past this session's patience.
            other.execute(text("LOCK TABLE candidate IN SHARE UPDATE EXCLUSIVE MODE"))
            db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            assert bulkload.analyze_after_load(db.session, report.imported) is False
            other.rollback()
        assert "planner statistics not refreshed" in caplog.text
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == report.imported
        assert counted_candidates(db.session) <= 0


@pytest.mark.parametrize("tokens", ["", "00000001", "00000001 g000000h ffffffff 7fffffff",
                                    "abc12345 0000000g"])
def test_token_array_reads_back_as_the_database_function_makes_it(app, backend, tokens):
    """What the workers send for token_ids (bulkload.token_array, binary int4[] bytes)
    is read by PostgreSQL as the array its own function makes of the same tokens: empty,
    negative, and a prefix token sharing a word token's 32 bits (one value) included."""
    if backend == "sqlite":
        pytest.skip("FTS5 there, no token array")
    with app.app_context():
        db.session.execute(text("CREATE TEMPORARY TABLE given (token_ids int4[])"))
        raw = db.session.connection().connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(
                "COPY given (token_ids) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([17])  # the bytes as they are, read as the column's int4[]
            copy.write_row((bulkload.token_array(tokens),))
        given, computed = db.session.execute(
            text("SELECT token_ids, candidate_token_ids(:t) FROM given"), {"t": tokens}).one()
        assert given == computed
        db.session.rollback()


def test_a_long_import_leaves_the_audit_trail_open_to_other_writers(app, backend, clock):
    if backend == "sqlite":
        pytest.skip("SQLite has one writer at a time: the run holds the database")
    data = jsonl(records(clock))
    free_while_loading = []
    with app.app_context():
        keys = vault_keys()
        planned = planned_lines(data, clock)

        def record_an_event(other):
            # Another worker of the vault records an event meanwhile: the chain's lock
            # must be free (taken by the run only when it chains at the end).
            free_while_loading.append(other.execute(
                text("SELECT pg_try_advisory_xact_lock(7316)")).scalar())
            other.rollback()

        batches = one_at_a_time(keys, planned, clock, meanwhile=record_an_event)
        assert bulkload.load(db.session, keys, batches, now=clock()) == 4
        db.session.commit()
        assert free_while_loading == [True] * 4
        state = audit.walk_chain(db.session)
        assert state.broken_at is None
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == audit.CANDIDATE_CREATED)) == 4


def test_records_whose_ids_have_gaps_each_get_their_audit_events_in_order(app, backend, clock):
    """The writer keeps the records to audit as runs of consecutive ids: a gap (another
    writer took ids from the sequence between two batches) starts a new run."""
    data = jsonl(records(clock))
    with app.app_context():
        keys = vault_keys()
        planned = planned_lines(data, clock)

        def take_an_id(other):
            if backend == "postgresql":  # SQLite: the run holds the database
                other.execute(text("SELECT nextval(pg_get_serial_sequence('candidate', 'id'))"))
                other.commit()

        batches = one_at_a_time(keys, planned, clock, meanwhile=take_an_id)
        assert bulkload.load(db.session, keys, batches, now=clock()) == 4
        db.session.commit()
        loaded = db.session.execute(select(Candidate.id, Candidate.public_id)
                                    .order_by(Candidate.id)).all()
        if backend == "postgresql":
            assert [b - a for (a, _), (b, _) in pairwise(loaded)] == [2, 2, 2]
        subjects = db.session.scalars(select(AuditEvent.subject_public_id).where(
            AuditEvent.action == audit.CANDIDATE_CREATED).order_by(AuditEvent.id)).all()
        assert subjects == [public_id for _, public_id in loaded]
        assert audit.walk_chain(db.session).broken_at is None


def test_bulk_import_writes_no_plaintext_to_the_database(app, clock):
    data = jsonl(records(clock))
    with app.app_context():
        report = import_jsonl_stream(
            db.session, vault_keys(), io.BytesIO(data), workers=0,
            confirmations=notifications.import_confirmations(clock()),
            secret_keys=secret_keys(), **options(clock))
        db.session.commit()
        assert report.queued == 4
        for table in (
            "email_change",
            "mail_queue",
            "candidate",
            "education",
            "document",
            "candidate_index",
            "consent",
            "audit_event",
            "candidate_key",
        ):
            for row in db.session.execute(text(f"SELECT * FROM {table}")):
                dumped = repr(tuple(row)).encode() + b"".join(
                    bytes(v) for v in row if isinstance(v, bytes | memoryview)
                )
                for secret in (
                    b"Peeters",
                    b"jan.peeters",
                    b"Informatics",
                    b"Kafka",
                    b"Els Verhaegen",
                ):
                    assert secret not in dumped, (table, secret)


def test_a_bad_line_names_its_number_and_nothing_is_written(app, clock, monkeypatch):
    # Batches of two: the first batches are written before the bad lines are read, and
    # the run must still leave nothing behind.
    monkeypatch.setattr(imports, "LINES_PER_BATCH", 2)
    good = records(clock)
    lines = [
        json.dumps(good[0]).encode(),
        json.dumps(good[1]).encode(),
        b"",
        json.dumps(good[2]).encode(),
        json.dumps(good[3]).encode(),
        b'{"contact": {"full_name": "Broken"',
        json.dumps(good[1]).encode(),
        json.dumps({"contact": {"full_name": "No Mail", "email": "not-an-address"}}).encode(),
        json.dumps(good[2]).encode(),
    ]
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        report = import_jsonl_stream(
            db.session,
            vault_keys(),
            io.BytesIO(b"\n".join(lines) + b"\n"),
            workers=0,
            **options(clock),
        )
        db.session.rollback()
        assert report.rejected == [
            (6, "not valid JSON"),
            (8, "contact.email is not a valid e-mail address"),
        ]
        assert report.imported == 0
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 0
        assert db.session.scalar(select(func.count()).select_from(Consent)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_a_line_too_long_is_refused_without_being_read_whole(app, clock, monkeypatch):
    monkeypatch.setattr(imports, "MAX_LINE", 300)
    short = json.dumps({"contact": {"full_name": "A", "email": "a@example.org"}}).encode()
    long = json.dumps(
        {"contact": {"full_name": "B" * 150, "email": "b@example.org"}, "interests": "x" * 400}
    ).encode()
    with app.app_context():
        report = import_jsonl_stream(
            db.session,
            vault_keys(),
            io.BytesIO(short + b"\n" + long + b"\n" + short + b"\n"),
            workers=0,
            **options(clock),
        )
        db.session.rollback()
        assert report.rejected == [(2, "the line is too long")]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n"])
def test_a_line_just_over_the_limit_does_not_swallow_the_next_line(monkeypatch, ending):
    # Read in one go with its ending: skipping "the rest" of it must not skip a line.
    monkeypatch.setattr(imports, "MAX_LINE", 10)
    lines = list(imports.read_lines(io.BytesIO(b"x" * 11 + ending + b"next" + ending)))
    assert lines == [(1, None), (2, b"next")]


def test_a_lone_surrogate_rejects_its_line_and_nothing_is_written(app, clock):
    bad = b'{"contact": {"full_name": "A \\ud800", "email": "a@example.org"}}'
    with app.app_context():
        report = import_jsonl_stream(
            db.session, vault_keys(), io.BytesIO(jsonl(records(clock)[:1]) + bad + b"\n"),
            workers=0, **options(clock))
        db.session.rollback()
        assert report.rejected == [(2, "contact.full_name is not valid text")]
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 0


def test_a_dying_worker_fails_the_run_instead_of_hanging(app):
    with app.app_context():
        keys = vault_keys()
        with pytest.raises(BrokenProcessPool):
            list(bulkload.run_jobs(keys, _die_on_two, range(6), workers=2))


def _die_on_two(keys, task, memo):
    if task == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer does
    return task


def test_json_lines_are_told_apart_from_an_export_document(monkeypatch):
    assert imports.is_json_lines(io.BytesIO(b'{"contact": {}}\n{"contact": {}}\n'))
    assert not imports.is_json_lines(io.BytesIO(imports.ZIP_MAGIC + b"x" * 5000))
    monkeypatch.setattr(imports, "MAX_LINE", 100)
    one_line = b'{"schema": "x", "schema_version": 1, "records": [' + b" " * 200 + b"]}"
    assert not imports.is_json_lines(io.BytesIO(one_line))
    assert imports.is_json_lines(io.BytesIO(b'{"contact": {"x": "' + b"y" * 200 + b'"}}\n'))
    assert not imports.is_json_lines(io.BytesIO(b'{\n  "schema_version": 1,\n  "records": []\n}'))
    assert not imports.is_json_lines(io.BytesIO(b'{"schema_version": 1, "records": []}'))
    assert not imports.is_json_lines(io.BytesIO(b"PK\x03\x04rest of a zip"))


def test_seed_demo_rows_read_back_as_the_one_by_one_service_writes_them(app, clock):
    from vault.commands.demo import _DemoBatch, demo_records
    from vault.services import bulkload, consent
    from vault.services.candidates import create_candidate

    batch = _DemoBatch(0, 3, 5, (), POOL_MONTHS, clock())
    planned = demo_records(batch)
    assert any(p.pool_consent_until for p in planned)
    with app.app_context():
        keys = vault_keys()
        for item in planned:  # as seed-demo wrote them before the bulk path
            record = create_candidate(db.session, keys, item.data, now=clock(), source="demo")
            consent.record_consent(
                db.session,
                record,
                consent.APPLICATION,
                consent.GRANTED,
                notice_version=NOTICE_VERSION,
                source="demo",
                now=clock(),
            )
            if item.pool_consent_until:
                consent.grant_pool_consent(
                    db.session,
                    record,
                    months=POOL_MONTHS,
                    notice_version=NOTICE_VERSION,
                    source="demo",
                    now=clock(),
                )
        db.session.commit()
        built = bulkload.build_batch(keys, planned, now=clock(), memo=TokenMemo())
        assert bulkload.load(db.session, keys, [built], now=clock()) == 3
        db.session.commit()
        everything = db.session.scalars(select(Candidate).order_by(Candidate.id)).all()
        for a, b in zip(everything[:3], everything[3:], strict=True):
            assert readable(a) == readable(b)


def test_import_command_reports_the_bad_line_and_imports_nothing(app, runner, clock, tmp_path):
    path = tmp_path / "people.jsonl"
    path.write_bytes(jsonl(records(clock)[:2]) + b"[1, 2]\n" + jsonl(records(clock)[2:]))
    result = runner.invoke(args=["vault", "import", str(path)])
    assert result.exit_code == 1
    assert "line 3: a line must be one JSON object" in result.output
    assert "1 line(s) rejected; nothing was imported." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 0


@pytest.mark.app_config(MAIL_FLUSH_BATCH=3)
def test_import_command_says_how_many_mails_wait_for_the_sender(app, runner, clock, tmp_path):
    path = tmp_path / "people.jsonl"
    path.write_bytes(jsonl(records(clock)))
    result = runner.invoke(args=["vault", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "mail sent: 3" in result.output
    assert "1 mail(s) still queued: `vault send-mail --loop`" in result.output


def test_import_command_streams_json_lines_with_a_progress_bar(app, runner, clock, tmp_path):
    path = tmp_path / "people.jsonl"
    path.write_bytes(jsonl(records(clock)))
    result = runner.invoke(args=["vault", "import", str(path), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Importing" in result.output and "Imported 4 record(s)." in result.output
    assert "Queued 4 confirmation link(s)" in result.output
    assert "still queued" not in result.output  # all four delivered by the command
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 4
