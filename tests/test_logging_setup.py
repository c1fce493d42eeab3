from __future__ import annotations

import logging

from vault.logging_setup import RedactingFilter, redact


def test_personal_link_token_is_redacted_from_request_lines():
    line = '"GET /my-data/eyJwIjoiYWJjIn0.Zx1.sig/export.zip HTTP/1.1" 200 -'
    assert "eyJwIjoiYWJjIn0" not in redact(line)
    assert "/my-data/…/export.zip" in redact(line)


def test_query_strings_are_dropped_from_log_lines():
    assert "Peeters" not in redact('"GET /candidates?q=Anna+Peeters HTTP/1.1" 200')


def test_filter_redacts_arguments_of_werkzeug_records():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - "%s" %s',
                               ("127.0.0.1", "GET /my-data/secret-token HTTP/1.1", "200"), None)
    RedactingFilter().filter(record)
    assert "secret-token" not in record.getMessage()
