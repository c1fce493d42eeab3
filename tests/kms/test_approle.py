"""Transit with an AppRole login (role_id + secret_id) against a real OpenBao: a policy
limited to the vault's two Transit keys, token renewal, a new login when the token is
refused or reaches its maximum TTL, and a clear error for a bad secret_id."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hvac.exceptions
import pytest
from flask import Flask

from tests.journey import apply, make_vacancy
from tests.kms.bao import BaoServer
from tests.services.test_candidates import get, make
from vault import create_app
from vault.appctx import vault_keys
from vault.crypto import new_data_key
from vault.crypto.kek_backend import KeyManagerUnavailable
from vault.crypto.transit import AppRoleLogin, TransitKekBackend
from vault.extensions import db
from vault.services.candidates import open_candidate

pytestmark = pytest.mark.parametrize("kek", ["transit"], indirect=True)

# What the vault needs on its two keys, and nothing on any other key or path.
POLICY = """
path "transit/+/{key}" {{ capabilities = ["create", "read", "update"] }}
path "transit/+/{key}/*" {{ capabilities = ["update"] }}
"""


def _policy(bao: BaoServer, keys: list[str]) -> str:
    client = bao.client()
    if "approle/" not in client.sys.list_auth_methods()["data"]:
        try:
            client.sys.enable_auth_method("approle")
        except hvac.exceptions.InvalidRequest:
            pass  # enabled meanwhile (one server per session)
    name = f"vault-{secrets.token_hex(4)}"
    client.sys.create_or_update_policy(name, "".join(POLICY.format(key=k) for k in keys))
    return name


def _role(bao: BaoServer, policy: str, **settings: Any) -> tuple[str, Callable[..., str]]:
    """(role_id, a maker of secret_ids) for a new role with only `policy`."""
    client = bao.client()
    role = f"vault-{secrets.token_hex(4)}"
    client.auth.approle.create_or_update_approle(role, token_policies=[policy], **settings)
    role_id = client.auth.approle.read_role_id(role)["data"]["role_id"]

    def secret_id(**fields: Any) -> str:
        answer = client.adapter.post(f"/v1/auth/approle/role/{role}/secret-id", json=fields)
        return str(answer["data"]["secret_id"])

    return str(role_id), secret_id


def _write_private(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def _approle_app(app: Flask, bao: BaoServer, tmp_path: Path,
                 settings: dict[str, Any] | None = None, **role: Any) -> Flask:
    """The same vault (keys made with the root token by the fixture), now logging in
    with AppRole: role_id and secret_id from files, no token anywhere."""
    policy = _policy(bao, [app.config["TRANSIT_KEY"], app.config["TRANSIT_ROOTS_KEY"]])
    role_id, secret_id = _role(bao, policy, **role)
    config = {
        **app.config,
        "TRANSIT_TOKEN": None,
        "TRANSIT_ROLE_ID_FILE": _write_private(tmp_path / "role_id", role_id),
        "TRANSIT_SECRET_ID_FILE": _write_private(tmp_path / "secret_id", secret_id()),
        **(settings or {}),
    }
    approle = create_app(config, instance_path=app.instance_path)
    approle.extensions["test.secret_id"] = secret_id
    return approle


@pytest.fixture
def logins(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per AppRole login attempt of any app in the test (answered or not)."""
    made: list[int] = []
    real_login = AppRoleLogin.__call__
    monkeypatch.setattr(
        AppRoleLogin, "__call__", lambda self, client: made.append(1) or real_login(self, client)
    )
    return made


def _connection(app: Flask) -> Any:
    with app.app_context():
        return vault_keys().manager.connection


