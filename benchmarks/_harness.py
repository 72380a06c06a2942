"""Timing plumbing shared by every benchmark: interleaved rounds, medians, spread, machine facts.

Contenders are timed in the same run, A B C A B C ..., with the order reversed every other
round so that a slow drift of the machine (other processes, thermal state) hits them all
alike. Each sample times ``number`` calls; ratios are computed per round from adjacent
samples and then summarised, never from absolute times taken at different moments.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata

#: A contender: runs ``n`` requests (or operations) back to back.
Batch = Callable[[int], object]


def repeat(call: Callable[[], object]) -> Batch:
    """A batch runner that calls ``call`` ``n`` times."""

    def run(n: int) -> None:
        for _ in range(n):
            call()

    return run


@dataclass
class Samples:
    """Per-call cost samples (ns) of several contenders, aligned by round."""

    per_call: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.per_call[name])

    def spread(self, name: str) -> tuple[float, float]:
        """The interquartile range of one contender's samples."""
        return quartiles(self.per_call[name])

    def added(self, name: str, base: str) -> list[float]:
        """Per-round cost ``name`` adds over ``base`` (ns)."""
        return [a - b for a, b in zip(self.per_call[name], self.per_call[base], strict=True)]

    def ratio_of_added(self, name: str, other: str, base: str) -> list[float]:
        """Per-round (name - base) / (other - base)."""
        out = []
        for a, o, b in zip(
            self.per_call[name], self.per_call[other], self.per_call[base], strict=True
        ):
            if o - b > 0:
                out.append((a - b) / (o - b))
        return out

    def ratio(self, name: str, other: str) -> list[float]:
        """Per-round name / other."""
        return [a / o for a, o in zip(self.per_call[name], self.per_call[other], strict=True)]


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < 4:
        return (min(values), max(values))
    q = statistics.quantiles(values, n=4)
    return (q[0], q[2])


def calibrate(run: Batch, target_seconds: float = 0.02) -> int:
    """How many calls take about ``target_seconds``."""
    number = 1
    while True:
        start = time.perf_counter()
        run(number)
        elapsed = time.perf_counter() - start
        if elapsed >= target_seconds / 4 or number >= 1 << 20:
            return max(1, int(number * target_seconds / max(elapsed, 1e-9)))
        number *= 4


def interleave(
    contenders: Mapping[str, Batch],
    *,
    rounds: int = 40,
    sample_seconds: float = 0.02,
    warmup: int = 200,
) -> Samples:
    """Time every contender once per round, in alternating order; per-call ns per round."""
    names = list(contenders)
    for name in names:
        contenders[name](warmup)
    number = min(calibrate(contenders[n], sample_seconds) for n in names)
    samples = Samples({n: [] for n in names})
    # The collector stays on: a contender that leaves cyclic garbage pays for it, as it would
    # in a server. Each sample starts from a collected heap.
    for round_ in range(rounds):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            run = contenders[name]
            gc.collect()
            start = time.perf_counter_ns()
            run(number)
            samples.per_call[name].append((time.perf_counter_ns() - start) / number)
    return samples


def fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def fmt_ratio(values: Sequence[float]) -> str:
    """Median and interquartile range of per-round ratios."""
    if not values:
        return "n/a"
    lo, hi = quartiles(values)
    return f"{statistics.median(values):.2f} (IQR {lo:.2f} to {hi:.2f})"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def machine() -> str:
    """One line naming the machine and the interpreter."""
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()} ({sys.implementation.name})"
    )


def versions(*distributions: str) -> str:
    return ", ".join(f"{d} {version(d)}" for d in distributions)
