"""Refusal codes of the upload inspection and their words (vault/upload_reasons.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vault.extraction import UploadRejected
from vault.sandbox import child_environment
from vault.upload_reasons import FALLBACK, REFUSALS, refusal_reason

ROOT = Path(__file__).resolve().parent.parent


def _raised_codes() -> set[str]:
    codes = set()
    for module in ("extraction.py", "uploads.py", "sandbox.py"):
        source = (ROOT / "vault" / module).read_text()
        codes |= set(re.findall(r'UploadRejected\("([a-z_]+)"\)', source))
    return codes | {"too_heavy"}


def test_every_code_raised_has_words():
    codes = _raised_codes()
    assert len(codes) > 15  # the scan found the raises
    assert codes <= set(REFUSALS), sorted(codes - set(REFUSALS))


def test_an_unknown_code_is_still_a_refusal_in_words():
    assert refusal_reason("no-such-code") == str(REFUSALS[FALLBACK])
    assert UploadRejected("pdf_active").code == "pdf_active"


@pytest.mark.parametrize(("language", "words"), [
    ("fr", "les fichiers PDF chiffrés ne sont pas acceptés"),
    ("nl", "versleutelde PDF-bestanden worden niet aanvaard"),
    ("en", "encrypted PDF files are not accepted"),
])
def test_the_reason_is_worded_in_the_language_of_the_request(app, language, words):
    with app.test_request_context(f"/?lang={language}"):
        assert UploadRejected("pdf_encrypted").reason == words


def test_the_inspecting_child_imports_no_flask():
    # What the child runs (python -m vault.sandbox) imports: vault.sandbox and, inside
    # _child, vault.extraction's parsers; the zygote imports these ahead (ZYGOTE_MODULES).
    # None may pull in Flask or Flask-Babel.
    probe = ("import sys, json, importlib, vault.sandbox, vault.extraction\n"
             "from vault.extraction import inspect_docx, inspect_pdf\n"
             "for name in vault.sandbox.ZYGOTE_MODULES: importlib.import_module(name)\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('flask', 'flask_babel', 'babel', 'werkzeug', 'jinja2'))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, cwd=ROOT, env=child_environment())
    assert json.loads(result.stdout) == []
