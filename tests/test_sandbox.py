"""Hard limits of the inspecting child process (security review: PDF text extraction
as a denial of service)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import files
from vault.messages import message
from vault.sandbox import MiB, child_environment
from vault.uploads import Limits, TooHeavy, inspect_upload

ROOT = Path(__file__).resolve().parent.parent

MEASURE = """
import json, resource, sys, time
from tests import files
from vault.uploads import UploadRejected, inspect_upload
content = files.pdf_flate_bomb()
started = time.monotonic()
try:
    inspect_upload(content, "cv.pdf")
    reason = None
except UploadRejected as exc:
    reason = exc.reason
print(json.dumps({"reason": reason, "seconds": time.monotonic() - started,
                  "child_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def test_flate_bomb_pdf_is_refused_within_3_seconds_and_200_mb():
    # Measured in a fresh interpreter: RUSAGE_CHILDREN then holds only the inspection
    # child (and its children), the peak a single upload can cost the machine.
    result = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, check=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    measured = json.loads(result.stdout)
    assert measured["reason"] == message("upload_too_heavy")
    assert measured["seconds"] < 3.0
    assert measured["child_kib"] < 200 * 1024


def test_many_streams_each_under_the_cap_are_refused_together():
    with pytest.raises(TooHeavy):
        inspect_upload(files.pdf_with_many_inflating_streams(), "cv.pdf")


def test_inspection_past_its_wall_clock_limit_is_killed_and_refused():
    started = time.monotonic()
    with pytest.raises(TooHeavy):
        inspect_upload(files.pdf_with_text(), "cv.pdf", limits=Limits(wall_s=0.05))
    assert time.monotonic() - started < 1.0


def test_inspection_past_its_memory_limit_is_refused():
    # 40 MiB of address space is less than the interpreter and the PDF parser need.
    with pytest.raises(TooHeavy):
        inspect_upload(files.pdf_with_text(), "cv.pdf", limits=Limits(memory_bytes=40 * MiB))


def test_the_inspection_child_gets_no_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("VAULT_KEYRING", "secret-keyring-marker")
    environment = child_environment()
    assert "VAULT_KEYRING" not in environment
    assert "secret-keyring-marker" not in json.dumps(environment)


def test_ocr_cut_off_by_the_wall_clock_keeps_the_file_accepted_without_text(monkeypatch):
    # The child's OCR answer is cut mid-line by the kill: the verdict before it stands.
    def cut_off(*args, **kwargs):
        return b'{"text": "", "ocr": true}\n{"ocr_text": "Kube'

    monkeypatch.setattr(subprocess.Popen, "communicate", lambda self, *a, **k: (cut_off(), b""))
    doc = inspect_upload(files.pdf_scan(), "scan.pdf")
    assert doc.has_text is False and doc.text == ""
