from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.journey import apply, make_vacancy
from vault.extensions import db
from vault.monitoring import MailBacklog, register_mail_backlog


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ready_when_database_schema_keys_and_store_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"] == {"database": "ok", "schema": "ok", "key_manager": "skipped",
                              "keys": "ok", "rate_limit_store": "skipped", "mail_backlog": "ok"}


def test_not_ready_when_the_schema_is_behind_the_head_revision(app, client):
    def set_version(value: str) -> str:
        with app.app_context():
            head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": value})
            db.session.commit()
            return head

    head = set_version("older")
    try:
        response = client.get("/readyz")
    finally:
        set_version(head)  # the PostgreSQL database is shared by the whole session
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["schema"]


def test_not_ready_when_the_database_is_unreachable(tmp_path):
    from tests.conftest import _make_app

    app = _make_app(tmp_path, f"postgresql://nobody@127.0.0.1:{_closed_port()}/none")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert {"database", "schema"} <= set(response.get_json()["failed"])
    assert response.get_json()["checks"]["keys"] == "ok"


def test_not_ready_without_keys(app, client):
    app.extensions["vault.keys"] = None
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["keys"]


@pytest.mark.app_config(RATELIMIT_ENABLED=True,
                        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_closed_port()}")
def test_not_ready_when_the_rate_limit_store_is_down(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["rate_limit_store"]
    assert _metric(client.get("/metrics").data.decode(), "vault_rate_limit_store_up") == 0


def test_mail_backlog_hook_fails_readiness_when_too_deep_or_too_old(app, client, clock):
    state = {"depth": 3, "oldest": clock() - timedelta(minutes=5)}
    register_mail_backlog(app, lambda session: MailBacklog(state["depth"], state["oldest"]))
    assert client.get("/readyz").get_json()["checks"]["mail_backlog"] == "ok"
    state["oldest"] = clock() - timedelta(minutes=app.config["READY_MAIL_MAX_AGE_MINUTES"] + 1)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["failed"] == ["mail_backlog"]
    state.update(depth=app.config["READY_MAIL_BACKLOG_MAX"] + 1, oldest=clock())
    assert client.get("/readyz").get_json()["failed"] == ["mail_backlog"]


def test_readiness_answers_even_before_the_vault_is_initialised(app, client):
    app.extensions["vault.missing_secrets"] = ["secret key"]
    response = client.get("/readyz")
    assert response.status_code == 503 and "keys" in response.get_json()["failed"]


def _metric(body: str, name: str) -> float:
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


def test_metrics_count_requests_by_route_template_never_by_path(client):
    client.get("/my-data/SECRET-token-value")
    body = client.get("/metrics").data.decode()
    assert 'route="/my-data/<token>"' in body
    assert "SECRET-token-value" not in body
    assert "vault_http_request_duration_seconds_bucket" in body


def test_metrics_report_applications_erasures_and_retention(app, client, runner, clock):
    before = client.get("/metrics").data.decode()
    assert "vault_retention_last_success_timestamp_seconds" not in before
    slug = make_vacancy(app)
    apply(client, slug)
    result = runner.invoke(args=["vault", "retention"])
    assert result.exit_code == 0, result.output
    from vault.models import Candidate

    with app.app_context():
        public_id = db.session.query(Candidate.public_id).scalar()
    assert runner.invoke(args=["vault", "erase", public_id]).exit_code == 0
    after = client.get("/metrics").data.decode()
    assert _metric(after, "vault_applications_total") == _metric(
        before, "vault_applications_total") + 1
    assert _metric(after, "vault_erasures_total") == _metric(before, "vault_erasures_total") + 1
    assert _metric(after, "vault_retention_last_success_timestamp_seconds") == (
        clock().timestamp())
    assert _metric(after, "vault_database_up") == 1


def test_metrics_report_the_mail_queue_when_it_registers(app, client, clock):
    register_mail_backlog(app, lambda session: MailBacklog(7, clock() - timedelta(seconds=90)))
    body = client.get("/metrics").data.decode()
    assert _metric(body, "vault_mail_queue_depth") == 7
    assert _metric(body, "vault_mail_queue_oldest_age_seconds") == 90


def test_metrics_are_hidden_outside_the_configured_networks(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


@pytest.mark.app_config(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"], PROXY_HOPS=1)
def test_metrics_networks_come_from_configuration_and_the_forwarded_client(client):
    assert client.get("/metrics").status_code == 404
    inside = client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
    assert inside.status_code == 200
    assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 404


@pytest.mark.app_config(METRICS_ALLOWED_NETWORKS="10.0.0.0/8, 192.0.2.0/24", PROXY_HOPS=1)
def test_metrics_networks_may_be_a_comma_separated_list(client):
    assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.9"}).status_code == 200
    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 404


def test_real_mail_queue_backlog_fails_readiness_once_its_oldest_mail_waits_too_long(
        app, client, clock):
    from tests.journey import deliver_mail

    apply(client)  # queues its confirmation mail; nothing delivers it yet
    assert client.get("/readyz").get_json()["checks"]["mail_backlog"] == "ok"
    clock.advance(minutes=app.config["READY_MAIL_MAX_AGE_MINUTES"] + 1)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["failed"] == ["mail_backlog"]
    deliver_mail(app)
    assert client.get("/readyz").status_code == 200
