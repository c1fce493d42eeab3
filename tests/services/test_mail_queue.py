from __future__ import annotations

import asyncio
import email
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.forensics import database_dump, find_markers
from tests.journey import MARK_EMAIL, MARK_NAME, apply, deliver_mail, link_in, make_vacancy, outbox
from tests.smtp import Inbox, free_port, plain_server, silent_server
from vault.crypto import BlindIndex
from vault.extensions import db
from vault.models import Candidate, MailMessage, Vacancy
from vault.services import mail_queue
from vault.services.notifications import SENDER_THREAD


def _smtp(app, port: int, timeout: float = 2) -> None:
    app.config.update(MAIL_BACKEND="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port,
                      MAIL_SMTP_STARTTLS=False, MAIL_SMTP_USERNAME=None,
                      MAIL_SMTP_TIMEOUT=timeout)


def _rows(app) -> list[MailMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))
        db.session.expunge_all()
        return rows


def _eml_files(app) -> list[Path]:
    folder = Path(app.config["MAIL_OUTBOX"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def _recipients(inbox: Inbox) -> list[str]:
    return [email.message_from_bytes(raw)["To"] for raw in inbox.messages]


def test_an_application_only_enqueues_and_the_queue_holds_no_plaintext(app, client):
    slug = make_vacancy(app, title="Quantum gardener")
    assert apply(client, slug).status_code == 302
    assert _eml_files(app) == []  # nothing was sent in the request
    [row] = _rows(app)
    assert (row.kind, row.status, row.attempts) == ("application_received", "queued", 0)
    with app.app_context():
        assert row.candidate_id == db.session.scalar(select(Candidate.id))
    raw = database_dump(app)
    for marker in (MARK_EMAIL, MARK_NAME, "/my-data/"):
        assert marker.encode() not in raw and marker.encode("utf-16-le") not in raw
    # The vacancy's own title is public; the mail's subject that names it is sealed.
    assert b"Your application" not in raw


def test_a_server_that_is_down_keeps_the_mail_until_it_is_back(app, client, clock):
    port = free_port()
    _smtp(app, port)
    apply(client)
    first = deliver_mail(app)  # connection refused
    assert (first.sent, first.retrying, first.server_down) == (0, 1, True)
    [row] = _rows(app)
    assert row.status == "queued" and row.attempts == 1
    assert row.next_attempt_at == clock() + timedelta(seconds=60)
    assert row.last_error and MARK_EMAIL not in row.last_error
    assert MARK_EMAIL.encode() not in database_dump(app)

    with plain_server(port) as inbox:
        assert deliver_mail(app).sent == 0  # not due yet: the backoff is respected
        clock.advance(seconds=61)
        assert deliver_mail(app).sent == 1
        assert deliver_mail(app).sent == 0  # nothing is sent twice
    assert _recipients(inbox) == [MARK_EMAIL]
    [row] = _rows(app)
    assert row.status == "sent" and row.recipient is None and row.body is None


def test_a_server_that_never_answers_times_out_and_the_mail_waits(app, client, clock):
    port = free_port()
    _smtp(app, port, timeout=1)
    apply(client)
    apply(client, email="second.person@example.org")
    with silent_server(port) as accepted:
        result = deliver_mail(app)
    assert accepted  # it did connect, and then waited for the timeout
    # The run stops at the first timeout: the second message does not wait as well.
    assert (result.sent, result.retrying, result.server_down) == (0, 1, True)
    assert [r.status for r in _rows(app)] == ["queued", "queued"]

    clock.advance(minutes=2)
    with plain_server(port) as inbox:
        assert deliver_mail(app).sent == 2
        assert deliver_mail(app).sent == 0
    assert sorted(_recipients(inbox)) == sorted([MARK_EMAIL, "second.person@example.org"])


def test_a_request_never_speaks_to_the_mail_server(app, client):
    """An application and a link request while the server hangs: neither request
    connects to it (so neither can time out on it); only the sender does, later."""
    port = free_port()
    _smtp(app, port, timeout=1)
    with silent_server(port) as accepted:
        assert apply(client).status_code == 302
        assert client.post("/my-data", data={"email": MARK_EMAIL}).status_code == 302
        assert accepted == []
        deliver_mail(app)
        assert len(accepted) == 1


def test_backoff_doubles_and_a_message_that_keeps_failing_is_kept_as_failed(app, client, clock,
                                                                             runner):
    port = free_port()
    _smtp(app, port)
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    apply(client)
    waits = []
    for _ in range(3):
        deliver_mail(app)
        [row] = _rows(app)
        waits.append(row.next_attempt_at - clock())
        clock.current = row.next_attempt_at
    assert waits[:2] == [timedelta(seconds=60), timedelta(seconds=120)]
    [row] = _rows(app)
    assert row.status == "failed" and row.attempts == 3 and row.recipient is not None
    with app.app_context():
        stats = mail_queue.stats(db.session, clock())
    assert (stats.queued, stats.failed) == (0, 1)
    clock.advance(days=1)
    assert deliver_mail(app).sent == 0  # failed for good: not retried on its own

    with plain_server(port) as inbox:
        result = runner.invoke(args=["vault", "send-mail", "--retry-failed"])
        assert result.exit_code == 0, result.output
        assert "messages queued again: 1" in result.output and "mail sent: 1" in result.output
    assert _recipients(inbox) == [MARK_EMAIL]


class SlowInbox(Inbox):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


def test_in_a_long_run_each_claim_takes_its_lease_from_its_own_time(app, client, clock):
    # Each delivery takes longer than a whole lease (MAIL_CLAIM_SECONDS): a lease counted
    # from the start of the run would have run out before the next message was taken,
    # and a second sender could take (and send) it as well.
    port = free_port()
    _smtp(app, port)
    leases = []

    class SlowServer(Inbox):
        async def handle_DATA(self, server, session, envelope):
            with app.app_context():
                [until] = db.session.scalars(
                    select(MailMessage.claimed_until).where(MailMessage.claim.is_not(None)))
                leases.append((until, clock()))
                db.session.remove()
            clock.advance(seconds=app.config["MAIL_CLAIM_SECONDS"] + 60)
            return await super().handle_DATA(server, session, envelope)

    apply(client)
    apply(client, email="second.person@example.org")
    started = clock()
    with plain_server(port, SlowServer()):
        assert deliver_mail(app).sent == 2
    assert len(leases) == 2
    assert all(until > moment for until, moment in leases)  # still running when sent
    step = timedelta(seconds=app.config["MAIL_CLAIM_SECONDS"] + 60)
    assert [r.sent_at for r in _rows(app)] == [started + step, started + 2 * step]


def test_two_senders_at_once_never_send_a_message_twice(app, client):
    port = free_port()
    _smtp(app, port)
    addresses = [f"person.{n}@example.org" for n in range(8)]
    for address in addresses:
        apply(client, email=address)
    results = []
    with plain_server(port, SlowInbox()) as inbox:
        senders = [threading.Thread(target=lambda: results.append(deliver_mail(app)))
                   for _ in range(3)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    assert sorted(_recipients(inbox)) == sorted(addresses)
    assert sum(r.sent for r in results) == 8
    assert all(r.status == "sent" for r in _rows(app))


def test_an_erased_person_leaves_no_outbox_file_and_no_queue_row(app, client):
    slug = make_vacancy(app)
    apply(client, slug)
    link = link_in(outbox(app)[-1])  # delivered: one .eml file
    apply(client)  # a second record of the same person; its mail stays queued
    apply(client, email="someone.else@example.org")
    assert len(_eml_files(app)) == 1 and len(_rows(app)) == 3
    assert client.post(link + "/erase").status_code == 200
    [left] = _rows(app)
    with app.app_context():
        other = db.session.scalar(select(Candidate.id))
    assert left.candidate_id == other and left.status == "queued"
    assert _eml_files(app) == []
    assert find_markers(app, [MARK_EMAIL.encode(), MARK_NAME.encode()]) == []
    # The other person's mail still goes out.
    assert [m["To"] for m in outbox(app)] == ["someone.else@example.org"]


def test_discard_mail_of_removes_the_files_and_rows_of_those_records_only(app, client):
    apply(client)
    apply(client, email="someone.else@example.org")
    assert len(outbox(app)) == 2
    with app.app_context():
        first, second = db.session.scalars(select(Candidate.id).order_by(Candidate.id)).all()
        assert mail_queue.discard_mail_of(db.session, [first],
                                          Path(app.config["MAIL_OUTBOX"])) == 1
        db.session.commit()
    [left] = _rows(app)
    assert left.candidate_id == second
    [file] = _eml_files(app)
    assert file.name == left.outbox_name


def test_a_mail_delivered_while_its_person_is_erased_leaves_no_file(app, client, monkeypatch):
    """The sender opened the message, then the person was erased before it recorded the
    delivery: it finds its row gone and deletes the file it just wrote."""
    from vault.services import audit, erasure
    from vault.services import mail_queue as queue_module

    apply(client)
    real_deliver = queue_module.deliver

    def deliver_then_erase(mail, config, *, outbox_name=None):
        real_deliver(mail, config, outbox_name=outbox_name)
        assert len(_eml_files(app)) == 1
        with app.app_context():  # another request, with a session of its own
            records = list(db.session.scalars(select(Candidate)))
            erasure.erase_records(db.session, records, reason=erasure.SELF_SERVICE,
                                  now=app.config["CLOCK"](), ledger=None, actor=audit.SYSTEM)
            db.session.remove()

    monkeypatch.setattr(queue_module, "deliver", deliver_then_erase)
    deliver_mail(app)
    assert _eml_files(app) == [] and _rows(app) == []


def _spy(monkeypatch, calls: Counter, target, name: str) -> None:
    real = getattr(target, name)

    def spy(*args, **kwargs):
        calls[name] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, spy)


def test_a_link_request_does_the_same_work_for_known_and_unknown_addresses(app, client,
                                                                         monkeypatch):
    import vault.keys

    apply(client)
    sent_before = len(outbox(app))
    work = {}
    for address in (MARK_EMAIL, "nobody.here@example.org"):
        calls: Counter = Counter()
        with monkeypatch.context() as patch:
            _spy(patch, calls, mail_queue, "derived_data_key")  # sealing under the queue key
            _spy(patch, calls, vault.keys.VaultKeys, "unwrap_many")  # opening a record's key
            _spy(patch, calls, BlindIndex, "exact")  # looking the address up
            response = client.post("/my-data", data={"email": address})
        assert response.status_code == 302
        work[address] = (calls, response.headers["Location"])
    assert work[MARK_EMAIL] == work["nobody.here@example.org"]
    assert work[MARK_EMAIL][0] == Counter({"derived_data_key": 1})
    requests = [r for r in _rows(app) if r.kind == "link_request"]
    assert len(requests) == 2
    assert all(r.candidate_id is None and r.subject is None for r in requests)
    assert _eml_files(app) and len(_eml_files(app)) == sent_before  # nothing sent yet

    mails = outbox(app)  # the sender looks the addresses up
    assert len(mails) == sent_before + 1 and mails[-1]["To"] == MARK_EMAIL
    assert client.get(link_in(mails[-1])).status_code == 200
    assert [r.kind for r in _rows(app)] == ["application_received", "personal_link"]


def test_a_title_with_a_line_break_from_before_the_check_does_not_break_applications(
        app, client, clock):
    with app.app_context():
        db.session.add(Vacancy(slug="legacy", company="Ingenium", status="open",
                               title="Data engineer\r\nBcc: spy@evil.example", created_at=clock()))
        db.session.commit()
    assert apply(client, "legacy").status_code == 302
    assert client.get("/applied").status_code == 200
    [mail] = outbox(app)
    assert mail["Subject"] == "Your application: Data engineer Bcc: spy@evil.example"
    assert mail["Bcc"] is None and mail["To"] == MARK_EMAIL


@pytest.mark.app_config(MAIL_FLUSH_AFTER_RESPONSE=True)
def test_after_the_response_a_background_thread_delivers_the_mail(app, client):
    response = apply(client)
    assert response.status_code == 302
    response.close()  # the server closes the response once it is sent
    for thread in threading.enumerate():
        if thread.name == SENDER_THREAD:
            thread.join(timeout=30)
    [file] = _eml_files(app)
    assert email.message_from_bytes(file.read_bytes())["To"] == MARK_EMAIL
    [row] = _rows(app)
    assert row.status == "sent" and row.outbox_name == file.name


@pytest.mark.app_config(MAIL_FLUSH_AFTER_RESPONSE=True)
def test_behind_a_real_server_the_link_is_mailed_after_the_answer(app, client):
    """The same through werkzeug's own server (what `make run` uses): no worker needed."""
    import urllib.parse
    import urllib.request

    from werkzeug.serving import make_server

    apply(client)
    assert len(outbox(app)) == 1
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_port}/my-data", method="POST",
            data=urllib.parse.urlencode({"email": MARK_EMAIL}).encode())
        opener = urllib.request.build_opener(
            type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                 {"redirect_request": lambda *args: None}))
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(request, timeout=10)
        assert answer.value.code == 302
        for _ in range(100):
            if len(_eml_files(app)) == 2:
                break
            threading.Event().wait(0.05)
    finally:
        server.shutdown()
        serving.join()
    for thread in threading.enumerate():
        if thread.name == SENDER_THREAD:
            thread.join(timeout=30)
    assert len(_eml_files(app)) == 2
    assert [r.kind for r in _rows(app)] == ["application_received", "personal_link"]


