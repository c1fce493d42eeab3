"""Uploads stay in memory.

Werkzeug spools multipart files larger than 500 KiB into a temporary file on disk:
an unencrypted copy of a CV that outlives the request in free disk blocks. The
vault keeps every upload in memory instead; MAX_CONTENT_LENGTH (10 MiB by default)
bounds how much memory one request can take, and the bytes are sealed before they
are stored anywhere.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Request


class VaultRequest(Request):
    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()
