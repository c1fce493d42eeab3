"""Hard limits of the inspecting child process (security review: PDF text extraction
as a denial of service), and the zygote that forks those children (vault/sandbox.py)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from tests import files
from vault import sandbox
from vault.messages import message
from vault.sandbox import PDF, MiB, child_environment, close_zygote, zygote_pid
from vault.uploads import Limits, TooHeavy, inspect_upload

ROOT = Path(__file__).resolve().parent.parent

MEASURE = """
import json, resource, sys, time
from tests import files
from vault.sandbox import close_zygote, zygote_pid
from vault.uploads import UploadRejected, inspect_upload
content = files.pdf_flate_bomb()
started = time.monotonic()
try:
    inspect_upload(content, "cv.pdf")
    reason = None
except UploadRejected as exc:
    reason = exc.reason
seconds = time.monotonic() - started
zygote = zygote_pid()
# The child is the zygote's: its usage reaches RUSAGE_CHILDREN here once the zygote,
# which reaps it, has ended and been waited for.
close_zygote()
print(json.dumps({"reason": reason, "seconds": seconds, "zygote": zygote,
                  "child_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


@pytest.fixture(autouse=True)
def _own_zygote() -> Iterator[None]:
    # Each test starts its own zygote (with the environment it set) and leaves none.
    close_zygote()
    yield
    close_zygote()


def _inspect(content: bytes, **limits: object) -> str:
    return sandbox.run_inspection(content, PDF, limits=Limits(**limits), max_pages=50,
                                  time_budget_s=1.5)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, process group) of a process; None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1]), int(fields[2])


def _group(pgid: int) -> dict[int, str]:
    """Live (not zombie) processes of a process group: pid -> command name."""
    members = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[2] == pgid and stat[0] != "Z":
                try:
                    members[int(entry.name)] = (entry / "comm").read_text().strip()
                except (FileNotFoundError, ProcessLookupError):
                    pass
    return members


def _until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Polls a condition about other processes (a kill, an exit) for at most `seconds`."""
    ends = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > ends:
            return False
        time.sleep(0.01)
    return True


def _gone(pid: int) -> bool:
    stat = _stat(pid)
    return stat is None or stat[0] == "Z"


def _spy_children(monkeypatch: pytest.MonkeyPatch,
                  during: Callable[[int], None] | None = None) -> list[int]:
    """The pids of the forked children, each seen before it gets its file."""
    pids: list[int] = []
    real = sandbox._exchange

    def exchange(pid: int, *args: object) -> bytes:
        pids.append(pid)
        if during is not None:
            during(pid)
        return real(pid, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sandbox, "_exchange", exchange)
    return pids


def _fake_ocr_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tesseract: str) -> None:
    """pdftoppm and tesseract as shell scripts first on the PATH the zygote passes on."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "pdftoppm").write_text("#!/bin/sh\ncat >/dev/null\nprintf image\n")
    (tools / "tesseract").write_text("#!/bin/sh\ncat >/dev/null\n" + tesseract)
    for tool in tools.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")


# --- limits (through the zygote) -----------------------------------------------------

def test_flate_bomb_pdf_is_refused_within_3_seconds_and_200_mb():
    # Measured in a fresh interpreter: RUSAGE_CHILDREN then holds only the zygote and
    # the inspection child it forked, the peak a single upload can cost the machine.
    result = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, check=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    measured = json.loads(result.stdout)
    assert measured["zygote"] is not None  # the file went to a forked child
    assert measured["reason"] == message("upload_too_heavy")
    assert measured["seconds"] < 3.0
    # More than the zygote alone (~40 MiB): the bomb's child is counted.
    assert 40 * 1024 < measured["child_kib"] < 200 * 1024


def test_many_streams_each_under_the_cap_are_refused_together():
    with pytest.raises(TooHeavy):
        inspect_upload(files.pdf_with_many_inflating_streams(), "cv.pdf")
    assert zygote_pid() is not None


