"""Erasure notices (vault.services.webhooks): queued with the erasure, signed, posted to a
real receiver, retried with backoff, failed after the last attempt, never to the wrong
client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from tests.journey import MARK_EMAIL, MARK_NAME, apply, make_vacancy
from tests.webhooks import free_port, receiver
from vault.appctx import erasure_ledger, vault_keys
from vault.extensions import db
from vault.models import ApiClient, Candidate, CandidateKey, WebhookDelivery, WebhookEndpoint
from vault.services import audit, erasure, webhooks


@pytest.fixture
def make_client(app, clock):
    """An API client through the real service, with a webhook URL when given; returns its
    id and the signing secret shown once."""
    from vault.services import api_clients

    def make(
        company: str = "Ingenium",
        scopes: str = "erasures:read",
        url: str | None = None,
        expires_at=None,
    ) -> tuple[int, str | None]:
        with app.app_context():
            client, _token = api_clients.create_client(
                db.session,
                vault_keys().keyring,
                name=f"HR system {company}",
                company=company,
                scopes=scopes.split(),
                expires_at=expires_at,
                created_by=None,
                companies=app.config["COMPANIES"],
                now=clock() if expires_at is None else expires_at - timedelta(days=30),
                actor=audit.CLI,
            )
            db.session.flush()
            secret = None
            if url is not None:
                secret = webhooks.set_url(
                    db.session,
                    vault_keys(),
                    client,
                    url,
                    now=clock(),
                    actor=audit.CLI,
                    testing=True,
                )
            db.session.commit()
            return client.id, secret

    return make


def _applicant(app, client, company: str = "Ingenium") -> str:
    apply(client, make_vacancy(app, company=company))
    with app.app_context():
        return db.session.scalars(select(Candidate.public_id).order_by(Candidate.id.desc())).first()


def _erase(app, clock, public_id: str) -> None:
    with app.app_context():
        record = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
        erasure.erase_records(
            db.session,
            [record],
            reason=erasure.OPERATOR,
            now=clock(),
            ledger=erasure_ledger(),
            actor=audit.CLI,
        )


def _send(app, clock) -> webhooks.SendResult:
    with app.app_context():
        return webhooks.flush(db.session, vault_keys(), now=clock(), config=app.config, clock=clock)


def _deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        db.session.expunge_all()
        return rows


def test_an_erasure_is_posted_signed_to_a_real_receiver_with_the_public_id_and_time_only(
    app, client, clock, make_client
):
    with receiver(clock) as hook:
        client_id, secret = make_client(url=hook.url)
        hook.secret = secret
        public_id = _applicant(app, client)
        _erase(app, clock, public_id)
        [queued] = _deliveries(app)
        assert (queued.client_id, queued.status, queued.attempts) == (client_id, "queued", 0)
        result = _send(app, clock)
        assert (result.delivered, result.retrying, result.failed) == (1, 0, 0)
        [notice] = hook.received
    assert notice.verified
    assert notice.path == "/hooks/vault?tenant=7"
    assert json.loads(notice.body) == {
        "type": "candidate.erased",
        "public_id": public_id,
        "erased_at": "2026-03-02T09:00:00Z",
    }
    assert MARK_EMAIL.encode() not in notice.body and MARK_NAME.encode() not in notice.body
    assert notice.headers["vault-event-id"] == webhooks.event_id_for(public_id)
    assert notice.headers["content-type"] == "application/json"
    [row] = _deliveries(app)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
        "delivered",
        1,
        200,
        None,
    )
    assert row.delivered_at == clock()
    # Sent once: a second run finds nothing due.
    assert _send(app, clock).delivered == 0


def test_a_500_is_retried_after_the_backoff_and_then_delivered(app, client, clock, make_client):
    with receiver(clock) as hook:
        _client_id, hook.secret = make_client(url=hook.url)
        hook.answers = [500]
        _erase(app, clock, _applicant(app, client))
        assert _send(app, clock).retrying == 1
        [row] = _deliveries(app)
        assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
            "queued",
            1,
            500,
            "HTTP 500",
        )
        assert row.next_attempt_at == clock() + timedelta(seconds=60)
        clock.advance(seconds=59)
        assert _send(app, clock).delivered == 0  # not due yet
        clock.advance(seconds=1)
        assert _send(app, clock).delivered == 1
        assert [n.verified for n in hook.received] == [True, True]
        # The same notice twice: the same event id and body, signed anew each time.
        assert hook.received[0].body == hook.received[1].body
        assert (
            hook.received[0].headers["vault-event-id"] == hook.received[1].headers["vault-event-id"]
        )
    [row] = _deliveries(app)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 2, 200)


def test_in_a_long_run_each_claim_takes_its_lease_from_its_own_time(
    app, client, clock, make_client
):
    # Each answer takes longer than a whole lease (WEBHOOK_CLAIM_SECONDS): a lease counted
    # from the start of the run would have run out before the second notice was taken,
    # and a second sender could take (and post) it as well.
    leases: list[tuple[datetime, datetime]] = []

    def slow(notice) -> None:
        with app.app_context():
            row = db.session.scalar(
                select(WebhookDelivery).where(WebhookDelivery.claim.is_not(None))
            )
            leases.append((row.claimed_until, clock()))
            db.session.remove()
        clock.advance(seconds=app.config["WEBHOOK_CLAIM_SECONDS"] + 60)

    with receiver(clock) as hook:
        _id, hook.secret = make_client(url=hook.url)
        _erase(app, clock, _applicant(app, client))
        _erase(app, clock, _applicant(app, client))
        hook.on_post = slow
        started = clock()
        assert _send(app, clock).delivered == 2
    assert len(leases) == 2
    assert all(until > moment for until, moment in leases)  # still running when posted
    assert leases[0][0] < leases[1][0]
    # The outcome is stamped when it is known, not when the run began.
    step = timedelta(seconds=app.config["WEBHOOK_CLAIM_SECONDS"] + 60)
    assert [r.delivered_at for r in _deliveries(app)] == [started + step, started + 2 * step]


@pytest.mark.app_config(WEBHOOK_MAX_ATTEMPTS=4)
def test_a_refused_connection_backs_off_doubling_and_fails_after_the_last_attempt(
    app, client, clock, make_client, runner
):
    make_client(url=f"http://127.0.0.1:{free_port()}/hook")  # nothing listens there
    _erase(app, clock, _applicant(app, client))
    delays = []
    for _ in range(3):
        assert _send(app, clock).retrying == 1
        [row] = _deliveries(app)
        assert row.last_status_code is None and row.last_error == "ConnectionRefusedError"
        delays.append((row.next_attempt_at - clock()).total_seconds())
        clock.current = row.next_attempt_at
    assert delays == [60, 120, 240]
    assert _send(app, clock).failed == 1
    [row] = _deliveries(app)
    assert (row.status, row.attempts) == ("failed", 4)
    clock.advance(days=1)
    assert _send(app, clock).delivered + _send(app, clock).retrying == 0  # given up
    # The operator fixed the receiver: failed notices go back in the queue.
    result = runner.invoke(args=["vault", "send-webhooks", "--retry-failed"])
    assert result.exit_code == 0, result.output
    assert "notices queued again: 1" in result.output
    [row] = _deliveries(app)
    assert row.status == "queued" and row.attempts == 1  # tried again at once, failed again


@pytest.mark.app_config(WEBHOOK_MAX_ATTEMPTS=1)
def test_a_failed_notice_queued_again_no_longer_shows_its_last_error(
    app, client, clock, make_client
):
    with receiver(clock) as hook:
        _id, hook.secret = make_client(url=hook.url)
        hook.answers = [500]
        _erase(app, clock, _applicant(app, client))
        assert _send(app, clock).failed == 1
    [row] = _deliveries(app)
    assert (row.status, row.last_status_code, row.last_error) == ("failed", 500, "HTTP 500")
    with app.app_context():
        assert webhooks.retry_failed(db.session, now=clock()) == 1
        db.session.commit()
    [row] = _deliveries(app)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
        "queued",
        0,
        None,
        None,
    )
    assert row.next_attempt_at == clock()


def test_backoff_doubles_up_to_the_maximum(app):
    config = {"WEBHOOK_RETRY_BASE_SECONDS": 60, "WEBHOOK_RETRY_MAX_SECONDS": 3600}
    assert [webhooks.backoff(n, config).total_seconds() for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_only_live_clients_of_the_records_company_with_the_scope_and_a_url_are_told(
    app, client, clock, make_client
):
    with receiver(clock) as hook:
        make_client(company="Hoptimize", url=hook.url)  # another company
        make_client(company="Ingenium", scopes="vacancies:read candidates:read", url=hook.url)
        make_client(company="Ingenium")  # no webhook URL
        make_client(
            company="Ingenium", url=hook.url, expires_at=clock() - timedelta(days=1)
        )  # expired
        told, hook.secret = make_client(
            company="Ingenium", scopes="candidates:read erasures:read", url=hook.url
        )
        _erase(app, clock, _applicant(app, client, company="Ingenium"))
        assert [r.client_id for r in _deliveries(app)] == [told]
        _send(app, clock)
        assert [n.verified for n in hook.received] == [True]
        # An erasure at the other company reaches its client only.
        hoptimize = _applicant(app, client, company="Hoptimize")
        _erase(app, clock, hoptimize)
        assert len(_deliveries(app)) == 2 and _deliveries(app)[1].client_id != told


def test_a_revoked_client_gets_no_notice_queued_nor_one_queued_before(
    app, client, clock, make_client
):
    with receiver(clock) as hook:
        before, hook.secret = make_client(url=hook.url)
        revoked_first, _ = make_client(url=hook.url)
        with app.app_context():
            db.session.get(ApiClient, revoked_first).revoked_at = clock()
            db.session.commit()
        _erase(app, clock, _applicant(app, client))
        assert [r.client_id for r in _deliveries(app)] == [before]
        # Revoked after the erasure, before the sender ran: nothing is posted.
        with app.app_context():
            db.session.get(ApiClient, before).revoked_at = clock()
            db.session.commit()
        assert _send(app, clock).cancelled == 1
        assert hook.received == []
    [row] = _deliveries(app)
    assert (row.status, row.last_error) == ("cancelled", "client revoked")


def test_revoking_a_client_cancels_its_queued_notices_at_once(app, client, clock, make_client):
    from vault.services import api_clients

    with receiver(clock) as hook:
        kept, hook.secret = make_client(url=hook.url)
        revoked, _ = make_client(url=hook.url)
        _erase(app, clock, _applicant(app, client))
        with app.app_context():
            api_clients.revoke_client(db.session, revoked, now=clock(), actor=audit.CLI)
            db.session.commit()
        # The delivery log says so before any sender runs.
        assert sorted((r.client_id, r.status, r.last_error) for r in _deliveries(app)) == [
            (kept, "queued", None),
            (revoked, "cancelled", "client revoked"),
        ]
        result = _send(app, clock)
        assert (result.delivered, result.cancelled) == (1, 0)
        assert [n.verified for n in hook.received] == [True]


def test_an_erasure_that_rolls_back_leaves_no_notice(app, client, clock, make_client, monkeypatch):
    make_client(url="https://hr.example/hook")
    public_id = _applicant(app, client)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(erasure, "_close_requests", fail)
    with pytest.raises(RuntimeError):
        _erase(app, clock, public_id)  # its session is rolled back when its context ends
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
        assert db.session.scalar(select(func.count()).select_from(CandidateKey)) == 1
    monkeypatch.undo()
    _erase(app, clock, public_id)  # done again (as replay would): now with its notice
    assert len(_deliveries(app)) == 1


def test_a_replayed_erasure_keeps_its_event_id_and_is_not_queued_twice(
    app, client, clock, make_client
):
    client_id, _ = make_client(url="https://hr.example/hook")
    public_id = _applicant(app, client)
    with app.app_context():
        record = db.session.scalar(select(Candidate).where(Candidate.public_id == public_id))
        assert webhooks.enqueue_erasure_notices(db.session, [record], now=clock()) == 1
        assert webhooks.enqueue_erasure_notices(db.session, [record], now=clock()) == 0
        db.session.rollback()
    _erase(app, clock, public_id)
    [row] = _deliveries(app)
    assert row.event_id == webhooks.event_id_for(public_id) and row.client_id == client_id


def test_an_erasure_batch_looks_up_subscribers_and_queued_notices_once(
    app, client, clock, make_client
):
    from sqlalchemy import event

    first, _ = make_client(url="https://hr.example/hook")
    second, _ = make_client(url="https://jobs.example/hook")
    public_ids = [_applicant(app, client) for _ in range(3)]
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    with app.app_context():
        records = list(
            db.session.scalars(select(Candidate).where(Candidate.public_id.in_(public_ids)))
        )
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert webhooks.enqueue_erasure_notices(db.session, records, now=clock()) == 6
            assert webhooks.enqueue_erasure_notices(db.session, records, now=clock()) == 0
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        queued = set(
            db.session.execute(select(WebhookDelivery.client_id, WebhookDelivery.event_id))
        )
        db.session.rollback()
    assert queued == {
        (cid, webhooks.event_id_for(pid)) for cid in (first, second) for pid in public_ids
    }
    # Per call: one query for the subscribers, one for the notices already there.
    assert sum("webhook_endpoint" in s for s in statements) == 2
    assert sum("FROM webhook_delivery" in s for s in statements) == 2


@pytest.mark.parametrize(
    ("url", "testing", "accepted"),
    [
        ("https://hr.example/hooks/vault", False, True),
        ("https://hr.example:8443/h?x=1", False, True),
        ("http://hr.example/hook", False, False),
        ("http://127.0.0.1:8080/hook", False, False),
        ("http://127.0.0.1:8080/hook", True, True),
        ("http://localhost:8080/hook", True, False),
        ("ftp://hr.example/hook", False, False),
        ("https://user:pw@hr.example/hook", False, False),
        ("https://hr.example/hook#frag", False, False),
        ("https:///nohost", False, False),
        ("https://hr.example/a b", False, False),
        ("https://hr.example:99999/", False, False),
        ("", False, False),
        ("https://hr.example/" + "a" * 2000, False, False),
    ],
)
def test_webhook_urls_must_be_https(url, testing, accepted):
    if accepted:
        assert webhooks.check_url(url, testing=testing) == url
    else:
        with pytest.raises(webhooks.WebhookError):
            webhooks.check_url(url, testing=testing)


def test_the_http_exception_for_127_0_0_1_holds_only_in_testing_config(app, clock, make_client):
    app.config["TESTING"] = False
    assert app.config["TESTING"] is False
    with pytest.raises(webhooks.WebhookError):
        webhooks.check_url("http://127.0.0.1:9/hook", testing=app.config["TESTING"])


def test_verify_accepts_the_signature_and_refuses_tampering_and_replays():
    secret, body = "whsec_test", b'{"type":"candidate.erased"}'
    headers = webhooks.signed_headers(secret, "evt", body, 1_800_000_000)
    assert webhooks.verify(secret, headers, body, now=1_800_000_000 + 299)
    assert not webhooks.verify(secret, headers, body, now=1_800_000_000 + 301)  # replayed
    assert not webhooks.verify(secret, headers, body + b" ", now=1_800_000_000)
    assert not webhooks.verify("whsec_other", headers, body, now=1_800_000_000)
    forged = {**headers, "Vault-Timestamp": "1800000100"}  # a fresher time, same signature
    assert not webhooks.verify(secret, forged, body, now=1_800_000_100)
    assert not webhooks.verify(secret, {}, body, now=1_800_000_000)


def test_the_signing_secret_is_sealed_and_moves_with_a_kek_rotation(
    app, clock, make_client, runner
):
    client_id, secret = make_client(url="https://hr.example/hook")
    assert secret and secret.startswith("whsec_") and len(secret) > 40
    with app.app_context():
        raw = db.session.execute(text("SELECT url, secret FROM webhook_endpoint")).one()
        assert secret.encode() not in bytes(raw.secret)
        before = webhooks.open_secret(vault_keys(), db.session.get(WebhookEndpoint, client_id))
        old_version = vault_keys().keyring.primary
    assert before == secret
    result = runner.invoke(args=["vault", "rotate-kek"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, client_id)
        assert webhooks.sealed_under(db.session, old_version) == 0
        assert webhooks.open_secret(vault_keys(), endpoint) == secret
    result = runner.invoke(args=["vault", "retire-kek", str(old_version)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert (
            webhooks.open_secret(vault_keys(), db.session.get(WebhookEndpoint, client_id)) == secret
        )


def test_send_webhooks_command_posts_what_is_due(app, client, clock, make_client, runner):
    with receiver(clock) as hook:
        _id, hook.secret = make_client(url=hook.url)
        _erase(app, clock, _applicant(app, client))
        result = runner.invoke(args=["vault", "send-webhooks"])
        assert result.exit_code == 0, result.output
        assert "webhooks delivered: 1" in result.output
        assert [n.verified for n in hook.received] == [True]


def test_the_receiver_in_docs_api_md_accepts_a_real_notice_and_refuses_a_replay():
    import re
    import time
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    section = doc[doc.index("## Erasure notices (webhooks)") :]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict = {"__name__": "docs_receiver"}
    exec(compile(code, "docs/api.md", "exec"), namespace)  # the example as published
    namespace["SECRET"] = secret = webhooks.new_secret()
    body = webhooks.erasure_payload("q3J0lZ8bU2xv7XwGk1m4sA", datetime.now(UTC))
    body_bytes = body.encode()
    fresh = webhooks.signed_headers(secret, "evt", body_bytes, int(time.time()))
    assert namespace["verified"](fresh, body_bytes)
    assert not namespace["verified"](fresh, body_bytes.replace(b"q3J0", b"q3J1"))
    old = webhooks.signed_headers(secret, "evt", body_bytes, int(time.time()) - 301)
    assert not namespace["verified"](old, body_bytes)


@pytest.mark.app_config(WEBHOOK_SEND_AFTER_RESPONSE=True)
def test_after_a_self_service_erasure_a_background_thread_posts_the_notice(
    app, client, clock, make_client
):
    import threading

    from tests.journey import link_in, outbox

    with receiver(clock) as hook:
        _id, hook.secret = make_client(url=hook.url)
        public_id = _applicant(app, client)
        link = link_in(outbox(app)[-1])
        response = client.post(link + "/erase")
        assert response.status_code == 200
        assert hook.received == []  # nothing before the answer has gone
        response.close()  # the server closes the response once it is sent
        for thread in threading.enumerate():
            if thread.name == webhooks.SENDER_THREAD:
                thread.join(timeout=30)
        [notice] = hook.received
    assert notice.verified and json.loads(notice.body)["public_id"] == public_id
    [row] = _deliveries(app)
    assert row.status == "delivered"


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
        "https://2130706433/hook",  # 127.0.0.1 spelt as one number
        "https://0x7f.1/hook",
        "https://localhost/hook",
        "https://vault.localhost./hook",
    ],
)
def test_webhook_urls_naming_internal_addresses_are_refused_unless_allowed(url):
    with pytest.raises(webhooks.WebhookError):
        webhooks.check_url(url)
    assert webhooks.check_url(url, allow_private=True) == url


def test_a_public_ip_literal_is_accepted():
    assert webhooks.check_url("https://93.184.215.14/hook") == "https://93.184.215.14/hook"


def _fake_dns(monkeypatch, answers: list[str]) -> list[tuple]:
    """The name resolves to `answers`; every connection attempt is recorded and refused."""
    import socket

    attempts: list[tuple] = []

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers]

    def create_connection(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


@pytest.mark.app_config(WEBHOOK_TIMEOUT_SECONDS=1)
def test_a_webhook_name_resolving_to_an_internal_address_is_never_connected_to(
    app, client, clock, make_client, monkeypatch
):
    make_client(url="https://hr.example/hook")  # public-looking when entered
    _erase(app, clock, _applicant(app, client))
    attempts = _fake_dns(monkeypatch, ["169.254.169.254"])
    assert _send(app, clock).retrying == 1
    assert attempts == []
    [row] = _deliveries(app)
    assert row.last_error == webhooks.ADDRESS_REFUSED


def test_every_address_of_the_name_must_be_public():
    # One internal address among public ones is enough to refuse: the connection could
    # go to any of them.
    import socket

    real = socket.getaddrinfo
    try:
        socket.getaddrinfo = lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]
        outcome = webhooks.post("https://hr.example/h", b"{}", {}, 1)
    finally:
        socket.getaddrinfo = real
    assert outcome.error == webhooks.ADDRESS_REFUSED


@pytest.mark.app_config(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True, WEBHOOK_TIMEOUT_SECONDS=1)
def test_with_private_addresses_allowed_the_sender_connects_to_the_address_it_checked(
    app, client, clock, make_client, monkeypatch
):
    make_client(url="https://hr.example:8443/hook")
    _erase(app, clock, _applicant(app, client))
    attempts = _fake_dns(monkeypatch, ["10.0.0.7"])
    assert _send(app, clock).retrying == 1
    # The checked address itself, not the name again (a second lookup could answer
    # otherwise: DNS rebinding).
    assert attempts == [("10.0.0.7", 8443)]


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_timeout():
    # Each byte comes well within the socket timeout, the whole answer does not: the
    # timeout holds for the exchange, not for each read.
    import socket
    import threading
    import time

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.getsockname()[1]}/hook"
        outcome = webhooks.post(url, b"{}", {}, 1.0, testing=True)
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert not outcome.ok and outcome.error == "TimeoutError"


def test_a_receiver_that_does_not_answer_is_tried_once_per_run_and_others_still_hear(
    app, client, clock, make_client, monkeypatch
):
    real_resolve = webhooks._resolve
    lookups: list[tuple] = []

    def counting_resolve(host, port, *args, **kwargs):
        lookups.append((host, port))
        return real_resolve(host, port, *args, **kwargs)

    monkeypatch.setattr(webhooks, "_resolve", counting_resolve)
    with receiver(clock) as hook:
        down, _ = make_client(url=f"http://127.0.0.1:{free_port()}/hook")  # nothing listens
        up, hook.secret = make_client(url=hook.url)
        _erase(app, clock, _applicant(app, client))
        _erase(app, clock, _applicant(app, client))
        result = _send(app, clock)
        assert (result.delivered, result.retrying, result.unreachable) == (2, 1, 1)
        assert "1 receiver(s) unreachable" in result.line()
        assert [n.verified for n in hook.received] == [True, True]
    rows = _deliveries(app)
    # The down client's second notice was left for the next run, not tried.
    assert sorted((r.client_id, r.status, r.attempts) for r in rows) == sorted(
        [(down, "queued", 1), (down, "queued", 0), (up, "delivered", 1), (up, "delivered", 1)]
    )
    # Each receiver's name was looked up once in the run, not once per notice.
    assert len(lookups) == len(set(lookups)) == 2


def test_a_name_server_that_does_not_answer_is_given_up_at_the_timeout(monkeypatch):
    import socket
    import threading
    import time

    release = threading.Event()

    def hanging_getaddrinfo(*args, **kwargs):
        release.wait(30)
        raise socket.gaierror("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    started = time.monotonic()
    try:
        outcome = webhooks.post("https://hr.example/hook", b"{}", {}, 0.5)
    finally:
        release.set()
    assert time.monotonic() - started < 5
    assert outcome == webhooks.Outcome(None, "TimeoutError")


def test_a_run_loads_each_client_and_opens_its_secret_once(
    app, client, clock, make_client, monkeypatch
):
    real_open = webhooks.open_secret
    opened: list[int] = []

    def counting_open(keys, endpoint):
        opened.append(endpoint.client_id)
        return real_open(keys, endpoint)

    monkeypatch.setattr(webhooks, "open_secret", counting_open)
    with receiver(clock) as hook:
        client_id, hook.secret = make_client(url=hook.url)
        for _ in range(3):
            _erase(app, clock, _applicant(app, client))
        assert _send(app, clock).delivered == 3
        assert [n.verified for n in hook.received] == [True, True, True]
    assert opened == [client_id]
