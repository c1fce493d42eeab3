"""Inspection and text extraction in a child process with hard limits.

An upload comes from anyone, before any login. Parsing it is where a malicious file
does its work (decompression bombs, parser loops, pathological content streams), so the
parsing never happens in the web worker: `run_inspection` starts
`python -m vault.sandbox`, hands it the file over a pipe (never a temporary file: the
CV would rest in plaintext on disk), and gets back one JSON line, the verdict and the
text. The child
- limits its own address space (RLIMIT_AS) and CPU time (RLIMIT_CPU) before it reads a
  byte, may not write files (RLIMIT_FSIZE 0) and dumps no core;
- gets an environment of its own: no keyring, no secret key, no database URL;
- is killed, with everything it started (its own process group), when the wall-clock
  limit passes. OCR (tesseract, pdftoppm) runs as its grandchildren, under the same
  limits, which children inherit.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.config import DEFAULTS
from vault.extraction import MAX_TEXT_CHARS, LimitExceeded, UploadRejected, clean_pdf_text

MiB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parent.parent
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# OCR: the languages of the group's applicants; a page is rendered to at most this many
# pixels on its long side whatever its declared size (a 200 x 200 inch MediaBox would
# otherwise ask for gigabytes).
OCR_LANGUAGES = "nld+fra+eng"
OCR_MAX_PAGES = 3
OCR_PIXELS = 2339  # A4 at 200 dpi
OCR_MARGIN_S = 0.2  # the child answers before the parent's deadline, never after


@dataclass(frozen=True)
class Limits:
    """Hard limits of one inspection (defaults in vault/config.py)."""

    wall_s: float = DEFAULTS["UPLOAD_INSPECT_SECONDS"]
    memory_bytes: int = DEFAULTS["UPLOAD_INSPECT_MEMORY_MB"] * MiB
    ocr: bool = DEFAULTS["UPLOAD_OCR"]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(wall_s=float(config.get("UPLOAD_INSPECT_SECONDS", cls.wall_s)),
                   memory_bytes=int(config.get("UPLOAD_INSPECT_MEMORY_MB",
                                               cls.memory_bytes // MiB)) * MiB,
                   ocr=bool(config.get("UPLOAD_OCR", cls.ocr)))


class TooHeavy(UploadRejected):
    """The child ran out of time or memory: the file is refused, whatever it is."""


def run_inspection(content: bytes, media_type: str, *, limits: Limits, max_pages: int,
                   time_budget_s: float) -> str:
    """The file's text ("" when it has none), or UploadRejected (TooHeavy past a limit)."""
    # CLOCK_MONOTONIC is one clock for the whole machine: the child works to the
    # parent's deadline, its own start-up included.
    deadline = time.monotonic() + limits.wall_s
    header = json.dumps({"deadline": deadline, "media_type": media_type, "max_pages": max_pages,
                         "time_budget_s": time_budget_s, "wall_s": limits.wall_s,
                         "memory_bytes": limits.memory_bytes, "ocr": limits.ocr}).encode()
    process = subprocess.Popen(  # our own interpreter and module, no shell
        [sys.executable, "-m", "vault.sandbox"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_environment(),
        start_new_session=True, close_fds=True)
    try:
        out, _ = process.communicate(header + b"\n" + content, timeout=limits.wall_s)
    except subprocess.TimeoutExpired:
        out = _kill_group(process)
    finally:
        if process.poll() is None:
            _kill_group(process)
    lines = out.splitlines()
    verdict, ocr = _json_line(lines, 0), _json_line(lines, 1)
    if not isinstance(verdict, dict) or verdict.get("refused") == LimitExceeded().code:
        # No verdict in time, killed by RLIMIT_CPU, or out of memory under RLIMIT_AS:
        # the file asked for more than any CV needs.
        raise TooHeavy(LimitExceeded().code)
    if "refused" in verdict:
        # A code only; the web worker words it (vault/upload_reasons.py).
        raise UploadRejected(str(verdict["refused"]))
    # An accepted file stays accepted when the OCR after the verdict ran out of time or
    # memory: it is then kept without text.
    text = str(verdict["text"])
    if verdict.get("ocr") and isinstance(ocr, dict):
        text = str(ocr.get("ocr_text", ""))
    return text[:MAX_TEXT_CHARS]


def _json_line(lines: list[bytes], index: int) -> object:
    try:
        return json.loads(lines[index])
    except (IndexError, ValueError):
        return None  # not written, or cut off by the kill


def child_environment() -> dict[str, str]:
    # Nothing of the parent's environment: it may hold the keyring (VAULT_KEYRING).
    paths = [str(REPO_ROOT), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                               if p)]
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.pathsep.join(paths),
            "LANG": "C.UTF-8", "OMP_THREAD_LIMIT": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def _kill_group(process: subprocess.Popen[bytes]) -> bytes:
    """Kill the child and its OCR tools; what it wrote before stays readable."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    out, _ = process.communicate()
    return out or b""


# --- the child ---------------------------------------------------------------------

def _limit_self(memory_bytes: int, cpu_s: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # no file written, not even a temp
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no memory image


def _ocr_tools() -> tuple[str, str] | None:
    pdftoppm, tesseract = shutil.which("pdftoppm"), shutil.which("tesseract")
    return (pdftoppm, tesseract) if pdftoppm and tesseract else None


def _ocr(content: bytes, pages: int, deadline: float, tools: tuple[str, str]) -> str:
    """Page images through tesseract, page by page, while time is left. A page that
    fails or runs out of time ends the OCR with what was read so far."""
    pdftoppm, tesseract = tools
    texts: list[str] = []
    for page in range(1, min(pages, OCR_MAX_PAGES) + 1):
        try:
            image = subprocess.run(  # noqa: S603 -- fixed arguments, no shell
                [pdftoppm, "-q", "-f", str(page), "-l", str(page), "-singlefile", "-gray",
                 "-png", "-scale-to", str(OCR_PIXELS), "-"],
                input=content, capture_output=True, timeout=_left(deadline), check=True).stdout
            text = subprocess.run(  # noqa: S603 -- fixed arguments, no shell
                [tesseract, "stdin", "stdout", "-l", OCR_LANGUAGES],
                input=image, capture_output=True, timeout=_left(deadline), check=True).stdout
        except (subprocess.SubprocessError, OSError, ValueError):
            break
        texts.append(text.decode("utf-8", "replace").replace("\f", "\n"))  # page ends
    return clean_pdf_text("\n".join(texts))


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ValueError("no time left")
    return left


def _say(answer: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def _child() -> None:
    header = json.loads(sys.stdin.buffer.readline())
    wall_s = float(header["wall_s"])
    _limit_self(int(header["memory_bytes"]), max(1, int(wall_s + 0.999)))
    content = sys.stdin.buffer.read()
    from vault.extraction import inspect_docx, inspect_pdf

    tools = _ocr_tools() if header["ocr"] else None
    if header["media_type"] == DOCX:
        _say({"text": inspect_docx(content), "ocr": False})
        return
    extracted = inspect_pdf(content, max_pages=int(header["max_pages"]),
                            time_budget_s=float(header["time_budget_s"]))
    ocr = extracted.scanned and tools is not None
    # The verdict goes out first: if OCR then runs out of time, the file is still
    # accepted (without text), never refused for being a scan.
    _say({"text": extracted.text, "ocr": ocr})
    if ocr and tools is not None:
        deadline = float(header["deadline"]) - OCR_MARGIN_S
        _say({"ocr_text": _ocr(content, extracted.pages, deadline, tools)})


def main() -> None:
    try:
        _child()
    except UploadRejected as exc:
        _say({"refused": exc.code})  # the parent words it: no Flask-Babel in here
    except (MemoryError, RecursionError):
        _say({"refused": LimitExceeded().code})


if __name__ == "__main__":
    main()