def test_stats_count_depth_age_and_failures(app, client, clock):
    apply(client)
    clock.advance(minutes=10)
    apply(client, email="second.person@example.org")
    with app.app_context():
        stats = mail_queue.stats(db.session, clock())
    assert (stats.queued, stats.retrying, stats.failed) == (2, 0, 0)
    assert stats.oldest_queued_seconds == 600 and stats.oldest_queued_minutes == 10
    deliver_mail(app)
    with app.app_context():
        assert mail_queue.stats(db.session, clock()) == mail_queue.QueueStats(0, 0, 0, 0.0)


def test_the_officers_desk_shows_waiting_and_failed_mail(app, client, make_user, login):
    _smtp(app, free_port())
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    apply(client)
    apply(client, email="second.person@example.org")
    deliver_mail(app)  # the first fails for good, the run stops (server down)
    login(client, make_user(role="admin"))
    page = client.get("/admin/").get_data(as_text=True)
    assert '<td id="mail-queued">1</td>' in page and '<td id="mail-failed">1</td>' in page
    assert "vault send-mail --retry-failed" in page


def test_a_sender_whose_keyring_env_is_behind_a_rotation_retries_instead_of_giving_up(
        app, client, tmp_path):
    from tests.workers import another_worker
    from vault.crypto import Keyring

    apply(client)
    keyring = Keyring.from_json(Path(app.config["KEYRING_FILE"]).read_text())
    out = tmp_path / "new-keyring"
    with another_worker(app, KEYRING=keyring.to_env()) as old:
        assert old.test_cli_runner().invoke(
            args=["vault", "rotate-kek", "--keyring-out", str(out)]).exit_code == 0
        with another_worker(app, KEYRING=Keyring.from_json(out.read_text()).to_env()) as new:
            assert new.test_cli_runner().invoke(args=["vault", "rotate-kek"]).exit_code == 0
        result = deliver_mail(old)  # not restarted yet: cannot open the person's key
        assert (result.sent, result.retrying, result.gave_up) == (0, 1, 0)
    [row] = _rows(app)
    assert (row.status, row.last_error) == ("queued", "KeysChanged")


@pytest.mark.parametrize("outbox_name", ["mail", "webhooks"])
def test_a_sender_finds_the_next_due_row_by_its_index_without_sorting_the_queue(
        app, backend, clock, outbox_name):
    """An import of a million records queues a million mails: a claim that sorted every
    queued row took about a second each (migration 0017)."""
    from sqlalchemy import text

    from vault.services import webhooks

    outbox = {"mail": mail_queue.OUTBOX, "webhooks": webhooks.OUTBOX}[outbox_name]
    table = outbox.model.__tablename__
    with app.app_context():
        statement = outbox.next_due(clock()).compile(
            db.engine, compile_kwargs={"literal_binds": True})
        if backend == "sqlite":
            plan = " ".join(row[-1] for row in db.session.execute(
                text(f"EXPLAIN QUERY PLAN {statement}")))
            assert f"ix_{table}_due" in plan and "TEMP B-TREE" not in plan, plan
        else:
            plan = " ".join(row[0] for row in db.session.execute(text(f"EXPLAIN {statement}")))
            assert f"ix_{table}_due" in plan and "Sort" not in plan, plan
