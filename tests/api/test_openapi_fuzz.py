"""schemathesis against /api/v1/openapi.json, through WSGI: requests generated from the
document (valid and invalid ones) must never meet a server error, and every answer must
match what the document says (status, content type, headers, body schema)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.journey import make_vacancy
from vault.services.api_clients import SCOPES

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Per operation; five operations, some with little to vary: at least 500 cases in all
# (counted below). Bounded: about a minute on one core.
EXAMPLES = 70
SENT: list[str] = []


@pytest.fixture
def backend() -> str:
    # One database is enough to find server errors; the suite runs the endpoints' own
    # tests on both.
    return "sqlite"


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def token(app, make_client) -> str:
    make_vacancy(app)
    return make_client(SCOPES)[1]


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis' lazy loader (4.x) renames the test node through `_nodeid`, which
    # pytest 9 no longer has; give it one so reports name each operation.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
def test_generated_requests_get_no_server_error_and_match_the_document(case, token):
    headers = {"Authorization": f"Bearer {token}"}
    if case.operation.method.upper() == "POST":
        headers["Idempotency-Key"] = (
            case.headers.get("Idempotency-Key", "k") if case.headers else "k"
        )
    case.call_and_validate(headers=headers, checks=CHECKS)
    SENT.append(case.operation.label)


def test_at_least_500_generated_cases_were_sent():
    print("SENT", len(SENT), {label: SENT.count(label) for label in set(SENT)})
    assert len(SENT) >= 500, {label: SENT.count(label) for label in set(SENT)}
