"""deploy/ and gunicorn.conf.py agree with the app's settings (fast: no server started)."""

from __future__ import annotations

import configparser
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stack.servers import IN_CI
from vault import REPO_ROOT
from vault.config import DEFAULTS

DEPLOY = REPO_ROOT / "deploy"
SITE = (DEPLOY / "nginx" / "vault.conf").read_text()
UNITS = DEPLOY / "systemd"
HARDENING = {
    "User": "vault", "Group": "vault", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "RestrictSUIDSGID": "yes", "CapabilityBoundingSet": "", "UMask": "0077",
}


def _env_example() -> dict[str, str]:
    lines = (DEPLOY / "vault.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser


def _size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_nginx_body_limit_is_the_apps_upload_limit():
    limits = re.findall(r"client_max_body_size\s+(\S+);", SITE)
    assert limits and {_size(v) for v in limits} == {DEFAULTS["MAX_CONTENT_LENGTH"]}
    assert int(_env_example()["VAULT_MAX_CONTENT_LENGTH"]) == DEFAULTS["MAX_CONTENT_LENGTH"]


def test_nginx_forwards_one_hop_as_the_app_is_configured_to_trust():
    assert _env_example()["VAULT_PROXY_HOPS"] == "1"
    # Replaced, not appended: what a client claims in X-Forwarded-For never reaches the app.
    assert re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", SITE) == ["$remote_addr"]
    assert re.findall(r"proxy_set_header\s+X-Forwarded-Proto\s+(\S+);", SITE) == ["$scheme"]


def test_nginx_logs_no_path_query_or_referrer():
    formats = re.findall(r"log_format\s+(\w+)[^;]*;", SITE, re.S)
    body = re.search(r"log_format\s+vault_redacted(.*?);", SITE, re.S).group(1)
    leaking = re.findall(r"\$(?:request|request_uri|uri|args|query_string|http_referer)\b"
                         r"|\$arg_\w+", body)
    assert leaking == []
    assert "$request_id" in body and "$status" in body
    assert formats == ["vault_redacted"]
    assert {line.split()[-1] for line in re.findall(r"access_log\s+[^;]+", SITE)} == {
        "vault_redacted"}
    assert set(re.findall(r"error_log\s+\S+\s+(\w+);", SITE)) == {"crit"}


def test_nginx_sends_hsts_on_every_answer():
    assert re.search(r'add_header\s+Strict-Transport-Security\s+"max-age=\d+[^"]*"\s+always;',
                     SITE)
    assert "proxy_hide_header Strict-Transport-Security;" in SITE


def test_every_service_runs_sandboxed_as_the_vault_user():
    for path in UNITS.glob("*.service"):
        service = _unit(path.name)["Service"]
        for key, value in HARDENING.items():
            assert service.get(key) == value, (path.name, key)
        assert service["EnvironmentFile"] == "/etc/vault/vault.env"


def test_each_job_has_a_timer_and_runs_its_command():
    assert {p.stem for p in UNITS.glob("*.timer")} == {"vault-retention", "vault-mail",
                                                       "vault-webhooks"}
    for stem in ("vault-retention", "vault-mail", "vault-webhooks"):
        assert (UNITS / f"{stem}.service").exists()
        assert _unit(f"{stem}.service")["Service"]["Type"] == "oneshot"
        assert _unit(f"{stem}.timer")["Timer"]
    assert _unit("vault-retention.service")["Service"]["ExecStart"].endswith("vault retention")
    assert _unit("vault-mail.service")["Service"]["ExecStart"].endswith("vault send-mail")
    assert _unit("vault-webhooks.service")["Service"]["ExecStart"].endswith(
        "vault send-webhooks")
    app = _unit("vault.service")["Service"]
    assert app["ExecStart"].endswith("gunicorn -c /srv/vault/gunicorn.conf.py")
    assert app["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    assert _unit("vault-migrate.service")["Service"]["ExecStart"].endswith("vault db upgrade")


def test_units_pass_systemd_analyze(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if IN_CI:
            pytest.fail("systemd-analyze is required in CI (.ci/run installs systemd)")
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    bin_dir = Path(sys.executable).parent
    for path in UNITS.iterdir():
        text = path.read_text().replace("/srv/vault/.venv/bin", str(bin_dir))
        (tmp_path / path.name).write_text(text.replace("/srv/vault", str(REPO_ROOT)))
    units = sorted(str(p) for p in tmp_path.iterdir())
    result = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True,
                            text=True, cwd=tmp_path, timeout=60)
    # Unknown or misspelt keys are reported (and ignored by systemd): none may be.
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "send-mail" not in line]
    assert result.returncode == 0 and problems == [], problems


@pytest.fixture
def gunicorn_settings(monkeypatch, tmp_path) -> dict:
    for name in ("GUNICORN_WORKERS", "GUNICORN_BIND", "GUNICORN_TIMEOUT", "VAULT_REQUEST_LOG"):
        monkeypatch.delenv(name, raising=False)
    # The file sets these for the workers it forks; this test process must keep its own.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.setenv("VAULT_REQUEST_LOG", "app")
    monkeypatch.setenv("PORT", "8123")
    return runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))


def test_gunicorn_workers_follow_the_cores_and_the_port(gunicorn_settings):
    import os

    assert gunicorn_settings["workers"] == 2 * len(os.sched_getaffinity(0)) + 1
    assert gunicorn_settings["bind"] == ["127.0.0.1:8123"]
    assert gunicorn_settings["timeout"] > 0 and gunicorn_settings["graceful_timeout"] > 0
    assert gunicorn_settings["preload_app"] is False  # a HUP reload loads new code


def test_gunicorn_access_log_never_holds_the_path_or_query(gunicorn_settings):
    assert gunicorn_settings["logger_class"] == "vault.gunicorn_logging.JsonLogger"
    fmt = gunicorn_settings["access_log_format"]
    for atom in ("%(r)s", "%(U)s", "%(q)s", "%(f)s", "{raw_uri}e", "{query_string}e"):
        assert atom not in fmt, atom
    # Forwarded headers are the app's to interpret (PROXY_HOPS), not gunicorn's as well.
    assert gunicorn_settings["secure_scheme_headers"] == {}
