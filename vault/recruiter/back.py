"""The way back from a candidate's page to the search results it was opened from.

The results page passes its own address as `?back=/candidates?q=…`; the candidate page
links to it and its forms carry it along. A link target taken from the URL is an open
redirect waiting to happen (`?back=https://evil.example/` or `//evil.example` would send
a recruiter, with the vault's look, anywhere), so only a relative URL to the search
page itself is kept: no scheme, no host, no backslash or control character, and the
path exactly the search page's. Anything else is dropped and the plain search page is
offered instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SEARCH_PATH = "/candidates"
MAX_BACK = 2000


def safe_back(value: object) -> str | None:
    """The same-site path-and-query to go back to, or None when it is not one."""
    if not isinstance(value, str) or not value or len(value) > MAX_BACK:
        return None
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None  # browsers read "\" as "/" ("/\evil.example" is another host)
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return None
    if parts.path != SEARCH_PATH:
        return None
    return urlunsplit(("", "", parts.path, parts.query, ""))