def test_app_logs_in_with_approle_and_its_policy_covers_every_key_operation(
    app, bao, clock, tmp_path
):
    approle = _approle_app(app, bao, tmp_path)
    assert bao.token not in repr(_connection(approle))
    ids = [make(approle, clock, email=f"p{i}@example.org") for i in range(2)]
    runner = approle.test_cli_runner()
    for command in (["vault", "rotate-kek"], ["vault", "retire-kek", "1"], ["vault", "check"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    with approle.app_context():
        keys = vault_keys()
        assert keys.kek.versions == [2]
        assert all(open_candidate(keys, get(pid)).email for pid in ids)
        # The policy is the vault's two keys only: another key is refused.
        other = TransitKekBackend(keys.manager.connection, "someone-elses-key")
        with pytest.raises(KeyManagerUnavailable):
            other.wrap([(new_data_key(), "p")])
    with approle.app_context():
        db.engine.dispose()


def test_a_revoked_token_is_replaced_by_a_new_login(app, bao, clock, tmp_path, logins):
    approle = _approle_app(app, bao, tmp_path)
    public_id = make(approle, clock)
    connection = _connection(approle)
    logins.clear()
    old_token = connection.client.token
    bao.client().auth.token.revoke(old_token)
    with approle.app_context():
        assert open_candidate(vault_keys(), get(public_id)).email
    assert len(logins) == 1 and connection.client.token != old_token
    with approle.app_context():
        db.engine.dispose()


def test_calls_refused_with_the_same_revoked_token_log_in_once(
    app, bao, clock, tmp_path, logins
):
    approle = _approle_app(app, bao, tmp_path)
    public_id = make(approle, clock)
    connection = _connection(approle)
    logins.clear()
    old_token = connection.client.token
    bao.client().auth.token.revoke(old_token)
    # Three threads whose calls were refused with the revoked token, one after another.
    assert all(connection.refused(old_token) == "retry" for _ in range(3))
    assert len(logins) == 1 and connection.client.token != old_token
    with approle.app_context():
        assert open_candidate(vault_keys(), get(public_id)).email
    assert len(logins) == 1
    with approle.app_context():
        db.engine.dispose()


def test_token_is_renewed_then_replaced_by_a_login_at_its_max_ttl(app, bao, tmp_path, logins):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    renewable = _approle_app(app, bao, tmp_path / "a", token_ttl="6s", token_max_ttl="60s")
    capped = _approle_app(app, bao, tmp_path / "b", token_ttl="6s", token_max_ttl="6s")
    tokens = {}
    for name, each in (("renewable", renewable), ("capped", capped)):
        assert _ready(each)
        tokens[name] = _connection(each).client.token
    assert len(logins) == 2
    time.sleep(4.2)  # past two thirds of the 6 s lease, with room for the slack above
    assert _ready(renewable) and _ready(capped)
    # The renewable token was renewed (same token, no login); the capped one could not
    # be renewed for long, so a new login replaced it before it expired.
    assert _connection(renewable).client.token == tokens["renewable"]
    assert _connection(capped).client.token != tokens["capped"]
    assert len(logins) == 3
    for each in (renewable, capped):
        with each.app_context():
            db.engine.dispose()


def test_a_renewal_that_gets_no_answer_is_a_503_not_a_new_login(
    app, bao, clock, tmp_path, logins
):
    approle = _approle_app(app, bao, tmp_path, {"TRANSIT_TIMEOUT_SECONDS": 0.5},
                           token_ttl="9s", token_max_ttl="60s")
    public_id = make(approle, clock)
    token = _connection(approle).client.token
    logins.clear()
    time.sleep(6.2)  # past two thirds of the 9 s lease: the next call renews first
    bao.pause()
    try:
        with approle.app_context(), pytest.raises(KeyManagerUnavailable,
                                                  match="did not answer"):
            open_candidate(vault_keys(), get(public_id))
    finally:
        bao.resume()
    # No login against a server that does not answer (a second timeout per request,
    # and a token that is still valid thrown away).
    assert logins == []
    # Once it answers the same token is renewed.
    assert _ready(approle)
    assert _connection(approle).client.token == token and logins == []
    with approle.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("lookup_self", ["allowed", "not allowed"])
def test_a_call_its_policy_refuses_does_not_log_in_on_every_request(
    app, bao, tmp_path, logins, lookup_self
):
    # Without the default policy the token may not look itself up: then one login tells
    # a policy refusal from a dead token.
    role = {"token_no_default_policy": True} if lookup_self == "not allowed" else {}
    approle = _approle_app(app, bao, tmp_path, **role)
    assert _ready(approle)
    connection = _connection(approle)
    logins.clear()
    other = TransitKekBackend(connection, "someone-elses-key")
    for _ in range(5):
        with pytest.raises(KeyManagerUnavailable, match="policy does not allow"):
            other.wrap([(new_data_key(), "p")])
    assert len(logins) == (0 if lookup_self == "allowed" else 1)
    assert _ready(approle)  # the vault's own keys still serve
    with approle.app_context():
        db.engine.dispose()


def test_a_token_file_is_read_again_when_it_changes(app, bao, clock, tmp_path):
    root = bao.client()
    policy = _policy(bao, [app.config["TRANSIT_KEY"], app.config["TRANSIT_ROOTS_KEY"]])

    def new_token() -> str:
        return str(root.auth.token.create(policies=[policy], ttl="1h")["auth"]["client_token"])

    first = new_token()
    token_file = tmp_path / "token"
    _write_private(token_file, first)
    from_file = create_app({**app.config, "TRANSIT_TOKEN": None,
                            "TRANSIT_TOKEN_FILE": str(token_file)},
                           instance_path=app.instance_path)
    public_id = make(from_file, clock)
    # An agent replaces the token in its sink, and the old one is revoked.
    second = new_token()
    _write_private(token_file, second)
    root.auth.token.revoke(first)
    with from_file.app_context():
        assert open_candidate(vault_keys(), get(public_id)).email
    assert _connection(from_file).client.token == second
    with from_file.app_context():
        db.engine.dispose()


def test_a_worker_revokes_its_approle_token_when_it_exits(app, bao, tmp_path):
    policy = _policy(bao, [app.config["TRANSIT_KEY"]])
    role_id, secret_id = _role(bao, policy)
    script = (
        "import os\n"
        "from vault.crypto.transit import AppRoleLogin, TransitConnection, "
        "environment_read_once\n"
        "connection = TransitConnection(environment_read_once(os.environ['ADDR'], None, 5),\n"
        "    AppRoleLogin(os.environ['ROLE_ID'], lambda: os.environ['SECRET_ID']))\n"
        "connection.ensure_token()\n"
        "print(connection.client.token)\n"
    )
    env = {**os.environ, "ADDR": bao.url, "ROLE_ID": role_id, "SECRET_ID": secret_id()}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    token = done.stdout.strip()
    assert token
    with pytest.raises(hvac.exceptions.VaultError):
        bao.client().auth.token.lookup(token)


def _ready(app: Flask) -> bool:
    return app.test_client().get("/readyz").status_code == 200


@pytest.mark.parametrize("secret", ["wrong", "expired"])
def test_bad_secret_id_is_a_clear_503_and_command_error_never_a_traceback(
    app, bao, tmp_path, secret
):
    approle = _approle_app(app, bao, tmp_path)
    mint = approle.extensions["test.secret_id"]
    bad = secrets.token_hex(16) if secret == "wrong" else mint(ttl="1s")
    if secret == "expired":
        time.sleep(1.5)
    broken = create_app(
        {**approle.config, "TRANSIT_SECRET_ID_FILE": None, "TRANSIT_SECRET_ID": bad},
        instance_path=app.instance_path,
    )
    # It starts (the key manager may only be unreachable for a while)...
    slug = make_vacancy(app)
    client = broken.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "key_manager" in ready.get_json()["failed"]
    page = apply(client, slug, email="anna@example.org")
    assert page.status_code == 503 and "Traceback" not in page.data.decode()
    # ...and the operator is told exactly what to do.
    result = broken.test_cli_runner().invoke(args=["vault", "check"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "refused the AppRole login" in result.output
    assert "issue a new secret_id" in result.output
    assert bad not in result.output
    for each in (approle, broken):
        with each.app_context():
            db.engine.dispose()


def test_approle_settings_are_read_from_the_environment_or_files_never_argv(app, bao, tmp_path):
    approle = _approle_app(app, bao, tmp_path)
    role_id = Path(approle.config["TRANSIT_ROLE_ID_FILE"]).read_text()
    secret_id = approle.extensions["test.secret_id"]()
    env = {
        "VAULT_KEK_BACKEND": "transit",
        "VAULT_TRANSIT_ADDR": bao.url,
        "VAULT_TRANSIT_ROLE_ID": role_id,
        "VAULT_TRANSIT_SECRET_ID": secret_id,
    }
    from vault.kek_settings import manager_backends

    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        from_env = Flask("settings")
        from_env.config.from_prefixed_env("VAULT")
    manager, _ = manager_backends(
        {**from_env.config, "TRANSIT_KEY": app.config["TRANSIT_KEY"]}, "transit"
    )
    assert manager.connection.login is not None  # AppRole, not a token
    assert manager.versions == [1]
    missing = {k: v for k, v in from_env.config.items() if k != "TRANSIT_SECRET_ID"}
    from vault.crypto import KeyringError

    with pytest.raises(KeyringError, match="VAULT_TRANSIT_SECRET_ID or VAULT_TRANSIT_"):
        manager_backends(missing, "transit")
    with approle.app_context():
        db.engine.dispose()
