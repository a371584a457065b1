"""Benchmark hot reload: how soon a saved change is scheduled, and what a big reload costs.

Usage::

    .venv/bin/python bench/reload_bench.py [--edits 50] [--tasks 200] [--repeat 20]
                                           [--force-polling]

1. *Save to scheduled*: a real engine (system clock, in-memory store) and the real
   watcher with the default settings. Each of ``--edits`` saves renames the module's task;
   the time from just before the write to the new task's ``RunStarted`` (its condition,
   ``every 1 hour``, holds at once) is recorded, split into save -> ``ModuleLoaded`` (watcher
   + import + swap) and ``ModuleLoaded`` -> ``RunStarted`` (the engine picks it up).
2. *A 200-task module*: ``Reloader.reload`` of a module with ``--tasks`` function tasks
   (one condition changed each time, so every pass is a real reload), with the engine
   running: the pass itself (import, fingerprints, plan, swap), then the engine's tick that
   applies it (flags, dependents, task list, evaluating the 200 tasks). Also save ->
   ``RunStarted`` of a renamed task of that module, through the watcher.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_sched.engine.bus import EventBus
from tui_sched.engine.events import Event, ModuleLoaded, RunStarted
from tui_sched.engine.scheduler import Engine
from tui_sched.reload import Reloader, ReloadSettings, WatchStatus
from tui_sched.reload.loader import load_module
from tui_sched.store.memory import MemoryRunStore

HEADER = "from tui_sched import App\n\napp = App()\n"


class Clocked:
    """Bus subscriber: ``perf_counter`` at which each event arrived; wait on them."""

    def __init__(self, bus: EventBus) -> None:
        self.seen: list[tuple[float, Event]] = []
        self.cond = threading.Condition()
        bus.subscribe(self._on)

    def _on(self, e: Event) -> None:
        with self.cond:
            self.seen.append((time.perf_counter(), e))
            self.cond.notify_all()

    def wait(self, pred: Callable[[Event], bool], timeout: float = 30.0) -> float:
        def find() -> float | None:
            return next((t for t, e in self.seen if pred(e)), None)

        with self.cond:
            found = self.cond.wait_for(find, timeout)
        if found is None:
            raise SystemExit(f"timed out; last events: {[e for _, e in self.seen[-5:]]}")
        return found


def start(folder: Path, settings: ReloadSettings) -> tuple[Reloader, Engine, Clocked, threading.Thread]:
    bus = EventBus()
    clocked = Clocked(bus)
    reloader = Reloader(folder, bus=bus, settings=settings)
    engine = Engine(reloader.build(), MemoryRunStore(), bus=bus)
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    engine.ready.wait(10)
    reloader.start()
    clocked.wait(lambda e: isinstance(e, WatchStatus) and e.state == "watching")
    return reloader, engine, clocked, thread


def stop(reloader: Reloader, engine: Engine, thread: threading.Thread) -> None:
    reloader.stop()
    engine.request_stop(force=True)
    thread.join(20)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 \
        else values[0]


def ms(values: list[float]) -> str:
    return (f"p50 {pct(values, 50) * 1000:7.1f} ms   p95 {pct(values, 95) * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms")


def save_to_scheduled(edits: int, settings: ReloadSettings) -> None:
    folder = Path(tempfile.mkdtemp()) / "tasks"
    folder.mkdir(mode=0o755)
    path = folder / "edited.py"
    path.write_text(HEADER)
    reloader, engine, clocked, thread = start(folder, settings)
    loaded, scheduled = [], []
    try:
        for i in range(edits):
            name = f"edit_{i}"
            began = time.perf_counter()
            path.write_text(HEADER + f"\n@app.task('every 1 hour')\ndef {name}():\n    pass\n")
            at_loaded = clocked.wait(lambda e, n=name: isinstance(e, ModuleLoaded) and n in e.added)
            at_run = clocked.wait(lambda e, n=name: isinstance(e, RunStarted) and e.run.task == n)
            loaded.append(at_loaded - began)
            scheduled.append(at_run - began)
    finally:
        stop(reloader, engine, thread)
    s = reloader.settings
    how = (f"polling every {s.poll_delay_ms} ms" if s.force_polling
           else f"notifications, step {s.step_ms} ms")
    print(f"save -> new task scheduled, {edits} edits ({how}, debounce {s.debounce_ms} ms):")
    print(f"  save -> ModuleLoaded     {ms(loaded)}")
    print(f"  save -> RunStarted       {ms(scheduled)}")
    engine_part = [b - a for a, b in zip(loaded, scheduled, strict=True)]
    print(f"  ModuleLoaded -> started  {ms(engine_part)}")
    print()


def big_module(tasks: int, version: int) -> str:
    conds = ["every 1 hour", "daily", "hourly", "every 10 minutes", "cron */5 * * * *",
             "time of day between 10:00 and 12:00", "weekly on Monday"]
    body = [HEADER]
    for i in range(tasks):
        # The first task is renamed in each version: a new task, due at once.
        name = f"task_{i:03d}" if i else f"first_v{version}"
        cond = conds[i % len(conds)] if i else "every 1 hour"
        body.append(textwrap.dedent(f'''
            @app.task({cond!r})
            def {name}(x={i}):
                return x * 2
        '''))
    return "".join(body)


def reload_cost(tasks: int, repeat: int) -> None:
    folder = Path(tempfile.mkdtemp()) / "tasks"
    folder.mkdir(mode=0o755)
    path = folder / "big.py"
    path.write_text(big_module(tasks, 0))
    reloader, engine, clocked, thread = start(folder, ReloadSettings())
    passes, applied, imports, e2e = [], [], [], []
    try:
        reloader.stop()  # measure the pass alone first, without the watcher racing us
        for v in range(1, repeat + 1):
            path.write_text(big_module(tasks, v))
            began = time.perf_counter()
            reloader.reload([path])
            done = time.perf_counter()
            engine.call(lambda: None).result(10)  # the tick that applied the swap
            passes.append(done - began)
            applied.append(time.perf_counter() - done)
            began = time.perf_counter()
            load_module(path, folder)
            imports.append(time.perf_counter() - began)
        reloader.start()
        clocked.wait(lambda e: sum(isinstance(x, WatchStatus) and x.state == "watching"
                                   for _, x in clocked.seen) >= 2)
        for v in range(repeat + 1, 2 * repeat + 1):
            began = time.perf_counter()
            path.write_text(big_module(tasks, v))
            at = clocked.wait(lambda e, n=f"first_v{v}": isinstance(e, RunStarted)
                              and e.run.task == n)
            e2e.append(at - began)
    finally:
        stop(reloader, engine, thread)
    print(f"reload of a {tasks}-task module ({path.stat().st_size // 1024} KiB), {repeat} times:")
    print(f"  import alone (load_module)          {ms(imports)}")
    print(f"  whole pass (Reloader.reload)        {ms(passes)}")
    print(f"  engine tick applying it             {ms(applied)}")
    print(f"  save -> renamed task scheduled      {ms(e2e)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--force-polling", action="store_true",
                        help="also measure save -> scheduled with the polling fallback")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {sys.platform}")
    save_to_scheduled(args.edits, ReloadSettings())
    if args.force_polling:
        save_to_scheduled(args.edits, ReloadSettings(force_polling=True))
    reload_cost(args.tasks, args.repeat)


if __name__ == "__main__":
    main()