def test_inspection_past_its_wall_clock_limit_is_killed_and_refused(monkeypatch):
    inspect_upload(files.pdf_with_text(), "cv.pdf")  # the zygote is up
    children = _spy_children(monkeypatch)
    started = time.monotonic()
    with pytest.raises(TooHeavy):
        inspect_upload(files.pdf_slow_to_read(), "cv.pdf", limits=Limits(wall_s=0.05))
    assert time.monotonic() - started < 1.0  # the parser needs most of a second
    assert len(children) == 1 and _until(lambda: _gone(children[0]))


def test_spawned_child_past_its_wall_clock_limit_is_killed_and_refused():
    started = time.monotonic()
    with pytest.raises(TooHeavy):
        sandbox.run_inspection(files.pdf_slow_to_read(), PDF, limits=Limits(wall_s=0.05),
                               max_pages=50, time_budget_s=1.5, spawn=True)
    assert time.monotonic() - started < 1.0
    assert zygote_pid() is None


def test_inspection_past_its_memory_limit_is_refused():
    # 40 MiB of address space is less than the interpreter and the PDF parser take
    # (~55 MiB, mapped by the zygote before the fork): the child may not grow at all,
    # and this page's 5,000 lines need more than the parser's free memory. Under the
    # default limit the same file is read.
    content = files.pdf_slow_to_read(5_000)
    assert "line 4999" in inspect_upload(content, "cv.pdf").text
    with pytest.raises(TooHeavy):
        inspect_upload(content, "cv.pdf", limits=Limits(memory_bytes=40 * MiB))
    assert zygote_pid() is not None


def test_the_inspection_child_gets_no_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("VAULT_KEYRING", "secret-keyring-marker")
    environment = child_environment()
    assert "VAULT_KEYRING" not in environment
    assert "secret-keyring-marker" not in json.dumps(environment)


def test_the_zygote_and_its_children_hold_no_secret_in_their_environment(monkeypatch):
    monkeypatch.setenv("VAULT_KEYRING", "secret-keyring-marker")
    monkeypatch.setenv("VAULT_SECRET_KEY", "secret-key-marker")
    seen: list[bytes] = []
    _spy_children(monkeypatch, lambda pid: seen.append(Path(f"/proc/{pid}/environ")
                                                       .read_bytes()))
    assert "Python" in _inspect(files.pdf_with_text())
    seen.append(Path(f"/proc/{zygote_pid()}/environ").read_bytes())
    assert len(seen) == 2 and b"PYTHONPATH=" in seen[1]  # the files were read
    for environ in seen:
        assert b"marker" not in environ and b"VAULT_" not in environ


def test_ocr_cut_off_by_the_wall_clock_keeps_the_file_accepted_without_text(monkeypatch):
    # The child's OCR answer is cut mid-line by the kill: the verdict before it stands.
    def cut_off(*args, **kwargs):
        return b'{"text": "", "ocr": true}\n{"ocr_text": "Kube'

    monkeypatch.setattr(sandbox, "_exchange", cut_off)
    doc = inspect_upload(files.pdf_scan(), "scan.pdf")
    assert doc.has_text is False and doc.text == ""
    assert zygote_pid() is not None


def test_ocr_cut_off_in_a_spawned_child_keeps_the_file_accepted_without_text(monkeypatch):
    def cut_off(*args, **kwargs):
        return b'{"text": "", "ocr": true}\n{"ocr_text": "Kube'

    monkeypatch.setattr(subprocess.Popen, "communicate", lambda self, *a, **k: (cut_off(), b""))
    text = sandbox.run_inspection(files.pdf_scan(), PDF, limits=Limits(), max_pages=50,
                                  time_budget_s=1.5, spawn=True)
    assert text == ""


# --- the zygote ------------------------------------------------------------------------

