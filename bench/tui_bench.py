"""TUI benchmark: 2,000 tasks and 500 log lines/s, UI driven headless with Pilot.

Prints key-to-screen latency (p50/p95) for ``f`` and for ``/`` filtering, the process's
and the UI thread's CPU %, and RSS over time.

    .venv/bin/python bench/tui_bench.py                      # 2,000 tasks, 500 lines/s, 3 min
    .venv/bin/python bench/tui_bench.py --minutes 10         # the issue's memory figure
    .venv/bin/python bench/tui_bench.py --tasks 200 --minutes 0.5   # a quick look

"Key to screen" is measured from the key press to the moment the widget shows the
change and the app is idle again (Pilot's ``pause`` waits for pending messages and the
refresh): ``f`` shows ``» queued`` at once (optimistic) and the run's ``✓ succeeded`` once
the engine confirms it (both are reported); ``/`` + each typed character until the table
holds the filtered rows.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.pilot import Pilot  # noqa: E402

from tui_sched.config import SchedulerConfig  # noqa: E402
from tui_sched.engine.bus import EventBus  # noqa: E402
from tui_sched.engine.host import EngineHost  # noqa: E402
from tui_sched.engine.session import Session  # noqa: E402
from tui_sched.store.base import RunStore  # noqa: E402
from tui_sched.store.sqlite import SqliteRunStore  # noqa: E402
from tui_sched.tasks.args import TerminationFlag  # noqa: E402
from tui_sched.tui.app import SchedulerApp  # noqa: E402
from tui_sched.tui.widgets.task_table import TaskTable  # noqa: E402


def noop() -> None:
    """A quick task."""


def chatter(rate: int, stop: object = TerminationFlag()) -> None:
    """Prints ``rate`` lines a second in bursts every 100 ms until terminated."""
    burst = max(1, rate // 10)
    n = 0
    while not stop.wait(0.1):  # type: ignore[attr-defined]
        for _ in range(burst):
            n += 1
            print(f"chatter line {n}: lorem ipsum dolor sit amet")


def build_session(tasks: int, rate: int) -> Session:
    session = Session()
    conds = ["every 10 minutes", "every 1 hour", "daily", "every 30 minutes"]
    for i in range(tasks - 1):
        if i % 4 == 3:
            session.create_task(None, func=noop, name=f"manual-{i:04d}")
        else:
            session.create_task(conds[i % 4], func=noop, name=f"task-{i:04d}")
    session.create_task(None, func=chatter, name="chatter", parameters={"rate": rate})
    return session


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def fmt(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{name:<34} p50 {pct(ms, 0.5):7.1f} ms   p95 {pct(ms, 0.95):7.1f} ms   "
            f"max {max(ms):7.1f} ms   (n={len(ms)})")


async def until(pilot: Pilot[object], pred: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.001)


class RenderClock:
    """Records when the main screen last pushed a frame (its compositor refresh)."""

    def __init__(self, screen: object) -> None:
        self.frames: list[float] = []
        original = screen._compositor_refresh  # type: ignore[attr-defined]

        def refresh() -> None:
            original()
            self.frames.append(time.perf_counter())

        screen._compositor_refresh = refresh  # type: ignore[attr-defined]

    async def frame_after(self, t: float, timeout: float = 10.0) -> float:
        """The first frame drawn at or after ``t``."""
        deadline = time.monotonic() + timeout
        while True:
            later = [f for f in self.frames[-20:] if f >= t]
            if later:
                return later[0]
            if time.monotonic() > deadline:
                raise TimeoutError
            await asyncio.sleep(0.001)


def send_key(app: SchedulerApp, key: str) -> None:
    """The path a real terminal's key takes: the driver posts a Key event."""
    char = {"slash": "/", "escape": None}.get(key, key if len(key) == 1 else None)
    event = events.Key(key, char)
    event.set_sender(app)
    assert app._driver is not None
    app._driver.send_message(event)


async def press_until(app: SchedulerApp, clock: RenderClock, key: str, pred: object) -> float:
    """Seconds from the key press to the first frame that shows ``pred`` true."""
    start = time.perf_counter()
    send_key(app, key)
    while not pred():  # type: ignore[operator]
        if time.perf_counter() - start > 30:
            raise TimeoutError(key)
        await asyncio.sleep(0.001)
    seen = time.perf_counter()
    return await clock.frame_after(seen) - start


def thread_cpu(proc: psutil.Process, native_id: int) -> float:
    for t in proc.threads():
        if t.id == native_id:
            return t.user_time + t.system_time
    return 0.0


