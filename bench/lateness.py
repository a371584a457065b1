"""Where the lateness of an ``every`` workload comes from, second by second.

    .venv/bin/python bench/lateness.py [WORKLOAD] [--seconds 22] [--skip 2] [--store memory]

Runs tui-sched's engine on one ``every`` workload (the same task set as ``run.py``) and
prints, for the starts due after ``--skip`` seconds: mean, p50, p99 and max of the
engine's recorded lateness (start minus due), split into the part before the tick that
started the run began (the engine was asleep or busy) and the part inside it (queued
behind other starts of the tick, or of the train of due tasks it went on to follow);
the keep-up that mean implies for `every`'s semantics (the next start counts from this
one); the process CPU per start; and per second of dues, the mean and max lateness, the
engine thread's CPU over that second's train and how long it waited inside it (a train
keeps the spacing of its slowest round: a round that needs more CPU than the earlier ones
makes its later starts late, one that needs less waits), with the pauses that overlapped
that second's starts: full garbage collections, history commits on the store's writer
thread and WAL checkpoints, the writer's own truncating ones included (longer than 1 ms).

This is the tool that found the causes fixed for issue 7 (a loop timer firing late, full
collections set off by buffered rows, pruning during the first rounds). ``run.py``'s
keep-up is measured on the task bodies' own start times; this one uses the engine's
events, so it needs no measuring code in the tasks.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import drivers  # noqa: E402
from workloads import BY_NAME  # noqa: E402

from tui_sched.engine.events import RunStarted  # noqa: E402


def _q(values: list[float], p: float) -> float:
    s = sorted(values)
    return 1000 * s[int(p * (len(s) - 1))] if s else float("nan")


def _time_checkpoints(pauses: list[tuple[str, float, float]]) -> None:
    """Record each WAL checkpoint the store's checkpointer thread runs as a pause (it
    runs on the other core, but on two vCPUs that may share a physical core)."""
    import sqlite3
    import types

    from tui_sched.store import checkpoint

    class Timed:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self._conn = conn

        def execute(self, sql: str, *args: Any) -> Any:
            began = time.time()
            rows = self._conn.execute(sql, *args).fetchall()
            pauses.append(("checkpoint", began, time.time()))
            return types.SimpleNamespace(fetchall=lambda: rows)

        def close(self) -> None:
            self._conn.close()

    shim = types.SimpleNamespace(**vars(sqlite3))
    shim.connect = lambda *a, **k: Timed(sqlite3.connect(*a, **k))
    checkpoint.sqlite3 = shim  # type: ignore[assignment]

    # The writer thread's own TRUNCATE, when the background ones fall behind.
    truncate = checkpoint.Checkpointer.truncate

    def timed_truncate(self: checkpoint.Checkpointer, conn: sqlite3.Connection) -> bool:
        began = time.time()
        done = truncate(self, conn)
        pauses.append(("truncating checkpoint", began, time.time()))
        return done

    checkpoint.Checkpointer.truncate = timed_truncate  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    every = sorted(n for n, w in BY_NAME.items() if w.kind == "every" and w.execution == "main")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", nargs="?", default="every1s_main_1000", choices=every)
    p.add_argument("--seconds", type=float, default=22.0)
    p.add_argument("--skip", type=float, default=2.0, help="seconds of dues left out at the start")
    p.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    p.add_argument("--switch-interval", type=float, default=None,
                   help="sys.setswitchinterval (s) for this process, to try other values")
    a = p.parse_args(argv)
    if a.switch_interval is not None:
        sys.setswitchinterval(a.switch_interval)

    pauses: list[tuple[str, float, float]] = []  # (what, began, ended), epoch seconds
    gc_began = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_began[0] = time.time()
        elif info["generation"] == 2:
            pauses.append(("full GC", gc_began[0], time.time()))

    _time_checkpoints(pauses)
    wl = replace(BY_NAME[a.workload], window=a.seconds)
    ticks: list[float] = []
    # (due, tick began, recorded start, engine thread CPU, time held so far), seconds
    rows: list[tuple[float, float, float, float, float]] = []
    held = [0.0]
    with tempfile.TemporaryDirectory(prefix="tui-sched-lateness-") as tmp:
        drv = drivers.TuiDriver(wl, Path(tmp), store=a.store)
        engine, store = drv.engine, drv.store
        tick = engine._tick

        def timed_tick() -> None:
            ticks.append(time.time())
            tick()

        engine._tick = timed_tick  # type: ignore[method-assign]
        clock = engine.clock
        hold = clock.hold

        def timed_hold(deadline: float) -> float | None:
            # Time spent waiting inside a train (slept or spun) rather than working.
            began = time.perf_counter()
            try:
                return hold(deadline)
            finally:
                held[0] += time.perf_counter() - began

        clock.hold = timed_hold  # type: ignore[method-assign]
        if a.store == "sqlite":
            store = drv.sqlite
            commit = store._commit_batch

            def timed_commit(batch: Any, ops: Any) -> None:
                began = time.time()
                commit(batch, ops)
                pauses.append((f"commit of {len(batch)} runs", began, time.time()))

            store._commit_batch = timed_commit

        started = [0]

        def on_event(e: Any) -> None:
            if type(e) is RunStarted:
                started[0] += 1
                if e.due is not None:
                    rows.append((e.due, ticks[-1], e.run.start, time.thread_time(), held[0]))

        drv.bus.subscribe(on_event)
        gc.callbacks.append(on_gc)
        t0 = time.time()
        cpu0 = time.process_time()
        drv.start()
        time.sleep(a.seconds)
        drv.stop()
        cpu = time.process_time() - cpu0
        gc.callbacks.remove(on_gc)

    w0 = t0 + a.skip
    rows = [r for r in rows if r[0] >= w0]
    if not rows:
        print("no starts with a due time in the window")
        return 1
    late = [s - d for d, _, s, _, _ in rows]
    before = [max(0.0, t - d) for d, t, _, _, _ in rows]
    inside = [s - max(t, d) for d, t, s, _, _ in rows]
    mean = statistics.mean(late)
    print(f"{a.workload} ({a.store} store), {len(rows):,} starts due in the last "
          f"{a.seconds - a.skip:g} s, {len(ticks):,} ticks:")
    print(f"  lateness mean {1000 * mean:.3f} ms, p50 {_q(late, .5):.2f}, p99 {_q(late, .99):.2f}, "
          f"max {_q(late, 1):.2f} ms; keep-up implied {wl.period / (wl.period + mean):.5f}")
    print(f"  process CPU {1e6 * cpu / started[0]:.1f} us per start ({started[0]:,} starts, "
          "start-up included)")
    print(f"  before the tick: mean {1000 * statistics.mean(before):.3f} ms, p99 "
          f"{_q(before, .99):.2f}; inside it: mean {1000 * statistics.mean(inside):.3f} ms, "
          f"p99 {_q(inside, .99):.2f}")
    print("  per second of dues: lateness; how long its starts took, the engine thread's CPU "
          "between its first and last start, and how much of that time the engine waited in "
          "the train for the next start (a train keeps the spacing of its slowest round)")
    per: defaultdict[int, list[tuple[float, float, float, float]]] = defaultdict(list)
    for d, _, s, cpu_at, held_at in rows:
        per[int(d - w0)].append((d, s, cpu_at, held_at))
    for k, v in sorted(per.items()):
        first, last = min(r[0] for r in v), max(r[1] for r in v)
        lv = [s - d for d, s, _, _ in v]
        by_start = sorted(v, key=lambda r: r[1])
        work = by_start[-1][2] - by_start[0][2]
        waited = by_start[-1][3] - by_start[0][3]
        seen = [f"{what} {1000 * (e - b):.1f} ms at +{1000 * (b - first):.0f} ms"
                for what, b, e in pauses if b < last and e > first and e - b > 0.001]
        print(f"  second {k:2d}: mean {1000 * statistics.mean(lv):6.2f} ms, max "
              f"{1000 * max(lv):6.1f} ms, starts spread over {1000 * (last - first):4.0f} ms, "
              f"engine CPU {1000 * work:5.1f} ms, waited {1000 * waited:5.1f} ms"
              + (f"; {', '.join(seen)}" if seen else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
