"""Inspection and text extraction in a child process with hard limits.

An upload comes from anyone, before any login. Parsing it is where a malicious file
does its work (decompression bombs, parser loops, pathological content streams), so the
parsing never happens in the web worker: `run_inspection` hands the file to a child
process over a pipe (never a temporary file: the CV would rest in plaintext on disk),
and gets back one JSON line, the verdict and the text. The child
- limits its own address space (RLIMIT_AS) and CPU time (RLIMIT_CPU) before it reads a
  byte of the file, may not write files (RLIMIT_FSIZE 0) and dumps no core;
- gets an environment of its own: no keyring, no secret key, no database URL;
- is killed, with everything it started (its own process group), when the wall-clock
  limit passes. OCR (tesseract, pdftoppm) runs as its grandchildren, under the same
  limits, which children inherit.

Where the child comes from: a new `python -m vault.sandbox` per file cost ~175 ms of
CPU, nearly all interpreter start-up and imports, for ~4 ms of inspection. So each
process that inspects files (a web worker, an import worker) starts one zygote,
`python -m vault.sandbox --zygote`, at its first file: started like that child (the
same clean environment, its own session, no inherited descriptor but its control
socket), it imports the parsers and then only forks, one fresh child per file, whose
pipes the parent passes over the socket (SCM_RIGHTS). The zygote never sees a byte of
a file, so nothing of one person's CV can remain for the next file's child, and each
child then runs the code the spawned child ran. If no zygote answers (twice), the file
goes to a spawned child as before (`python -m vault.sandbox` without flags).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import io
import json
import math
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

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

# The zygote. What a child's inspection imports, loaded once before any fork (found by
# comparing sys.modules before and after inspecting PDFs and DOCX files; a module left
# out is imported by the child, only slower).
ZYGOTE_MODULES = ("vault.extraction", "defusedxml.ElementTree", "pypdf", "pypdf.errors",
                  "pypdf.filters", "pypdf.generic", "pypdf._configuration",
                  "pypdf._codecs._codecs", "encodings.charmap", "encodings.utf_16_be")
# A zygote says it is ready once it has imported the parsers (~0.2 s, seconds on a
# loaded machine), then answers a fork request in milliseconds. Past these it is taken
# for hung, killed and replaced.
ZYGOTE_START_S = 10.0
ZYGOTE_REPLY_S = 2.0
READY = b"ready"
ZYGOTE_EXIT_S = 2.0  # close_zygote waits this long for it, then kills it
# After a kill, what the child wrote is read for this long at most: a descendant that
# left the process group could otherwise hold the pipe open for ever.
KILL_GRACE_S = 0.5
# An answer is two JSON lines of at most MAX_TEXT_CHARS characters (12 bytes each at
# worst, a surrogate pair escaped): a child writing more is not one of ours any more.
MAX_ANSWER_BYTES = 32 * MiB
PIPE_CHUNK = 64 * 1024
REAP_POLL_S = 0.05  # how often the zygote looks for the end of a killed child


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
                   time_budget_s: float, spawn: bool = False) -> str:
    """The file's text ("" when it has none), or UploadRejected (TooHeavy past a limit).
    In a child forked by this process's zygote; spawn=True (or no zygote answering):
    in a new interpreter, as before the zygote (benchmarks compare the two)."""
    request = {"media_type": media_type, "max_pages": max_pages,
               "time_budget_s": time_budget_s, "wall_s": limits.wall_s,
               "memory_bytes": limits.memory_bytes, "ocr": limits.ocr}
    out = None if spawn else _through_zygote(content, request, limits.wall_s)
    if out is None:
        out = _spawned(content, request, limits.wall_s)
    return _text_of(out)


def _text_of(out: bytes) -> str:
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


def _payload(content: bytes, request: Mapping[str, object], deadline: float) -> bytes:
    # CLOCK_MONOTONIC is one clock for the whole machine: the child works to the
    # parent's deadline, its own start-up included.
    return json.dumps({"deadline": deadline, **request}).encode() + b"\n" + content


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


# --- a spawned child (no zygote answering, or spawn=True) ----------------------------

def _spawned(content: bytes, request: Mapping[str, object], wall_s: float) -> bytes:
    deadline = time.monotonic() + wall_s
    process = subprocess.Popen(  # our own interpreter and module, no shell
        [sys.executable, "-m", "vault.sandbox"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_environment(),
        start_new_session=True, close_fds=True)
    try:
        out, _ = process.communicate(_payload(content, request, deadline), timeout=wall_s)
    except subprocess.TimeoutExpired:
        out = _kill_group(process)
    finally:
        if process.poll() is None:
            _kill_group(process)
    return out


def _kill_group(process: subprocess.Popen[bytes]) -> bytes:
    """Kill the child and its OCR tools; what it wrote before stays readable."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    out, _ = process.communicate()
    return out or b""


