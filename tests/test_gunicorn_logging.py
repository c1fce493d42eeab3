from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from vault.gunicorn_logging import JsonLogger
from vault.logging_setup import ENVIRON_KEY

RAW = {"REQUEST_METHOD": "GET", "RAW_URI": "/my-data/tok.en.sig?q=Peeters",
       "PATH_INFO": "/my-data/tok.en.sig", "QUERY_STRING": "q=Peeters",
       "HTTP_REFERER": "https://vault.example/my-data/tok.en.sig"}


@pytest.fixture
def output() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def logger(output) -> JsonLogger:
    config = Config()
    config.set("accesslog", "-")
    config.set("errorlog", "-")
    logger = JsonLogger(config)
    for handler in logger.error_log.handlers + logger.access_log.handlers:
        handler.setStream(output)
    return logger


def _lines(output: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in output.getvalue().splitlines()]


def test_access_line_is_the_apps_route_template_never_the_raw_path(logger, output):
    fields = {"request_id": "abcd1234abcd", "method": "GET", "route": "/my-data/<token>",
              "user_id": None}
    response = SimpleNamespace(status_code=200, sent=512, status="200 OK", headers=[])
    logger.access(response, None, {**RAW, ENVIRON_KEY: fields}, timedelta(milliseconds=12))
    [line] = _lines(output)
    assert line["route"] == "/my-data/<token>" and line["request_id"] == "abcd1234abcd"
    assert line["status"] == 200 and line["duration_ms"] == 12 and line["bytes"] == 512
    assert "tok.en" not in json.dumps(line) and "Peeters" not in json.dumps(line)


def test_request_the_app_never_saw_is_logged_without_its_path(logger, output):
    response = SimpleNamespace(status_code=400, sent=0, status="400 Bad Request", headers=[])
    logger.access(response, None, dict(RAW), timedelta(milliseconds=1))
    [line] = _lines(output)
    assert line["route"] == "<not routed>" and line["method"] == "GET"
    assert "tok.en" not in json.dumps(line) and "Peeters" not in json.dumps(line)


def test_error_lines_are_json_and_redacted(logger, output):
    logger.error("Invalid request from ip=192.0.2.1: bad line 'GET /consent/renew/tok.en.sig"
                 "?q=Peeters HTTP/1.1'")
    [line] = _lines(output)
    assert line["level"] == "ERROR" and line["logger"] == "gunicorn.error"
    assert "tok.en" not in line["message"] and "Peeters" not in line["message"]
