"""Text typed by staff (a vacancy's description), shown as HTML without trusting it."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_BLANK_LINES = re.compile(r"\n\s*\n")


def paragraphs(text: str | None) -> Markup:
    """Escaped first (a description is never markup), then a blank line starts a new
    paragraph and a single line break stays a line break."""
    if not text:
        return Markup("")
    plain = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = [b.strip("\n") for b in _BLANK_LINES.split(plain) if b.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line)
                                                          for line in block.split("\n")))
        for block in blocks)
