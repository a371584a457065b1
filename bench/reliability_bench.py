"""Reliability figures (issue 6): start-up with a large history, shutdown with many
cooperative thread runs, and RSS / store size over a long run of trivial tasks.

    .venv/bin/python bench/reliability_bench.py [--runs 1000000] [--history 1000000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from tui_sched import App
from tui_sched.args import TerminationFlag
from tui_sched.config import SchedulerConfig
from tui_sched.engine.bus import EventBus
from tui_sched.engine.events import RunFinished
from tui_sched.engine.scheduler import Engine
from tui_sched.store.base import Outcome, RunEnd, RunRecord, Trigger
from tui_sched.store.sqlite import SqliteRunStore


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def startup_with_history(rows: int, tasks: int = 50) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.sqlite3"
        store = SqliteRunStore(path)
        t = 1_700_000_000.0
        for i in range(rows):
            rid = store.next_run_id()
            name = f"t{i % tasks}"
            store.start_run(RunRecord(rid, name, Trigger.SCHEDULED, t + i))
            store.finish_run(rid, RunEnd(t + i + 0.5, Outcome.SUCCESS))
            if i % 1000 == 999:
                store.flush()
        store.close()
        app = App(state_dir=None)
        for i in range(tasks):
            app.task("daily", func=lambda: None, name=f"t{i}", execution="main")
        t0 = time.perf_counter()
        engine = Engine(app.session, SqliteRunStore(path),
                        config=SchedulerConfig(keep_runs=None, keep_days=None))
        th = threading.Thread(target=engine.run)
        th.start()
        engine.ready.wait()
        ready = time.perf_counter() - t0
        engine.request_stop()
        th.join()
        print(f"start-up with {rows:,} history rows ({size_mb(path):.0f} MB): "
              f"engine ready in {ready * 1000:.0f} ms")


def shutdown_with_cooperative_threads(n: int = 50) -> None:
    app = App(state_dir=None)
    started = threading.Barrier(n + 1)

    def cooperative(flag=TerminationFlag()):  # type: ignore[no-untyped-def]
        started.wait()
        flag.wait()

    for i in range(n):
        app.task(func=cooperative, name=f"c{i}", force_run=True)
    from tui_sched.store.memory import MemoryRunStore

    engine = Engine(app.session, MemoryRunStore(), config=SchedulerConfig(shutdown_timeout=0.0))
    th = threading.Thread(target=engine.run)
    th.start()
    started.wait()
    t0 = time.perf_counter()
    engine.request_stop()
    th.join()
    print(f"shutdown with {n} running thread tasks honouring TerminationFlag: "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms")


def long_run(runs: int, tasks: int = 100, keep: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.sqlite3"
        app = App(state_dir=None)
        done = threading.Event()
        count = [0]
        marks: list[tuple[int, float, float]] = []

        def on_event(e: object) -> None:
            if isinstance(e, RunFinished):
                count[0] += 1
                n = count[0]
                if n in (runs // 100, runs // 2, runs) or n % (runs // 10) == 0:
                    marks.append((n, rss_mb(), size_mb(path)))
                if n >= runs:
                    done.set()

        for i in range(tasks):
            app.task("true", func=int, name=f"t{i}", execution="main")
        bus = EventBus()
        bus.subscribe(on_event)
        engine = Engine(app.session, SqliteRunStore(path), bus=bus,
                        config=SchedulerConfig(keep_runs=keep))
        th = threading.Thread(target=engine.run)
        t0 = time.perf_counter()
        th.start()
        done.wait()
        elapsed = time.perf_counter() - t0
        engine.request_stop()
        th.join()
        print(f"long run: {runs:,} trivial runs over {tasks} tasks in {elapsed:.0f} s "
              f"({runs / elapsed:,.0f} runs/s), keep_runs={keep}")
        for n, rss, size in sorted(set(marks)):
            print(f"  after {n:>9,} runs: RSS {rss:6.1f} MB, store {size:6.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"pid {os.getpid()}")
    shutdown_with_cooperative_threads()
    startup_with_history(args.history)
    long_run(args.runs)


if __name__ == "__main__":
    main()
