from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.forensics import find_markers
from tests.journey import MARK_CV, MARK_EMAIL, MARK_NAME, apply, make_vacancy, outbox
from vault.appctx import vault_keys
from vault.extensions import db
from vault.models import (
    ApplicationStatistic,
    Candidate,
    Consent,
    RetentionNotice,
    Vacancy,
)
from vault.services import audit
from vault.services.erasure_ledger import FileLedger
from vault.services.holds import hold_reason, set_legal_hold
from vault.services.retention import run_retention


def _run(app, clock, *, dry_run=False, sent=None):
    def send(records, kind, expires_at):
        if sent is not None:
            sent.append((kind, [r.public_id for r in records], expires_at))
        return True

    with app.app_context():
        return run_retention(db.session, now=clock(), config=app.config,
                             ledger=FileLedger(Path(app.config["ERASURE_LEDGER"])), send=send,
                             dry_run=dry_run)


def _count(app, model=Candidate, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _renewal_link(mail) -> str:
    import re

    body = mail.get_payload(decode=True).decode()
    return "/consent/renew/" + re.search(r"/consent/renew/([A-Za-z0-9_.\-]+)", body).group(1)


def test_a_whole_talent_pool_lifecycle(app, client, clock, runner):
    apply(client, consent_talent_pool="y")  # spontaneous, pool consent for 24 months
    with app.app_context():
        until = db.session.scalar(select(Candidate.pool_consent_until))

    clock.current = until - timedelta(days=40)
    assert runner.invoke(args=["vault", "retention"]).exit_code == 0
    assert len(outbox(app)) == 1  # the confirmation only

    clock.current = until - timedelta(days=30)
    result = runner.invoke(args=["vault", "retention"])
    assert "1 reminder-30" in result.output
    runner.invoke(args=["vault", "retention"])  # a re-run sends nothing twice
    assert len(outbox(app)) == 2
    reminder = outbox(app)[-1]
    assert reminder["To"] == MARK_EMAIL and "30 days" in reminder.get_payload(decode=True).decode()

    clock.current = until - timedelta(days=7)
    runner.invoke(args=["vault", "retention"])
    runner.invoke(args=["vault", "retention"])
    assert len(outbox(app)) == 3
    assert _count(app, RetentionNotice) == 2

    # Renewal: a confirmation page (GET changes nothing), then POST extends by 24 months.
    link = _renewal_link(outbox(app)[-1])
    assert b"Stay in the talent pool" in client.get(link).data
    with app.app_context():
        assert db.session.scalar(select(Candidate.pool_consent_until)) == until
    assert b"/2030. We will remind you" in client.post(link).data  # Belgian date
    with app.app_context():
        renewed_until = db.session.scalar(select(Candidate.pool_consent_until))
        assert renewed_until > until + timedelta(days=700)

    # The new expiry gets its own reminders; then it runs out.
    clock.current = renewed_until - timedelta(days=30)
    runner.invoke(args=["vault", "retention"])
    assert len(outbox(app)) == 4
    clock.current = renewed_until + timedelta(hours=1)
    result = runner.invoke(args=["vault", "retention"])
    assert "consents expired: 1" in result.output and "records shredded: 0" in result.output
    with app.app_context():
        assert [c.event for c in db.session.scalars(select(Consent).where(
            Consent.purpose == "talent_pool"))] == ["granted", "renewed", "expired"]

    # Grace: still held for 7 days, then shredded.
    clock.advance(days=6)
    assert "records shredded: 0" in runner.invoke(args=["vault", "retention"]).output
    clock.advance(days=2)
    assert "records shredded: 1" in runner.invoke(args=["vault", "retention"]).output
    assert _count(app) == 0
    with app.app_context():
        [stat] = db.session.scalars(select(ApplicationStatistic)).all()
        assert (stat.source, stat.reason, stat.outcome) == ("spontaneous", "retention",
                                                             "expired")
    assert find_markers(app, [MARK_NAME.encode(), MARK_EMAIL.encode(), MARK_CV.encode()]) == []
    assert runner.invoke(args=["vault", "check"]).exit_code == 0


def test_missed_reminder_window_sends_only_the_most_urgent(app, client, clock):
    apply(client, consent_talent_pool="y")
    with app.app_context():
        until = db.session.scalar(select(Candidate.pool_consent_until))
    clock.current = until - timedelta(days=3)
    sent = []
    _run(app, clock, sent=sent)
    _run(app, clock, sent=sent)
    assert [kind for kind, _ids, _at in sent] == ["reminder-7"]


def test_one_reminder_per_person_however_many_records(app, client, clock):
    apply(client, consent_talent_pool="y")
    apply(client, consent_talent_pool="y")
    with app.app_context():
        until = db.session.scalar(select(Candidate.pool_consent_until))
    clock.current = until - timedelta(days=20)
    sent = []
    _run(app, clock, sent=sent)
    assert len(sent) == 1 and len(sent[0][1]) == 2
    assert _count(app, RetentionNotice) == 2


def test_failed_reminder_is_tried_again_next_run(app, client, clock):
    apply(client, consent_talent_pool="y")
    with app.app_context():
        until = db.session.scalar(select(Candidate.pool_consent_until))
        clock.current = until - timedelta(days=20)
        summary = run_retention(db.session, now=clock(), config=app.config,
                                ledger=FileLedger(Path(app.config["ERASURE_LEDGER"])),
                                send=lambda *a: False)
    assert summary.reminder_failures == 1 and _count(app, RetentionNotice) == 0
    sent = []
    _run(app, clock, sent=sent)
    assert len(sent) == 1


def test_application_data_is_kept_180_days_after_the_vacancy_closes(app, client, clock, runner):
    slug = make_vacancy(app)
    apply(client, slug)
    clock.advance(days=30)
    runner.invoke(args=["vault", "close-vacancy", slug])
    clock.advance(days=179)
    assert _run(app, clock).shredded == 0
    clock.advance(days=2)
    assert _run(app, clock).shredded == 1
    with app.app_context():
        [stat] = db.session.scalars(select(ApplicationStatistic)).all()
        vacancy = db.session.scalar(select(Vacancy))
        assert (stat.vacancy_id, stat.company) == (vacancy.id, "Ingenium")


def test_live_pool_consent_keeps_a_closed_application(app, client, clock, runner):
    slug = make_vacancy(app)
    apply(client, slug, consent_talent_pool="y")
    runner.invoke(args=["vault", "close-vacancy", slug])
    clock.advance(days=200)
    assert _run(app, clock).shredded == 0 and _count(app) == 1


def test_withdrawn_pool_consent_leaves_only_the_application_retention(app, client, clock):
    apply(client, consent_talent_pool="y")
    with app.app_context():
        from vault.services import consent

        record = db.session.scalar(select(Candidate))
        consent.withdraw_pool_consent(db.session, record, notice_version="t", source="test",
                                      now=clock())
        db.session.commit()
    clock.advance(days=181)
    assert _run(app, clock).shredded == 1


def test_legal_hold_suspends_shredding(app, client, clock):
    apply(client)
    with app.app_context():
        record = db.session.scalar(select(Candidate))
        set_legal_hold(db.session, vault_keys(), record, "Court case 2026/17",
                       now=clock(), actor=audit.Actor("user", 1, "admin"))
        db.session.commit()
        assert hold_reason(vault_keys(), record) == "Court case 2026/17"
    clock.advance(days=400)
    summary = _run(app, clock)
    assert (summary.shredded, summary.held) == (0, 1) and _count(app) == 1
    assert find_markers(app, [b"Court case 2026/17"]) == []
    with app.app_context():
        record = db.session.scalar(select(Candidate))
        set_legal_hold(db.session, vault_keys(), record, None, now=clock(),
                       actor=audit.Actor("user", 1, "admin"))
        db.session.commit()
    assert _run(app, clock).shredded == 1


def test_dry_run_changes_and_sends_nothing(app, client, clock, runner):
    apply(client, consent_talent_pool="y")
    apply(client, email="short@example.org")
    with app.app_context():
        until = db.session.scalar(select(func.max(Candidate.pool_consent_until)))
    clock.current = until - timedelta(days=10)
    before = (_count(app), _count(app, Consent), _count(app, RetentionNotice), len(outbox(app)))
    result = runner.invoke(args=["vault", "retention", "--dry-run"])
    assert result.exit_code == 0
    assert "reminders due: 1 reminder-30" in result.output
    assert "records due for shredding: 1" in result.output
    assert (_count(app), _count(app, Consent), _count(app, RetentionNotice),
            len(outbox(app))) == before


def test_a_data_link_does_not_renew_and_an_expired_renewal_link_changes_nothing(
        app, client, clock):
    from tests.journey import link_in

    apply(client, consent_talent_pool="y")
    data_link = link_in(outbox(app)[0])
    before = _count(app, Consent)
    wrong_purpose = client.post(data_link.replace("/my-data/", "/consent/renew/"))
    assert wrong_purpose.status_code == 404
    with app.app_context():
        until = db.session.scalar(select(Candidate.pool_consent_until))
    clock.current = until - timedelta(days=20)
    _run(app, clock)
    with app.app_context():
        from vault.personal_links import renewal_url

        with app.test_request_context():
            link = renewal_url(db.session.scalar(select(Candidate.public_id)))
    clock.advance(days=31)
    assert client.post(link.split("5000", 1)[1]).status_code == 410
    assert _count(app, Consent) == before


def test_withdrawn_consent_cannot_be_renewed_by_an_old_link(app, client, clock):
    from tests.journey import link_in
    from vault.personal_links import renewal_url

    apply(client, consent_talent_pool="y")
    with app.app_context(), app.test_request_context():
        link = renewal_url(db.session.scalar(select(Candidate.public_id))).split("5000", 1)[1]
    client.post(link_in(outbox(app)[0]) + "/withdraw")
    response = client.post(link)
    assert response.status_code == 409 and b"withdrawn" in response.data
    with app.app_context():
        assert db.session.scalar(select(Candidate.pool_consent_until)) is None
