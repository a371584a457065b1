"""Measurement helpers shared by both drivers: CPU, RSS, lateness and keep-up.

Everything here runs inside the measured subprocess, so it is kept cheap: the window is
bracketed by two readings, nothing samples in between.
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psutil


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of an already sorted sequence."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _proc_cpu(p: psutil.Process) -> float:
    t = p.cpu_times()
    return float(t.user + t.system)


def children_cpu(me: psutil.Process) -> dict[int, float]:
    """CPU seconds of each live descendant process, by pid."""
    out: dict[int, float] = {}
    for child in me.children(recursive=True):
        try:
            out[child.pid] = _proc_cpu(child)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return out


def children_rss_mb(me: psutil.Process) -> float:
    """Summed RSS of the live descendant processes, MB."""
    total = 0
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total / 2**20


def peak_rss_mb() -> float:
    """This process's peak RSS so far (``ru_maxrss``, kernel-tracked, free to read), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mb() -> float:
    """This process's current RSS, MB."""
    return float(psutil.Process().memory_info().rss) / 2**20


@dataclass
class CpuWindow:
    """CPU used by this process (all threads) and by its children over a window.

    ``process_time`` (``CLOCK_PROCESS_CPUTIME_ID``, nanosecond resolution) is the headline
    figure; psutil's ``cpu_times`` (clock ticks, 10 ms resolution: too coarse for the
    0.1 % idle bar over a short window) is kept beside it as a cross-check.
    """

    wall0: float = 0.0
    cpu0: float = 0.0
    ps0: float = 0.0
    kids0: dict[int, float] | None = None
    wall: float = 0.0
    cpu_pct: float = 0.0
    cpu_pct_psutil: float = 0.0
    children_cpu_pct: float = 0.0
    threads: int = 0
    children_rss_mb: float = 0.0
    sys0: float = 0.0
    others_cpu_pct: float = 0.0
    """CPU used by every other process on the machine during the window (noise gauge)."""

    def start(self) -> None:
        self.sys0 = _system_busy()
        me = psutil.Process()
        self.kids0 = children_cpu(me)
        self.ps0 = _proc_cpu(me)
        self.cpu0 = time.process_time()
        self.wall0 = time.time()

    def stop(self) -> None:
        wall1 = time.time()
        cpu1 = time.process_time()
        me = psutil.Process()
        ps1 = _proc_cpu(me)
        kids1 = children_cpu(me)
        sys1 = _system_busy()
        self.threads = me.num_threads()
        self.children_rss_mb = children_rss_mb(me)
        self.wall = wall1 - self.wall0
        w = max(self.wall, 1e-9)
        self.cpu_pct = 100.0 * (cpu1 - self.cpu0) / w
        self.cpu_pct_psutil = 100.0 * (ps1 - self.ps0) / w
        kids0 = self.kids0 or {}
        used = sum(v - kids0.get(pid, 0.0) for pid, v in kids1.items())
        self.children_cpu_pct = 100.0 * used / w
        busy = 100.0 * (sys1 - self.sys0) / w
        if busy > 100.0 * (psutil.cpu_count() or 1) * 1.05:
            # The machine's counters jumped (seen once: 8e6 % in a 1 s window): the
            # gauge is unknown for this window, not a figure.
            self.others_cpu_pct = float("nan")
            return
        self.others_cpu_pct = max(0.0, busy - self.cpu_pct_psutil - self.children_cpu_pct)


