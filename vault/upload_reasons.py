"""The words for the codes an upload is refused with (vault.extraction.UploadRejected).

The inspecting child (vault/sandbox.py) imports nothing of Flask and answers with a code;
the web worker turns the code into words here, in the language of the page (English
outside a request: the importer's report, the CLI).
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from vault.messages import MESSAGES

REFUSALS: dict[str, LazyString] = {
    # The name (vault.uploads.safe_original_name).
    "no_name": _l("the file has no name"),
    "name_too_long": _l("the file name is too long"),
    "name_control_characters": _l("the file name contains control characters"),
    "name_with_path": _l("the file name contains a path"),
    "name_mismatch": _l("the file's name does not match its content"),
    "empty": _l("the file is empty"),
    "not_pdf_or_docx": _l("only PDF and DOCX files are accepted"),
    # PDF (vault.extraction).
    "pdf_encrypted": _l("encrypted PDF files are not accepted"),
    "pdf_damaged": _l("the PDF file is damaged or not a PDF"),
    "pdf_too_complex": _l("the PDF file is too complex"),
    "pdf_active": _l("PDF files with scripts, actions that open other files or programs, "
                     "or attachments are not accepted"),
    "pdf_unsafe_link": _l("PDF files may link only to web pages and e-mail addresses"),
    # DOCX (vault.extraction).
    "docx_damaged": _l("the DOCX file is damaged"),
    "docx_too_many_parts": _l("the DOCX file has too many parts"),
    "docx_too_large": _l("the DOCX file unpacks to too much data"),
    "docx_unsafe_paths": _l("the DOCX file contains unsafe paths"),
    "docx_encrypted": _l("encrypted DOCX files are not accepted"),
    "docx_archives": _l("DOCX files with embedded archives or macros are not accepted"),
    "docx_bad_xml": _l("the DOCX file contains XML we do not accept"),
    "docx_macros": _l("documents with macros are not accepted"),
    "docx_embedded": _l("DOCX files with embedded objects or documents are not accepted"),
    "docx_fetch_fields": _l("DOCX files with fields that fetch other files are not accepted"),
    "docx_external_parts": _l("DOCX files with templates, embedded objects or documents from "
                              "elsewhere are not accepted"),
    "docx_remote_content": _l("DOCX files that load content from elsewhere are not accepted"),
    # Past the child's time or memory limits (vault.sandbox.TooHeavy).
    "too_heavy": MESSAGES["upload_too_heavy"],
}
# A code this table does not know (a newer child, a garbled answer) is still a refusal.
FALLBACK = "not_pdf_or_docx"


def refusal_reason(code: str) -> str:
    """The reason in the current language."""
    return str(REFUSALS.get(code, REFUSALS[FALLBACK]))
