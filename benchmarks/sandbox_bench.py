"""Upload sandbox benchmark: a new interpreter per file (spawn) against a child forked by
the process's zygote (vault/sandbox.py), on the demo CV (a PDF with a text layer).

Batches of --files inspections alternate between the two ways in --pairs interleaved
pairs (benchmarks/pairs.py: spawn then zygote, zygote then spawn, ...); per batch:
- wall clock per file (what an upload or an import line waits);
- CPU per file of this process (time.process_time: pipes, poll, JSON) and of the
  processes doing the work. Spawn: RUSAGE_CHILDREN (the children are waited for).
  Zygote: the children are the zygote's, so each child's run time is read from
  /proc/<pid>/schedstat while it is a zombie (the zygote reaps a child only once the
  parent releases it; here the release waits until the batch's figures are taken),
  plus what the zygote itself spent (its own schedstat: the forks and reaping).
Printed: per-way medians, and the spawn/zygote ratio of CPU and wall per pair (median
with its spread). Also the first file of a process, which starts its zygote.

Run: .venv/bin/python benchmarks/sandbox_bench.py [--files 10] [--pairs 5]
Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pairs import Pairs

from vault import sandbox
from vault.services import demo
from vault.uploads import MAX_PAGES, TEXT_BUDGET_S


@dataclass
class Batch:
    wall: float  # seconds per file
    parent_cpu: float
    work_cpu: float  # the children (and the zygote)

    @property
    def cpu(self) -> float:
        return self.parent_cpu + self.work_cpu


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_seconds(pid: int) -> float:
    """CPU time of a process (its one thread), from the scheduler, in seconds."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def inspect(content: bytes, *, spawn: bool) -> str:
    return sandbox.run_inspection(content, sandbox.PDF, limits=sandbox.Limits(),
                                  max_pages=MAX_PAGES, time_budget_s=TEXT_BUDGET_S,
                                  spawn=spawn)


def spawn_batch(content: bytes, files: int) -> Batch:
    parent, children, started = time.process_time(), children_cpu(), time.perf_counter()
    for _ in range(files):
        inspect(content, spawn=True)
    wall = time.perf_counter() - started
    return Batch(wall / files, (time.process_time() - parent) / files,
                 (children_cpu() - children) / files)


def zygote_batch(content: bytes, files: int) -> Batch:
    zygote = sandbox.zygote_pid()
    assert zygote is not None, "warm the zygote up first"
    held: list[tuple[object, int]] = []
    release = sandbox._release
    sandbox._release = lambda z, pid: held.append((z, pid))  # type: ignore[assignment]
    try:
        before = run_seconds(zygote)
        parent, started = time.process_time(), time.perf_counter()
        for _ in range(files):
            inspect(content, spawn=False)
        wall = time.perf_counter() - started
        parent_cpu = time.process_time() - parent
    finally:
        sandbox._release = release
    work = run_seconds(zygote) - before
    for owner, pid in held:
        while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            time.sleep(0.001)  # killed: dying
        work += run_seconds(pid)
        release(owner, pid)  # type: ignore[arg-type]
    assert sandbox.zygote_pid() == zygote, "the zygote was replaced during the batch"
    return Batch(wall / files, parent_cpu / files, work / files)


def first_file(content: bytes) -> Batch:
    """A process's first file: its zygote starts (imports, ready), then forks."""
    sandbox.close_zygote()
    parent, children, started = time.process_time(), children_cpu(), time.perf_counter()
    inspect(content, spawn=False)
    wall = time.perf_counter() - started
    parent_cpu = time.process_time() - parent
    sandbox.close_zygote()  # waited for: its CPU and its children's reach RUSAGE_CHILDREN
    return Batch(wall, parent_cpu, children_cpu() - children)


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10, help="inspections per batch")
    parser.add_argument("--pairs", type=int, default=5, help="interleaved pairs of batches")
    args = parser.parse_args()

    person = next(iter(demo.people(1)))
    assert person.data.cv is not None
    content = person.data.cv.content
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC; {' '.join(sys.argv)}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"{len(os.sched_getaffinity(0))} CPUs; Python {sys.version.split()[0]}")
    print(f"demo CV: {len(content)} bytes, text {len(inspect(content, spawn=True))} chars; "
          f"{args.pairs} pairs of batches of {args.files} files")

    firsts = [first_file(content) for _ in range(3)]
    inspect(content, spawn=False)  # the zygote that serves the pairs, warm
    sides: dict[str, list[Batch]] = {"spawn": [], "zygote": []}
    runs: dict[str, Callable[[], Batch]] = {
        "spawn": lambda: spawn_batch(content, args.files),
        "zygote": lambda: zygote_batch(content, args.files),
    }
    cpu, wall = Pairs(), Pairs()
    for pair in range(args.pairs):
        order = ("spawn", "zygote") if pair % 2 == 0 else ("zygote", "spawn")
        measured = {name: runs[name]() for name in order}
        for name, batch in measured.items():
            sides[name].append(batch)
        cpu.add(measured["spawn"].cpu, measured["zygote"].cpu)
        wall.add(measured["spawn"].wall, measured["zygote"].wall)
    sandbox.close_zygote()

    print("\nper file, ms (median of batches)   wall   this process   children   CPU total")
    for name, batches in sides.items():
        print(f"  {name:<32} {ms([b.wall for b in batches])}        "
              f"{ms([b.parent_cpu for b in batches])}    {ms([b.work_cpu for b in batches])}"
              f"     {ms([b.cpu for b in batches])}")
    print(f"  {'first file (zygote start), 3x':<32} {ms([b.wall for b in firsts])}        "
          f"{ms([b.parent_cpu for b in firsts])}    {ms([b.work_cpu for b in firsts])}"
          f"     {ms([b.cpu for b in firsts])}")
    print(f"\nspawn / zygote, CPU per file:  {cpu.summary()}")
    print(f"spawn / zygote, wall per file: {wall.summary()}")


if __name__ == "__main__":
    main()
