"""Fixtures of the browser tests: Debian's Chromium through pytest-playwright, against the
app over HTTPS with its production settings (Secure cookies, HSTS, the CSRF origin check).

pytest-playwright gives `browser` (one per session), `context` and `page` (one per test);
here `browser_type_launch_args` points it at /usr/bin/chromium (never a downloaded build)
and `base_url` at the session's one TLS server (tests/e2e/server.py), on which each test
mounts its own app. Without Chromium or axe-core the tests skip, saying how to get them;
in CI (CI=true) such a skip is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser import BROWSER_CONFIG
from tests.e2e.server import TLSServer

HERE = Path(__file__).resolve().parent
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p),
                None)
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
HOW_TO_RUN = ("apt-get install chromium nodejs npm, then `make install` (it runs "
              "`npm ci` in tests/e2e for axe-core) and `make test`")
# The language of a test (a context's locale, so its Accept-Language): parametrize `lang`.
LOCALES = {"en": "en-GB", "nl": "nl-BE", "fr": "fr-BE"}


def require(condition: bool, reason: str) -> None:
    if not condition:
        pytest.skip(f"{reason}: {HOW_TO_RUN}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.app_config(**BROWSER_CONFIG))
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """In CI a browser test that skipped did not prove anything: count it as failed
    (an expected failure, xfail, stays what it is)."""
    report = yield
    if (os.environ.get("CI") == "true" and report.skipped
            and not hasattr(report, "wasxfail") and item.path.is_relative_to(HERE)):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where the browser tests must run: {report.longrepr}"
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if "tests/e2e/" in r.nodeid]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} browser tests (tests/e2e) skipped: to run them, {HOW_TO_RUN}.",
            yellow=True)


@pytest.fixture
def backend() -> str:
    # The journeys prove pages, TLS and the browser; every service below them runs on
    # PostgreSQL too in the rest of the suite. Running them twice would double the
    # slowest part of CI for no new evidence.
    return "sqlite"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, whatever Playwright's own download would be (none is)."""
    require(CHROMIUM is not None, "Debian's Chromium is not installed")
    # Root in CI and containers: Chromium refuses to start its sandbox as root.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture(scope="session")
def tls_server() -> Iterator[TLSServer]:
    server = TLSServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(tls_server: TLSServer) -> str:
    return tls_server.base


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # The certificate is a throw-away self-signed one; the pages are still a secure
    # (https://) context, so Secure cookies and HSTS apply as in production.
    return {**browser_context_args, "ignore_https_errors": True}


@pytest.fixture
def lang() -> str:
    return "en"


@pytest.fixture
def context(new_context: Any, lang: str) -> Any:
    return new_context(locale=LOCALES[lang])


@pytest.fixture
def served(app: Flask, tls_server: TLSServer) -> Iterator[str]:
    """This test's app on the session's TLS server; its base URL."""
    with tls_server.mounted(app) as base:
        yield base


@pytest.fixture(scope="session")
def axe_source() -> str:
    require(AXE.exists(), "axe-core is not installed in tests/e2e/node_modules")
    return AXE.read_text()


@pytest.fixture(scope="session")
def audit_log() -> Path:
    """What axe-core and the overflow check found on each page, this run only."""
    from tests.e2e.site import SHOTS

    log = SHOTS / "audit.jsonl"
    log.unlink(missing_ok=True)
    return log


@pytest.fixture
def site(page: Any, lang: str, served: str, axe_source: str, subtests: Any,
         audit_log: Path, request: pytest.FixtureRequest) -> Any:
    """The page of a journey: axe-core is in every document it loads. An init script
    (DevTools' "evaluate on new document") is not subject to the page's CSP, so the
    app's strict CSP stays exactly as in production (no bypass_csp) and is exercised by
    every journey."""
    from tests.e2e.site import Site

    page.context.add_init_script(script=axe_source)
    # A missing element fails in seconds, not Playwright's default 30.
    page.set_default_timeout(10_000)
    return Site(page=page, lang=lang, base=served, test=request.node.name, subtests=subtests)
