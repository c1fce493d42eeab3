from __future__ import annotations

import io
import os
import tempfile

import pytest
from flask import Flask, request

from tests import files
from vault.upload_stream import VaultRequest
from vault.uploads import DOCX, PDF, UploadRejected, inspect_upload, safe_original_name


def test_valid_pdf_is_accepted_with_its_text():
    doc = inspect_upload(files.pdf_with_text("Rust and Kafka expert"), "Anna CV.pdf")
    assert (doc.media_type, doc.extension, doc.filename) == (PDF, "pdf", "Anna CV.pdf")
    assert "Rust and Kafka expert" in doc.text and doc.has_text


def test_valid_docx_is_accepted_with_its_text():
    doc = inspect_upload(files.docx_with_text("Line one\nKubernetes operator"), "cv.docx")
    assert (doc.media_type, doc.extension) == (DOCX, "docx")
    assert "Kubernetes operator" in doc.text and doc.has_text


def test_scanned_pdf_is_accepted_and_marked_as_without_text():
    doc = inspect_upload(files.pdf_scan(), "scan.pdf")
    assert doc.has_text is False and doc.text.strip() == ""


@pytest.mark.parametrize("build, name, reason", [
    (files.pdf_with_javascript, "cv.pdf", "scripts"),
    (files.pdf_with_hex_encoded_javascript, "cv.pdf", "scripts"),
    (files.pdf_with_open_action, "cv.pdf", "actions"),
    (files.pdf_with_launch, "cv.pdf", "actions"),
    (files.pdf_with_embedded_file, "cv.pdf", "attachments"),
    (files.docx_zip_bomb, "cv.docx", "too much data"),
    (files.docx_with_many_entries, "cv.docx", "too many parts"),
    (files.docx_nested_archive, "cv.docx", "embedded archives"),
    (files.docx_with_macros, "cv.docx", "macros"),
    (files.docx_with_xxe, "cv.docx", "XML"),
    (files.docx_billion_laughs, "cv.docx", "XML"),
    (files.zip_named_pdf, "cv.pdf", "only PDF and DOCX"),
    (files.html_named_pdf, "cv.pdf", "only PDF and DOCX"),
    (files.png_named_pdf, "cv.pdf", "only PDF and DOCX"),
    (lambda: b"", "cv.pdf", "empty"),
    (lambda: b"%PDF-1.7\nthis is not a pdf body", "cv.pdf", "damaged"),
    (lambda: b"PK\x03\x04garbage", "cv.docx", "damaged"),
])
def test_dangerous_or_disguised_files_are_refused(build, name, reason):
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(build(), name)
    assert reason in caught.value.reason


def test_a_pdf_named_docx_is_refused():
    with pytest.raises(UploadRejected, match="does not match"):
        inspect_upload(files.pdf_with_text(), "cv.docx")


@pytest.mark.parametrize("name", ["cv.pdf.exe", "cv\x00.pdf", "../../etc/cv.pdf",
                                  "C:\\Users\\cv.pdf", "dir/cv.pdf", "", "   ", ".pdf",
                                  "cv\u202egpj.pdf", "cv.html", "x" * 300 + ".pdf"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(UploadRejected):
        safe_original_name(name)


def test_the_reason_never_quotes_the_name():
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(files.html_named_pdf(), "secret-name-marker.pdf")
    assert "secret-name-marker" not in str(caught.value)


def test_xxe_fetches_nothing(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(files.docx_with_xxe(f"file://{secret}"), "cv.docx")
    assert "TOPSECRET" not in str(caught.value)


def test_pdf_text_extraction_is_bounded_in_pages():
    doc = inspect_upload(files.pdf_with_pages(12), "long.pdf", max_pages=5)
    assert "page 5" in doc.text and "page 6" not in doc.text


def test_pdf_text_extraction_is_bounded_in_time():
    doc = inspect_upload(files.pdf_with_pages(5), "long.pdf", time_budget_s=0.0)
    assert "page 2" not in doc.text


def test_large_uploads_never_touch_a_temporary_file(monkeypatch, tmp_path):
    app = Flask(__name__)
    app.request_class = VaultRequest
    received = {}

    @app.post("/up")
    def upload():
        received["size"] = len(request.files["cv"].read())
        received["stream"] = type(request.files["cv"].stream).__name__
        return "ok"

    def forbidden(*args, **kwargs):
        raise AssertionError("an upload was spooled to a temporary file")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, forbidden)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    big = os.urandom(3 * 1024 * 1024)
    response = app.test_client().post("/up", data={"cv": (io.BytesIO(big), "cv.pdf")},
                                      content_type="multipart/form-data")
    assert response.status_code == 200
    assert received == {"size": len(big), "stream": "BytesIO"}
    assert list(tmp_path.iterdir()) == []
