"""What the form says about a refused upload: the file's own name, and what to do.

The name is shown back only to the person who sent it, in the page answering that very
request (escaped by the template); it is never logged or stored in plaintext.
"""

from __future__ import annotations

import unicodedata

from vault.extraction import UploadRejected
from vault.messages import message

# Reasons (vault/uploads.py) that mean "this is not a PDF or Word file".
_WRONG_TYPE = frozenset({"only PDF and DOCX files are accepted",
                         "the file's name does not match its content"})
_BAD_NAME = frozenset({"the file has no name", "the file name is too long",
                       "the file name contains control characters",
                       "the file name contains a path"})
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
    if exc.reason in _WRONG_TYPE:
        return message("upload_wrong_type", name=name, mb=str(max_mb))
    if exc.reason == "the file is empty":
        return message("upload_empty", name=name, mb=str(max_mb))
    if exc.reason in _BAD_NAME:
        return message("upload_bad_name", name=name)
    return message("upload_refused_named", name=name, reason=exc.reason)
