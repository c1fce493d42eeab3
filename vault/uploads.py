"""CV uploads, inspected as an attacker would craft them.

The type is decided from the bytes alone: a name or a Content-Type is whatever the
sender typed. Only PDF and DOCX pass, and only without active content: a CV is read
by recruiters, so anything that could run in their viewer is refused, not cleaned.

The parsing itself (vault/extraction.py) runs in a child process with hard limits on
time and memory (vault/sandbox.py): this module checks the name and the magic bytes,
hands the file over, and turns the verdict into a DocumentInput.

Public API of text extraction:
- ``inspect_upload(content, filename) -> DocumentInput`` (``.text: str``,
  ``.has_text: bool``) for a new upload; raises ``UploadRejected``.
- ``extract_text(content, media_type) -> str`` for a stored CV whose type is already
  known (re-indexing); the same inspection and limits; raises ``UploadRejected``.
"""

from __future__ import annotations

import unicodedata

from vault.extraction import UploadRejected
from vault.sandbox import DOCX, PDF, Limits, TooHeavy, run_inspection
from vault.services.candidates import DocumentInput

__all__ = ["DOCX", "EXTENSIONS", "PDF", "Limits", "TooHeavy", "UploadRejected",
           "extract_text", "inspect_upload", "safe_original_name"]

EXTENSIONS = {PDF: "pdf", DOCX: "docx"}
# Text is read from the first pages within this soft budget; past it the file is still
# accepted with the text read so far. The hard limits (Limits) refuse the file.
MAX_PAGES = 50
TEXT_BUDGET_S = 1.5


def safe_original_name(filename: str) -> str:
    """The original name, kept (sealed) only for the candidate's own download."""
    name = unicodedata.normalize("NFC", filename or "").strip()
    if not name:
        raise UploadRejected("no_name")
    if len(name) > 200:
        raise UploadRejected("name_too_long")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise UploadRejected("name_control_characters")
    if "/" in name or "\\" in name or ".." in name or name.startswith("."):
        raise UploadRejected("name_with_path")
    if not name.lower().endswith((".pdf", ".docx")):
        raise UploadRejected("not_pdf_or_docx")
    return name


def inspect_upload(content: bytes, filename: str, *, max_pages: int = MAX_PAGES,
                   time_budget_s: float = TEXT_BUDGET_S,
                   limits: Limits | None = None) -> DocumentInput:
    """Accept or refuse one upload; an accepted one comes with its text.

    ``has_text`` is False when neither the text layer nor OCR gave any words: the CV is
    kept but search cannot find it (the apply form asks the applicant first)."""
    name = safe_original_name(filename)
    if not content:
        raise UploadRejected("empty")
    media_type = _media_type(content)
    text = _extract(content, media_type, max_pages=max_pages, time_budget_s=time_budget_s,
                    limits=limits)
    extension = EXTENSIONS[media_type]
    if not name.lower().endswith("." + extension):
        raise UploadRejected("name_mismatch")
    return DocumentInput(content=content, filename=name, media_type=media_type,
                         extension=extension, text=text, has_text=bool(text.strip()))


def extract_text(content: bytes, media_type: str, *, limits: Limits | None = None) -> str:
    """The text of a stored CV (its type known), read under the same limits."""
    if media_type not in EXTENSIONS or media_type != _media_type(content):
        raise UploadRejected("not_pdf_or_docx")
    return _extract(content, media_type, max_pages=MAX_PAGES, time_budget_s=TEXT_BUDGET_S,
                    limits=limits)


def _media_type(content: bytes) -> str:
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"PK\x03\x04"):
        return DOCX
    raise UploadRejected("not_pdf_or_docx")


def _extract(content: bytes, media_type: str, *, max_pages: int, time_budget_s: float,
             limits: Limits | None) -> str:
    return run_inspection(content, media_type, limits=limits or Limits(), max_pages=max_pages,
                          time_budget_s=time_budget_s)