def _system_busy() -> float:
    """CPU seconds the whole machine has spent not idle (all cores)."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def sleep_until(t: float) -> None:
    """Sleep until wall-clock ``t``."""
    while True:
        left = t - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.5))


def pair_lateness(dues: dict[int, list[float | None]], starts: dict[int, list[float]],
                  w0: float, w1: float) -> list[float]:
    """Lateness (body start minus due, seconds) of runs whose body started in [w0, w1).

    Per task, the j-th due the scheduler announced belongs to the j-th body start (runs of
    one task never overlap in these workloads). Runs without a due (first runs) are left
    out.
    """
    return [late for _, late in timed_lateness(dues, starts, w0, w1)]


def timed_lateness(dues: dict[int, list[float | None]], starts: dict[int, list[float]],
                   w0: float, w1: float) -> list[tuple[float, float]]:
    """``(start, lateness)`` pairs, as ``pair_lateness`` pairs them."""
    out: list[tuple[float, float]] = []
    for k, body in starts.items():
        for due, start in zip(dues.get(k, ()), body, strict=False):
            if due is not None and w0 <= start < w1:
                out.append((start, start - due))
    return out


def lateness_by_second(pairs: list[tuple[float, float]], w0: float, w1: float) -> list[float]:
    """The worst lateness (ms) in each second of the window: shows periodic stalls."""
    buckets = [0.0] * max(1, math.ceil(w1 - w0))
    for start, late in pairs:
        i = min(int(start - w0), len(buckets) - 1)
        buckets[i] = max(buckets[i], late * 1000)
    return [round(b, 1) for b in buckets]


def keep_up(starts: Iterable[list[float]], n: int, period: float, w0: float,
            w1: float) -> tuple[float, float, int]:
    """Steady-state runs per second and keep-up ratio over [w0, w1), and the raw count.

    Counting runs in a fixed window is quantized when all tasks fire together (a 20 s
    window holds 19 or 20 batches depending on phase: +-5 %; a 1.5 s window 1 or 2). So
    the rate comes from the intervals between consecutive runs of each task inside the
    window (a task with a single run inside: the interval ending at that run, whose
    start may lie in the warm-up): ``keep_up = period / mean(interval)``. A scheduler that runs a task
    every ``period`` scores 1.0; one whose runs drift late by ``d`` per run scores
    ``period / (period + d)``. When the window spans at least two periods, every task must
    have run in it; the ratio is multiplied by the fraction that did, so a starving task
    is not hidden by the others' intervals.
    """
    intervals = 0
    total = 0.0
    raw = 0
    ran = 0
    for body in starts:
        inside = [i for i, t in enumerate(body) if w0 <= t < w1]
        raw += len(inside)
        ran += bool(inside)
        # Prefer intervals wholly inside the window (no start-up transient); a task with
        # one run inside falls back on the interval that ends at that run.
        pairs = inside[1:] if len(inside) >= 2 else [i for i in inside if i >= 1]
        for i in pairs:
            intervals += 1
            total += body[i] - body[i - 1]
    if intervals == 0 or total <= 0:
        return 0.0, 0.0, raw
    ratio = period * intervals / total
    if w1 - w0 >= 2 * period and n:
        ratio *= ran / n
    return ratio * n / period, ratio, raw


def lateness_fields(lat_s: list[float]) -> dict[str, Any]:
    """p50/p99/max in ms (and the sample count) of lateness values in seconds."""
    s = sorted(lat_s)
    return {
        "lat_n": len(s),
        "lat_p50_ms": percentile(s, 50) * 1000 if s else None,
        "lat_p99_ms": percentile(s, 99) * 1000 if s else None,
        "lat_max_ms": s[-1] * 1000 if s else None,
    }


def base_result(cpu: CpuWindow) -> dict[str, Any]:
    """The fields every workload reports (read at the end of the window)."""
    return {
        "window_s": cpu.wall,
        "cpu_pct": cpu.cpu_pct,
        "cpu_pct_psutil": cpu.cpu_pct_psutil,
        "children_cpu_pct": cpu.children_cpu_pct,
        "peak_rss_mb": peak_rss_mb(),
        "children_rss_mb": cpu.children_rss_mb,
        "threads": cpu.threads,
        "others_cpu_pct": cpu.others_cpu_pct,
        "loadavg_1m_end": os.getloadavg()[0],
        "pid": os.getpid(),
    }


def dir_size_mb(path: str | os.PathLike[str]) -> float:
    """Total size of the files in a folder (the store and its WAL), MB."""
    total = 0
    for entry in os.scandir(path):
        if entry.is_file():
            total += entry.stat().st_size
    return total / 2**20


def file_size_mb(path: str | os.PathLike[str]) -> float:
    """Size of one file (0 if it does not exist), MB."""
    try:
        return os.stat(path).st_size / 2**20
    except FileNotFoundError:
        return 0.0