# --- a child forked by the zygote ----------------------------------------------------

class _Zygote:
    """This process's end of its zygote: the control socket and the process."""

    def __init__(self) -> None:
        # SOCK_SEQPACKET: one request, one message (with its descriptors), in order.
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # Started as the spawned child is: the clean environment (no keyring, no
            # secret key: the children it forks inherit it), its own session, and no
            # descriptor of ours but its end of the socket.
            self.process = subprocess.Popen(  # noqa: S603 -- our interpreter, no shell
                [sys.executable, "-m", "vault.sandbox", "--zygote", str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=child_environment(), start_new_session=True,
                close_fds=True, pass_fds=(theirs.fileno(),))
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.control = ours
        self.pid = self.process.pid
        self.owner = os.getpid()
        self.ready = False

    def fork(self, stdin: int, stdout: int) -> int:
        """A new child reading `stdin` and writing `stdout`: its pid."""
        if not self.ready:
            self.control.settimeout(ZYGOTE_START_S)
            if self.control.recv(32) != READY:
                raise EOFError("the zygote did not start")
            self.ready = True
        self.control.settimeout(ZYGOTE_REPLY_S)
        socket.send_fds(self.control, [b"F"], [stdin, stdout])
        reply = self.control.recv(32)
        if not reply:
            raise EOFError("the zygote has gone")
        pid = int(reply)
        if pid <= 0:
            raise OSError("the zygote could not fork")
        return pid

    def release(self, pid: int) -> None:
        """The child `pid` is done (and killed): the zygote may reap it."""
        self.control.settimeout(ZYGOTE_REPLY_S)
        self.control.send(b"R%d" % pid)

    def close(self, *, kill: bool = False) -> None:
        """It exits at the end of its socket; a zygote found broken is killed too."""
        self.control.close()
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=ZYGOTE_EXIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def forget(self) -> None:
        """In a forked copy of the owner: drop the copy of the socket, and leave the
        zygote to the owner (it would reach EOF only once every copy is closed)."""
        self.control.close()


_lock = threading.Lock()  # one exchange at a time on the socket (threaded workers)
_zygote: _Zygote | None = None


def _zygote_here() -> _Zygote:
    """This process's zygote, started at its first file (call with _lock held)."""
    global _zygote
    if _zygote is not None and _zygote.owner != os.getpid():
        # Inherited over a fork that bypassed the at-fork hook: the parent's, not ours
        # (its children would answer to the parent's socket).
        _zygote.forget()
        _zygote = None
    if _zygote is None:
        _zygote = _Zygote()
        _close_at_worker_exit()
    return _zygote


def _close_at_worker_exit() -> None:
    # A multiprocessing worker (the bulk loader's) ends in os._exit: no atexit, but its
    # finalizers run. Its zygote is then closed and waited for by the worker, not left
    # to end at EOF as init's orphan (out of the workers' rusage, too).
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.parent_process() is not None:
        from multiprocessing import util

        util.Finalize(None, close_zygote, exitpriority=0)


def _fork_child() -> tuple[_Zygote, int, io.FileIO, io.FileIO] | None:
    """(zygote, pid, its stdin, its stdout) of a new child of this process's zygote;
    None if the zygote failed (it is then killed: the next call starts another)."""
    global _zygote
    stdin_r, stdin_w = os.pipe()
    try:
        stdout_r, stdout_w = os.pipe()
    except OSError:
        os.close(stdin_r)
        os.close(stdin_w)
        raise
    try:
        with _lock:
            zygote = _zygote_here()
            try:
                pid = zygote.fork(stdin_r, stdout_w)
            except (OSError, EOFError, ValueError):
                # Dead (EOF, a broken pipe), hung (timeout) or garbled: not trusted again.
                _zygote = None
                zygote.close(kill=True)
                raise
    except (OSError, EOFError, ValueError):
        os.close(stdin_w)
        os.close(stdout_r)
        return None
    finally:
        # The child's ends: from now on only the child holds them, so its exit is our
        # EOF.
        os.close(stdin_r)
        os.close(stdout_w)
    return zygote, pid, io.FileIO(stdin_w, "wb"), io.FileIO(stdout_r, "rb")


def _through_zygote(content: bytes, request: Mapping[str, object],
                    wall_s: float) -> bytes | None:
    """The child's answer, or None when no zygote served (twice: the one there was,
    then a new one)."""
    for _attempt in range(2):
        # From here, as for a spawned child: at a process's first file the zygote's
        # start counts, and an upload is still answered within the limit. A zygote that
        # failed is ours, not the file's: the next attempt has the whole time again.
        deadline = time.monotonic() + wall_s
        forked = _fork_child()
        if forked is not None:
            break
    else:
        return None
    zygote, pid, stdin, stdout = forked
    try:
        return _exchange(pid, stdin, stdout, _payload(content, request, deadline), deadline)
    finally:
        stdin.close()
        stdout.close()
        # The answer is complete or the time is up: nothing this file started may live
        # on (a parser exploit could close its stdout and go on). The number is still
        # this child's: the zygote reaps it only once released below, so the kill cannot
        # reach a process that took the number over.
        _kill_group_of(pid)
        _release(zygote, pid)


def _exchange(pid: int, stdin: io.FileIO, stdout: io.FileIO, payload: bytes,
              deadline: float) -> bytes:
    """communicate(payload, timeout=) for a child that is not ours to wait for: write
    the payload while reading the answer to its end (EOF), until the deadline; past it
    the child's group is killed and what it wrote before stays readable (_kill_group)."""
    in_fd, out_fd = stdin.fileno(), stdout.fileno()
    os.set_blocking(in_fd, False)  # a child that stops reading must not stop us
    poller = select.poll()
    poller.register(in_fd, select.POLLOUT)
    poller.register(out_fd, select.POLLIN)
    rest = memoryview(payload)
    answer = bytearray()
    until, killed = deadline, False
    while True:
        left = until - time.monotonic()
        if left <= 0:
            if killed:
                break
            _kill_group_of(pid)
            until, killed = time.monotonic() + KILL_GRACE_S, True
            if not stdin.closed:
                poller.unregister(in_fd)
                stdin.close()
            continue
        for fd, _event in poller.poll(math.ceil(left * 1000)):
            if fd == out_fd:
                chunk = os.read(out_fd, PIPE_CHUNK)
                if not chunk:
                    return bytes(answer)
                answer += chunk
                if len(answer) > MAX_ANSWER_BYTES:
                    return bytes(answer)  # the caller kills the group
            elif not stdin.closed:
                try:
                    rest = rest[os.write(in_fd, rest[:PIPE_CHUNK]):]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    rest = rest[:0]  # the child reads no more: it ended
                if not rest:
                    poller.unregister(in_fd)
                    stdin.close()  # EOF: the child has the whole file
    return bytes(answer)


def _kill_group_of(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _release(zygote: _Zygote, pid: int) -> None:
    """Let the zygote reap the child (after _kill_group_of: never before)."""
    with _lock:
        if zygote is not _zygote:
            return  # closed or replaced: its children went to init, which reaps them
        try:
            zygote.release(pid)
        except OSError:
            pass  # a zygote that has gone: the next file finds it so and starts another


def zygote_pid() -> int | None:
    """The pid of this process's zygote; None before its first file or after close."""
    zygote = _zygote
    return zygote.pid if zygote is not None and zygote.owner == os.getpid() else None


def close_zygote() -> None:
    """End this process's zygote (at exit; tests and commands that are done)."""
    global _zygote
    # Not blocked for ever by a thread stuck at exit in an exchange.
    locked = _lock.acquire(timeout=ZYGOTE_EXIT_S)
    try:
        zygote, _zygote = _zygote, None
    finally:
        if locked:
            _lock.release()
    if zygote is None:
        return
    if zygote.owner == os.getpid():
        zygote.close()
    else:
        zygote.forget()


def _after_fork_in_child() -> None:
    # A forked process (a ProcessPoolExecutor worker of the bulk loader, a gunicorn
    # worker) starts its own zygote: the parent's socket carries the parent's requests,
    # and the lock may have been held by another thread at the fork.
    global _lock, _zygote
    _lock = threading.Lock()
    if _zygote is not None:
        _zygote.forget()
        _zygote = None


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(close_zygote)


# --- the zygote ------------------------------------------------------------------------

def _serve(control_fd: int) -> None:
    """Fork one child per request until the parent closes its end of the socket. The
    zygote never reads a file: it holds descriptors only long enough to fork."""
    for name in ZYGOTE_MODULES:
        importlib.import_module(name)
    # The imports' objects go to a generation the collector never scans: a child's
    # collections then do not touch (and copy) the pages it shares with the zygote.
    gc.freeze()
    control = socket.socket(fileno=control_fd)
    control.send(READY)
    # Children released by the parent (killed, or ended) and not yet reaped. A child is
    # reaped only once released: until then its pid (and process group) stays its own,
    # which the parent's killpg relies on.
    released: set[int] = set()
    while True:
        control.settimeout(REAP_POLL_S if released else None)
        try:
            message, fds, _flags, _address = socket.recv_fds(
                control, 32, 2, socket.MSG_CMSG_CLOEXEC)
        except TimeoutError:
            released = _reap(released)
            continue
        if message == b"F" and len(fds) == 2:
            control.send(b"%d" % _fork(*fds))
        elif message[:1] == b"R" and message[1:].isdigit() and not fds:
            released.add(int(message[1:]))
        else:
            for fd in fds:
                os.close(fd)
            break  # EOF: the parent closed its end or exited
        released = _reap(released)
    ends = time.monotonic() + 1.0  # killed children die in milliseconds
    while released and time.monotonic() < ends:
        time.sleep(REAP_POLL_S / 5)
        released = _reap(released)


def _reap(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            reaped, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        if not reaped:
            left.add(pid)
    return left


def _fork(stdin: int, stdout: int) -> int:
    try:
        pid = os.fork()
    except OSError:
        pid = -1  # the parent takes this zygote for broken: a new one, then a spawn
    if pid == 0:
        _forked_child(stdin, stdout)
    os.close(stdin)
    os.close(stdout)
    return pid


def _forked_child(stdin: int, stdout: int) -> NoReturn:
    code = 1
    try:
        # Its own session and process group, as start_new_session gives the spawned
        # child: the parent kills the group, OCR tools included.
        os.setsid()
        # The zygote changes no handler; this one must be the default for subprocess
        # (OCR) to wait for its tools, whatever a zygote may come to do.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        # Nothing else of the zygote's: above all not the control socket, through which
        # a compromised child could have the zygote fork for it.
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        # sys.stdin and sys.stdout are the zygote's, never used there: they read and
        # write fds 0 and 1, now this file's pipes. From here on, the spawned child's
        # code: limits before the file is read, the verdict, the OCR.
        main()
        code = 0
    finally:
        os._exit(code)  # never back into the zygote's loop, no atexit of the zygote's


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
    if sys.argv[1:2] == ["--zygote"]:
        _serve(int(sys.argv[2]))
    else:
        main()
