"""Ratios that hold on a shared machine: interleaved pairs, median of per-pair ratios.

A ratio of two medians measured one after the other swings with whatever else the
machine runs at the time (a crypto run under load once printed seal 0.58 and open 1.73).
Here the two sides alternate (A, B, B, A, A, B, ...: each goes first in every other
pair, so neither always runs on a warmer cache), each pair gives one ratio, and the
figure is the median of those ratios with its spread: a burst of load slows both
sides of the pairs it falls in, and the median drops the pairs it hit unevenly.

Where the work runs in the benchmark's own process, the pairs can also be timed in CPU
time of the thread (cpu_seconds): on a machine with more runnable processes than cores,
wall clock also counts the turns a unit waits for a core, which differ between the two
sides of a pair; CPU time does not.

Every benchmark script imports this module; nothing else computes a ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by linear interpolation (q in [0, 1])."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def seconds(fn: Callable[[], object]) -> float:
    """Wall clock: what a user waits, load included."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU time of this thread: for work done in this process (AES, SQLite), the time
    other processes take from it while it waits for a core does not count, so the two
    sides of a pair are measured alike however the machine is loaded."""
    start = time.thread_time()
    fn()
    return time.thread_time() - start


@dataclass
class Pairs:
    """Timings of A and B taken in interleaved pairs (seconds), and their ratios."""

    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)

    def add(self, a: float, b: float) -> None:
        self.a.append(a)
        self.b.append(b)

    def extend(self, other: Pairs) -> None:
        self.a += other.a
        self.b += other.b

    def ratios(self, invert: bool = False) -> list[float]:
        """A / B per pair (B / A with invert: a throughput ratio from times)."""
        return [(b / a if invert else a / b) for a, b in zip(self.a, self.b, strict=True)]

    def ratio(self, invert: bool = False) -> float:
        return statistics.median(self.ratios(invert))

    def spread(self, invert: bool = False) -> str:
        r = self.ratios(invert)
        return (
            f"IQR {quantile(r, 0.25):.2f}-{quantile(r, 0.75):.2f}, "
            f"min-max {min(r):.2f}-{max(r):.2f}, {len(r)} pairs"
        )

    def summary(self, invert: bool = False) -> str:
        """ "0.97 (IQR 0.93-1.01, min-max 0.88-1.10, 15 pairs)"."""
        return f"{self.ratio(invert):.2f} ({self.spread(invert)})"


def interleave(
    a: Callable[[], object],
    b: Callable[[], object],
    pairs: int,
    *,
    warmup: int = 1,
    timer: Callable[[Callable[[], object]], float] = seconds,
    into: Pairs | None = None,
) -> Pairs:
    """Time a and b in `pairs` interleaved pairs, each going first in turn, after
    `warmup` untimed calls of each."""
    for _ in range(warmup):
        a()
        b()
    result = into if into is not None else Pairs()
    for n in range(pairs):
        if n % 2 == 0:
            ta = timer(a)
            tb = timer(b)
        else:
            tb = timer(b)
            ta = timer(a)
        result.add(ta, tb)
    return result


def batch(fn: Callable[[], object], number: int) -> Callable[[], object]:
    """fn called `number` times, as one timed unit (for operations of microseconds)."""

    def run() -> None:
        for _ in range(number):
            fn()

    return run