def test_each_file_gets_a_fresh_child_forked_by_one_zygote(monkeypatch):
    seen: dict[int, tuple[tuple[str, int, int] | None, set[str]]] = {}

    def look(pid: int) -> None:
        # The child waits for its file: by then it holds stdin, stdout, stderr only.
        fds = Path(f"/proc/{pid}/fd")
        _until(lambda: {p.name for p in fds.iterdir()} <= {"0", "1", "2"}, 2.0)
        seen[pid] = (_stat(pid), {p.name for p in fds.iterdir()})

    children = _spy_children(monkeypatch, look)
    assert "Python" in _inspect(files.pdf_with_text())
    zygote = zygote_pid()
    assert "Python" in _inspect(files.pdf_with_text())
    assert zygote_pid() == zygote
    assert len(children) == 2 and children[0] != children[1]
    for pid in children:
        _state, parent, group = seen[pid][0] or ("", 0, 0)
        assert parent == zygote and group == pid  # the zygote's, in a group of its own
        assert seen[pid][1] == {"0", "1", "2"}  # not the zygote's socket
        assert _until(lambda pid=pid: _stat(pid) is None)  # reaped by the zygote
    # The zygote keeps no end of the children's pipes (EOF is the child's exit).
    assert not [link for link in Path(f"/proc/{zygote}/fd").iterdir()
                if os.readlink(link).startswith("pipe:")]


def _memory_holds(pid: int, marker: bytes) -> bool:
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as memory:
        for line in maps:
            span, permissions = line.split()[:2]
            if not permissions.startswith("r") or "[vvar" in line or "[vsyscall" in line:
                continue
            start, end = (int(value, 16) for value in span.split("-"))
            try:
                memory.seek(start)
                if marker in memory.read(end - start):
                    return True
            except OSError:
                continue
    return False


def test_the_zygote_never_holds_a_byte_of_a_file():
    marker = "Zygotecheck " + os.urandom(8).hex()
    assert marker in _inspect(files.pdf_with_text(marker))
    assert _memory_holds(os.getpid(), marker.encode())  # the scan finds what is there
    assert not _memory_holds(zygote_pid(), marker.encode())


def test_a_child_killed_at_its_wall_clock_takes_its_ocr_tools_with_it(tmp_path, monkeypatch):
    # tesseract stops the child (as a starved machine would) and runs on: at the
    # deadline the parent kills the child's group, the stopped child and the tool alike.
    _fake_ocr_tools(tmp_path, monkeypatch, "kill -STOP $PPID\nexec sleep 60\n")
    members: dict[int, str] = {}
    states: set[str] = set()

    def watch(pid: int) -> None:
        def run() -> None:
            while (stat := _stat(pid)) is not None and stat[0] != "Z":
                states.add(stat[0])
                members.update(_group(pid))
                time.sleep(0.01)

        threading.Thread(target=run, daemon=True).start()

    children = _spy_children(monkeypatch, watch)
    text = _inspect(files.pdf_scan(), wall_s=1.5)
    assert text == ""  # the verdict came before the OCR: accepted, without text
    assert "sleep" in members.values() and "T" in states
    assert _until(lambda: not _group(children[0]))


def test_what_a_child_leaves_running_is_killed_once_its_answer_is_read(tmp_path, monkeypatch):
    # A tool that leaves a process behind (in the child's group) and answers: the child
    # ends normally, and its group goes with it.
    _fake_ocr_tools(tmp_path, monkeypatch,
                    "sleep 60 </dev/null >/dev/null 2>&1 &\nprintf 'left %s' $!\n")
    text = _inspect(files.pdf_scan())
    left = int(re.fullmatch(r"left (\d+)", text.strip()).group(1))
    assert _until(lambda: _gone(left))


def test_a_killed_zygote_is_replaced_at_the_next_file():
    assert "Python" in _inspect(files.pdf_with_text())
    first = sandbox._zygote
    assert first is not None
    os.kill(first.pid, signal.SIGKILL)
    assert "Python" in _inspect(files.pdf_with_text())
    assert zygote_pid() not in (None, first.pid)
    assert first.process.returncode == -signal.SIGKILL  # waited for, no zombie left


