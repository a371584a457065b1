"""``execution="dask"`` on a 2-worker LocalCluster (issue 22), two rows:

* overhead: 1,000 short tasks through tui-sched (each a dask run, forced at once) against
  the same number of ``client.submit`` calls of an equally short function, in the same
  run on the same cluster; bar: tui-sched's wall time <= 1.5 x the direct one.
* keep-up: 200 x ``every 1 second`` dask tasks; runs finished in the window over the
  runs due in it; bar: >= 0.99.

    .venv/bin/python bench/dask_bench.py            # both rows (about a minute)
    .venv/bin/python bench/dask_bench.py --quick    # smaller, for a smoke run
"""

from __future__ import annotations

import argparse
import operator
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
        self.done = 0
        self.bad = 0
        self.cond = threading.Condition()

    def __call__(self, event: Any) -> None:
        from tui_sched.engine.events import RunFinished
        from tui_sched.store.base import Outcome

        if isinstance(event, RunFinished):
            with self.cond:
                self.done += 1
                self.bad += event.run.outcome is not Outcome.SUCCESS
                self.cond.notify_all()

    def wait(self, count: int, timeout: float) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.done >= count, timeout):
                raise TimeoutError(f"{self.done} of {count} runs finished")


def _engine(app: Any, address: str, counter: _Counter) -> tuple[Any, threading.Thread]:
    from tui_sched.config import DaskSettings, SchedulerConfig
    from tui_sched.engine.bus import EventBus
    from tui_sched.engine.scheduler import Engine
    from tui_sched.store.memory import MemoryRunStore

    bus = EventBus()
    bus.subscribe(counter)
    engine = Engine(app.session, MemoryRunStore(), bus=bus,
                    config=SchedulerConfig(dask=DaskSettings(address=address), shutdown_timeout=60))
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    return engine, thread


def overhead(address: str, short: Any, n: int) -> tuple[float, float, int]:
    """(direct seconds, tui-sched seconds, runs that were not a success)."""
    import distributed

    from tui_sched import App

    start = time.perf_counter()
    with distributed.Client(address) as client:  # type: ignore[no-untyped-call]  # connecting counts, as for tui-sched
        client.gather([client.submit(operator.neg, i, pure=False) for i in range(n)])
    direct = time.perf_counter() - start
    app = App(state_dir=None)
    for i in range(n):
        app.task(func=short, execution="dask", name=f"t{i}", parameters={"i": i},
                 force_run=True)
    counter = _Counter()
    start = time.perf_counter()
    engine, thread = _engine(app, address, counter)
    counter.wait(n, 600)
    ours = time.perf_counter() - start
    engine.request_stop()
    thread.join(60)
    return direct, ours, counter.bad


def keep_up(address: str, short: Any, n: int, warmup: float, window: float) -> float:
    """Runs finished in ``window`` (after ``warmup``) over the ``n * window`` due."""
    from tui_sched import App

    app = App(state_dir=None)
    for i in range(n):
        app.task("every 1 second", func=short, execution="dask", name=f"e{i}")
    counter = _Counter()
    engine, thread = _engine(app, address, counter)
    time.sleep(warmup)  # (a benchmark window, not a test waiting for something)
    before = counter.done
    time.sleep(window)
    finished = counter.done - before
    engine.request_stop()
    thread.join(60)
    return finished / (n * window)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n, window = (200, 5.0) if args.quick else (1000, 20.0)
    cluster = _cluster()
    ok = True
    try:
        with tempfile.TemporaryDirectory() as tmp:
            short = _short_task(Path(tmp))
            direct, ours, bad = overhead(cluster.scheduler_address, short, n)
            ratio = ours / direct
            ok &= ratio <= 1.5 and not bad
            print(f"dask overhead  {n} short runs: client.submit {direct:.2f} s "
                  f"({direct / n * 1e3:.2f} ms/run), tui-sched {ours:.2f} s "
                  f"({ours / n * 1e3:.2f} ms/run): {ratio:.2f} x (bar <= 1.5 x); "
                  f"not success: {bad}")
            share = keep_up(cluster.scheduler_address, short, 200, 3.0, window)
            ok &= share >= 0.99
            print(f"dask keep-up   200 x every 1 second, {window:g} s: {share:.3f} (bar >= 0.99)")
    finally:
        cluster.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
