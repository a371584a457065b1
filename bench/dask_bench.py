"""``execution="dask"`` on a 2-worker LocalCluster (issue 22), two rows:

* overhead: rounds of 1,000 short runs through tui-sched (1,000 dask tasks forced at
  once in one running engine) against rounds of 1,000 ``client.submit`` calls of an
  equally short function gathered by one client, in the same process on the same warm
  cluster. The rounds alternate (raw, tui-sched, then tui-sched, raw, ...) after one
  warm-up round of each (connecting, the workers' first imports), so a slow phase of a
  shared machine weighs on both; the figure is the median of the per-pair ratios of
  wall times. Bar: <= 1.5 x.
* keep-up: 200 x ``every 1 second`` dask tasks; runs finished in the window over the
  runs due in it. Bar: >= 0.99.

    .venv/bin/python bench/dask_bench.py               # both rows (about 80 s)
    .venv/bin/python bench/dask_bench.py --rounds 11   # more pairs, a steadier median
    .venv/bin/python bench/dask_bench.py --quick       # smaller, for a smoke run

``bench/run.py`` runs it after its table (``--no-dask`` skips it).
"""

from __future__ import annotations

import argparse
import json
import operator
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TASKS_MODULE = "def short(i=0):\n    return i\n"


def _cluster() -> Any:
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        return distributed.LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)


def _short_task(folder: Path) -> Any:
    """``short`` as the tasks folder loader gives it (pinned: its source travels)."""
    from tui_sched.tasks.modules import Source, load_source

    path = folder / "dask_bench_tasks.py"
    path.write_text(TASKS_MODULE)
    return load_source(Source.of(path, path.read_bytes()), pinned=True).short


class _Counter:
    """Counts ``RunFinished`` events (and the ones that were not a success)."""

    def __init__(self) -> None:
        from tui_sched.engine.events import RunFinished
        from tui_sched.store.base import Outcome

        self.done = 0
        self.bad = 0
        self._target: int | None = None
        self._cond = threading.Condition()
        self._finished, self._success = RunFinished, Outcome.SUCCESS

    def __call__(self, event: Any) -> None:
        if isinstance(event, self._finished):
            with self._cond:
                self.done += 1
                self.bad += event.run.outcome is not self._success
                # Only the waiter's count wakes it: a wake-up per run (a GIL hand-over to
                # the main thread) would be counted as tui-sched's time.
                if self._target is not None and self.done >= self._target:
                    self._cond.notify_all()

    def wait(self, count: int, timeout: float) -> None:
        with self._cond:
            self._target = count
            try:
                if not self._cond.wait_for(lambda: self.done >= count, timeout):
                    raise TimeoutError(f"{self.done} of {count} runs finished")
            finally:
                self._target = None