def test_a_zygote_that_stops_answering_is_replaced(monkeypatch):
    monkeypatch.setattr(sandbox, "ZYGOTE_REPLY_S", 0.5)
    assert "Python" in _inspect(files.pdf_with_text())
    first = sandbox._zygote
    assert first is not None
    os.kill(first.pid, signal.SIGSTOP)
    assert "Python" in _inspect(files.pdf_with_text())
    assert zygote_pid() not in (None, first.pid)
    assert first.process.returncode == -signal.SIGKILL


def test_without_a_working_zygote_the_file_goes_to_a_spawned_child(monkeypatch):
    started: list[int] = []

    class DeadOnArrival(sandbox._Zygote):
        def __init__(self) -> None:
            super().__init__()
            started.append(self.pid)
            self.process.kill()
            self.process.wait()

    spawned: list[bool] = []
    real_spawned = sandbox._spawned
    monkeypatch.setattr(sandbox, "_Zygote", DeadOnArrival)
    monkeypatch.setattr(sandbox, "_spawned",
                        lambda *args: spawned.append(True) or real_spawned(*args))
    assert "Python" in _inspect(files.pdf_with_text())
    assert len(started) == 2 and spawned == [True]  # one new zygote tried, then a spawn
    assert zygote_pid() is None


def _inspect_in_a_worker() -> tuple[int, int | None, int | None]:
    assert zygote_pid() is None  # the parent's is not this process's
    text = _inspect(files.pdf_with_text())
    zygote = zygote_pid()
    parent = (_stat(zygote) or ("", 0, 0))[1] if zygote else None
    assert "Python" in text
    return os.getpid(), zygote, parent


def test_a_forked_worker_starts_its_own_zygote_and_ends_it():
    assert "Python" in _inspect(files.pdf_with_text())
    ours = zygote_pid()
    with ProcessPoolExecutor(1, mp_context=get_context("fork")) as pool:
        worker, zygote, parent = pool.submit(_inspect_in_a_worker).result()
    assert zygote not in (None, ours) and parent == worker
    # The worker (os._exit, no atexit) closed and waited for it before it ended.
    assert zygote is not None and _stat(zygote) is None
    assert zygote_pid() == ours and "Python" in _inspect(files.pdf_with_text())


def test_a_forked_copy_does_not_keep_the_zygote_alive():
    # The fork's copy of the socket is closed at the fork: closing ours ends the zygote
    # at once (EOF), while the copy lives on.
    assert "Python" in _inspect(files.pdf_with_text())
    zygote = sandbox._zygote
    assert zygote is not None
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the forked copy)
        try:
            os.close(write)
            os.read(read, 1)  # until the parent is done
        finally:
            os._exit(0)
    os.close(read)
    try:
        close_zygote()
        assert zygote.process.returncode == 0  # it ended by itself, not killed
    finally:
        os.close(write)
        os.waitpid(child, 0)


def test_the_zygote_ends_when_its_parent_closes_it_or_exits():
    assert "Python" in _inspect(files.pdf_with_text())
    zygote = sandbox._zygote
    assert zygote is not None
    close_zygote()
    assert zygote.process.returncode == 0 and _stat(zygote.pid) is None
    # A parent that exits without closing it (os._exit: no atexit): EOF all the same.
    script = ("import os\nfrom tests import files\nfrom vault import sandbox\n"
              "sandbox.run_inspection(files.pdf_with_text(), sandbox.PDF,"
              " limits=sandbox.Limits(), max_pages=50, time_budget_s=1.5)\n"
              "print(sandbox.zygote_pid(), flush=True)\nos._exit(0)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    orphan = int(result.stdout)
    assert _until(lambda: _gone(orphan))


def test_threads_inspecting_at_once_each_get_their_own_file():
    # One socket, one zygote: a reply read by the wrong thread would hand a thread
    # another child, another file's text.
    def read(number: int) -> list[bool]:
        return [f"Applicant {number}" in _inspect(files.pdf_with_text(f"Applicant {number}"))
                for _ in range(3)]

    results: dict[int, list[bool]] = {}
    threads = [threading.Thread(target=lambda n=n: results.update({n: read(n)}))
               for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: [True, True, True] for n in range(4)}
    assert zygote_pid() is not None