async def scenario(app: SchedulerApp, pilot: Pilot[object], args: argparse.Namespace) -> None:
    proc = psutil.Process()
    ui_thread = threading.get_native_id()
    table = app.main.query_one(TaskTable)
    t0 = time.monotonic()
    await until(pilot, lambda: table.row_count == args.tasks, timeout=120)
    print(f"table filled with {args.tasks} rows in {time.monotonic() - t0:.1f} s")
    engine = app.host.engine
    assert engine is not None
    engine.session["chatter"].force_run = True
    await pilot.pause(3.0)  # warm-up: first runs of the scheduled tasks, chatter running

    clock = RenderClock(app.main)
    # -- f ---------------------------------------------------------------------------
    queued, confirmed = [], []
    for i in range(args.samples):
        name = f"manual-{(i * 4 + 3) % (args.tasks - 1):04d}"
        table.move_cursor(row=table.get_row_index(name))
        await pilot.pause()
        start = time.perf_counter()
        queued.append(await press_until(
            app, clock, "f", lambda n=name: "queued" in table.get_row(n)[0]
            or "succeeded" in table.get_row(n)[0]))
        await until(pilot, lambda n=name: "succeeded" in table.get_row(n)[0])
        confirmed.append(await clock.frame_after(time.perf_counter()) - start)

    # -- / -----------------------------------------------------------------------------
    typed = []
    for i in range(args.samples // 5 + 1):
        await pilot.press("slash")
        query = f"manual-{i % 10}"
        for k, ch in enumerate(query):
            part = query[: k + 1]
            expect = sum(1 for r in app.main.snapshot.rows if part in r.name.lower()
                         or part in r.status.value or part in r.condition.lower()) \
                if app.main.snapshot else 0
            typed.append(await press_until(app, clock, ch, lambda e=expect: table.row_count == e))
        typed.append(await press_until(app, clock, "escape",
                                       lambda: table.row_count == args.tasks))

    print(fmt("f -> '» queued' shown", queued))
    print(fmt("f -> '✓ succeeded' (engine round trip)", confirmed))
    print(fmt("/ filter: each key (and escape)", typed))

    # -- CPU and memory under steady load ---------------------------------------------------
    window = args.cpu_window
    c0, u0, w0 = proc.cpu_times(), thread_cpu(proc, ui_thread), time.monotonic()
    await pilot.pause(window)
    c1, u1, w1 = proc.cpu_times(), thread_cpu(proc, ui_thread), time.monotonic()
    wall = w1 - w0
    total = (c1.user + c1.system - c0.user - c0.system) / wall * 100
    print(f"CPU over {wall:.0f} s under load: process {total:.1f} %, UI thread "
          f"{(u1 - u0) / wall * 100:.1f} % (one core = 100 %)")
    lines = len(app.main.query_one("#log")._entries)  # type: ignore[attr-defined]
    print(f"log buffer holds {lines} lines (bounded)")
    end = t0 + args.minutes * 60
    while True:
        rss = proc.memory_info().rss / 2**20
        print(f"  t={time.monotonic() - t0:6.0f} s  RSS {rss:7.1f} MiB", flush=True)
        if time.monotonic() >= end:
            break
        await pilot.pause(min(60.0, max(0.1, end - time.monotonic())))
    print(f"RSS after {(time.monotonic() - t0) / 60:.1f} min: {proc.memory_info().rss / 2**20:.1f} MiB")
    # Stop the engine while the UI still captures output (the chatter task prints).
    app.host.shutdown(force=True)
    await until(pilot, lambda: not app.host.alive, timeout=30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--rate", type=int, default=500, help="log lines per second")
    p.add_argument("--minutes", type=float, default=3.0, help="total run time (memory figure)")
    p.add_argument("--samples", type=int, default=40, help="key presses measured per key")
    p.add_argument("--cpu-window", type=float, default=20.0)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tui-bench-"))

    def build() -> tuple[Session, RunStore]:
        return build_session(args.tasks, args.rate), SqliteRunStore(tmp / "history.sqlite3")

    host = EngineHost(build, config=SchedulerConfig(shutdown_timeout=5), bus=EventBus())
    app = SchedulerApp(host, tasks_dir="(bench)", store_path=str(tmp / "history.sqlite3"))

    async def go() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await scenario(app, pilot, args)

    print(f"tui bench: {args.tasks} tasks, {args.rate} log lines/s, {args.minutes} min, "
          f"python {sys.version.split()[0]}")
    try:
        asyncio.run(go())
    finally:
        host.shutdown(force=True)
        host.join(20)


if __name__ == "__main__":
    main()