class _Engine:
    """An engine on its own thread, with its history in memory (the cluster's work is
    what is measured, not the store's)."""

    def __init__(self, app: Any, address: str) -> None:
        from tui_sched.config import DaskSettings, SchedulerConfig
        from tui_sched.engine.bus import EventBus
        from tui_sched.engine.scheduler import Engine
        from tui_sched.store.memory import MemoryRunStore

        self.counter = _Counter()
        bus = EventBus()
        bus.subscribe(self.counter)
        self.engine = Engine(app.session, MemoryRunStore(), bus=bus, config=SchedulerConfig(
            dask=DaskSettings(address=address), shutdown_timeout=60))
        self._thread = threading.Thread(target=self.engine.run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.engine.request_stop()
        self._thread.join(60)


class _TuiRounds:
    """``n`` dask tasks without a condition in one running engine; a round forces them
    all at once (on the engine's thread) and waits for their ``n`` runs to finish."""

    def __init__(self, address: str, short: Any, n: int) -> None:
        from tui_sched import App

        app = App(state_dir=None)
        self._tasks = [app.task(func=short, execution="dask", name=f"t{i}",
                                parameters={"i": i}) for i in range(n)]
        self._engine = _Engine(app, address)

    def _force_all(self) -> None:
        for task in self._tasks:
            task.force_run = True

    def round(self) -> tuple[float, float, int]:
        """(wall seconds, CPU seconds of this process, runs that were not a success)."""
        counter = self._engine.counter
        target, bad = counter.done + len(self._tasks), counter.bad
        start, cpu = time.perf_counter(), time.process_time()
        self._engine.engine.call(self._force_all)
        counter.wait(target, 600)
        return time.perf_counter() - start, time.process_time() - cpu, counter.bad - bad

    def close(self) -> None:
        self._engine.stop()


def _raw_round(client: Any, n: int) -> tuple[float, float]:
    """``n`` ``client.submit`` calls of a short function, gathered: (wall seconds, CPU
    seconds of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    client.gather([client.submit(operator.neg, i, pure=False) for i in range(n)])
    return time.perf_counter() - start, time.process_time() - cpu


def overhead(address: str, short: Any, n: int, rounds: int) -> dict[str, Any]:
    """The overhead row: medians over ``rounds`` alternating pairs after a warm-up."""
    import distributed

    walls: dict[str, list[float]] = {"raw": [], "tui": []}
    cpus: dict[str, list[float]] = {"raw": [], "tui": []}
    bad = 0
    tui = _TuiRounds(address, short, n)
    try:
        with distributed.Client(address) as client:  # type: ignore[no-untyped-call]
            _raw_round(client, n)  # warm-up: not counted
            bad += tui.round()[2]
            for i in range(rounds):
                for side in ("raw", "tui") if i % 2 == 0 else ("tui", "raw"):
                    if side == "raw":
                        wall, cpu = _raw_round(client, n)
                    else:
                        wall, cpu, failed = tui.round()
                        bad += failed
                    walls[side].append(wall)
                    cpus[side].append(cpu)
    finally:
        tui.close()
    ratios = [t / r for t, r in zip(walls["tui"], walls["raw"], strict=True)]
    return {"n": n, "rounds": rounds, "raw_s": walls["raw"], "tui_s": walls["tui"],
            "ratios": ratios, "raw_median_s": statistics.median(walls["raw"]),
            "tui_median_s": statistics.median(walls["tui"]), "ratio": statistics.median(ratios),
            "raw_cpu_median_s": statistics.median(cpus["raw"]),
            "tui_cpu_median_s": statistics.median(cpus["tui"]), "not_success": bad}


def keep_up(address: str, short: Any, n: int, warmup: float, window: float) -> dict[str, Any]:
    """Runs finished in ``window`` (after ``warmup``) over the ``n * window`` due."""
    from tui_sched import App

    app = App(state_dir=None)
    for i in range(n):
        app.task("every 1 second", func=short, execution="dask", name=f"e{i}")
    engine = _Engine(app, address)
    try:
        time.sleep(warmup)  # (a benchmark window, not a test waiting for something)
        before, bad_before = engine.counter.done, engine.counter.bad
        time.sleep(window)
        finished = engine.counter.done - before
        bad = engine.counter.bad - bad_before
    finally:
        engine.stop()
    return {"tasks": n, "window_s": window, "finished": finished,
            "keep_up": finished / (n * window), "not_success": bad}


def report(over: dict[str, Any], keep: dict[str, Any]) -> list[str]:
    """The two rows, as printed."""
    n = over["n"]
    raw, tui = over["raw_median_s"], over["tui_median_s"]
    spread = ", ".join(f"{r:.2f}" for r in over["ratios"])
    raw_cpu, tui_cpu = over["raw_cpu_median_s"] / n * 1e3, over["tui_cpu_median_s"] / n * 1e3
    return [
        f"dask overhead  {n} short runs, median of {over['rounds']} alternating pairs: "
        f"client.submit {raw:.2f} s ({raw / n * 1e3:.2f} ms/run), tui-sched {tui:.2f} s "
        f"({tui / n * 1e3:.2f} ms/run): {over['ratio']:.2f} x (bar <= 1.5 x; pairs: {spread}); "
        f"not success: {over['not_success']}",
        f"               CPU of this process (client side and the cluster's scheduler) per "
        f"run: client.submit {raw_cpu:.2f} ms, tui-sched {tui_cpu:.2f} ms",
        f"dask keep-up   {keep['tasks']} x every 1 second, {keep['window_s']:g} s: "
        f"{keep['keep_up']:.3f} (bar >= 0.99); not success: {keep['not_success']}",
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="200 runs, 3 pairs, 5 s window")
    parser.add_argument("--rounds", type=int, help="alternating pairs (default 7; quick 3)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = parser.parse_args(argv)
    n, rounds, window = (200, 3, 5.0) if args.quick else (1000, 7, 20.0)
    rounds = args.rounds or rounds
    cluster = _cluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            short = _short_task(Path(tmp))
            over = overhead(cluster.scheduler_address, short, n, rounds)
            keep = keep_up(cluster.scheduler_address, short, 200, 3.0, window)
    finally:
        cluster.close()
    for line in report(over, keep):
        print(line, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"overhead": over, "keep_up": keep}, indent=1))
    ok = (over["ratio"] <= 1.5 and not over["not_success"]
          and keep["keep_up"] >= 0.99 and not keep["not_success"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
