from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.journey import apply
from vault.commands import mail as mail_command
from vault.extensions import db
from vault.models import MailMessage


def _eml_files(app) -> list[Path]:
    folder = Path(app.config["MAIL_OUTBOX"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_send_mail_loop_keeps_running_and_delivering(app, client, runner, monkeypatch):
    """--loop runs until stopped; each round delivers what became due."""
    apply(client)
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        if len(rounds) == 1:
            apply(client, email="later.person@example.org")  # queued between two rounds
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(mail_command, "pause", sleep)
    app.config["MAIL_WORKER_INTERVAL"] = 7
    result = runner.invoke(args=["vault", "send-mail", "--loop"])
    assert rounds == [7, 7]
    assert result.output.count("mail sent: 1") == 2


@pytest.mark.parametrize("loop", [False, True])
def test_a_database_error_stops_one_run_not_the_worker(app, client, runner, monkeypatch, loop):
    from sqlalchemy.exc import OperationalError

    calls = []

    def broken(session):
        calls.append(1)
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    def sleep(seconds):
        if len(calls) > 1:
            raise KeyboardInterrupt  # the operator stops the worker after two rounds

    monkeypatch.setattr(mail_command, "deliver_queued", broken)
    monkeypatch.setattr(mail_command, "pause", sleep)
    result = runner.invoke(args=["vault", "send-mail", *(["--loop"] if loop else [])])
    if loop:
        assert len(calls) == 2 and "delivery run failed (OperationalError)" in result.output
    else:
        assert result.exit_code != 0 and len(calls) == 1


def test_the_retention_job_delivers_what_is_queued(app, client, runner):
    apply(client)
    assert _eml_files(app) == []
    result = runner.invoke(args=["vault", "retention"])
    assert "mail sent: 1" in result.output
    assert len(_eml_files(app)) == 1


def test_send_mail_command_delivers_once(app, client, runner):
    apply(client)
    result = runner.invoke(args=["vault", "send-mail"])
    assert result.exit_code == 0 and "mail sent: 1" in result.output
    assert "mail sent: 0" in runner.invoke(args=["vault", "send-mail"]).output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MailMessage).where(
            MailMessage.status == "sent")) == 1
