"""Where a login may send the browser next: only ever a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """The target if it is a local path, else None.

    Browsers read "//evil.example" and "/\\evil.example" as other hosts, and strip tabs
    and newlines before parsing, so those are refused before any URL parsing.
    """
    if not target or not target.startswith("/") or len(target) > 2000:
        return None
    if target.startswith(("//", "/\\")) or any(c in target for c in "\\\t\r\n\x00"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
