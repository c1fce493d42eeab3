"""What the form says about a refused upload: the file's own name, and what to do.

The name is shown back only to the person who sent it, in the page answering that very
request (escaped by the template); it is never logged or stored in plaintext.
"""

from __future__ import annotations

import unicodedata

from vault.extraction import UploadRejected
from vault.messages import message

# Refusal codes (vault/upload_reasons.py) that mean "this is not a PDF or Word file", and
# those about the name. Codes, not words: the words are already in the page's language.
_WRONG_TYPE = frozenset({"not_pdf_or_docx", "name_mismatch"})
_BAD_NAME = frozenset({"no_name", "name_too_long", "name_control_characters",
                       "name_with_path"})
_SHOWN_NAME_MAX = 80


def shown_name(filename: str | None) -> str:
    """The name as the applicant would recognise it, without control characters, short."""
    name = "".join(c for c in unicodedata.normalize("NFC", filename or "")
                   if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp")).strip()
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # a browser may send a full path
    if len(name) > _SHOWN_NAME_MAX:
        name = name[:_SHOWN_NAME_MAX - 1] + "…"
    return name or message("upload_unnamed")


def refusal(exc: UploadRejected, filename: str | None, max_mb: int) -> str:
    name = shown_name(filename)
    if exc.code in _WRONG_TYPE:
        return message("upload_wrong_type", name=name, mb=str(max_mb))
    if exc.code == "empty":
        return message("upload_empty", name=name, mb=str(max_mb))
    if exc.code in _BAD_NAME:
        return message("upload_bad_name", name=name)
    return message("upload_refused_named", name=name, reason=exc.reason)
