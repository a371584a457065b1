"""TUI benchmark: 2,000 tasks and 500 log lines/s, UI driven headless with Pilot.

Prints key-to-screen latency (p50/p95) for ``f`` and for ``/`` filtering, the process's
and the UI thread's CPU %, and RSS over time.

    .venv/bin/python bench/tui_bench.py                      # 2,000 tasks, 500 lines/s, 3 min
    .venv/bin/python bench/tui_bench.py --minutes 10         # the issue's memory figure
    .venv/bin/python bench/tui_bench.py --tasks 200 --minutes 0.5   # a quick look
    .venv/bin/python bench/tui_bench.py --minutes 0.5 --profile ui.prof   # cProfile, UI thread
    .venv/bin/python bench/tui_bench.py --attach             # the UI attached to `tui-sched run`
    .venv/bin/python bench/tui_bench.py --attach --tasks 200 --minutes 0.5  # a quick look

The same measurement is the ``tui_2000`` workload of ``bench/run.py`` (``measure()``,
run by ``child.py`` in a fresh process with time budgets instead of sample counts).

"Key to screen" is the time from the key event entering the app (the path a terminal's
key takes: the driver posts it) to the end of the first frame the main screen renders
that shows the change. The frame hook checks the condition right after each frame
(rendering and handlers share the UI thread, so what is true after a frame is what that
frame drew); nothing polls. ``f`` shows ``» queued`` at once (optimistic) and the run's
``✓ succeeded`` once the engine confirms it (both are reported; the second is an engine
round trip: bus, bridge batch, snapshot); ``/`` + each typed character (and ``escape``)
until the table holds the filtered rows.

``--attach`` (issue 19): the same tasks as a task module served by a real ``tui-sched
run`` subprocess (history on, its log to /dev/null), and the same app headless in this
process, attached to its control socket (``tui-sched attach``). There ``f -> succeeded``
is the key's effect as an operator sees it (the command over the socket, the run, its
end in the pushed events, the row redrawn): issue 19's bar, p95 <= 150 ms. The CPU
window reports the attached UI process (the CPU % figure) and the scheduler process
beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import inspect
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(HERE))

import measure as m  # noqa: E402  (bench/measure.py: the CPU window every workload uses)
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
from tui_sched.tui.model import matches  # noqa: E402
from tui_sched.tui.widgets.task_table import TaskTable  # noqa: E402

#: The bar of issue 7 for key-to-screen latency (``f`` -> queued and ``/`` filtering).
KEY_P95_BAR_MS = 100.0
#: Log lines a second the ``chatter`` task prints (issue 7: 500).
LOG_RATE = 500
#: The bar of issue 19 for an attached UI: key -> its effect on screen (f -> the run's
#: result drawn), p95.
ATTACH_P95_BAR_MS = 150.0


def noop() -> None:
    """A quick task."""


def chatter(rate: int, seconds: float = 20.0, stop: object = TerminationFlag()) -> None:
    """Prints ``rate`` lines a second (a burst every 100 ms, on a fixed grid) for
    ``seconds``, then ends. A run forwards at most 1,000,000 characters of output to the
    log pane (the rest is only counted), about 40 s of these lines; so the load is a run
    after another (condition ``true``), not one run that falls silent."""
    burst = max(1, rate // 10)
    start = time.monotonic()
    n = 0
    for k in range(1, round(seconds * 10) + 1):
        if stop.wait(max(0.0, start + k / 10 - time.monotonic())):  # type: ignore[attr-defined]
            return
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
    session.create_task("true", func=chatter, name="chatter", parameters={"rate": rate})
    return session


def task_module(tasks: int, rate: int) -> str:
    """``build_session``'s tasks as a task module for ``tui-sched run`` (``--attach``)."""
    return "\n".join([
        '"""tui_bench --attach: the tasks of build_session()."""',
        "import time",
        "from tui_sched import App",
        "from tui_sched.tasks.args import TerminationFlag",
        "app = App()",
        "",
        inspect.getsource(noop),
        inspect.getsource(chatter),
        'CONDS = ["every 10 minutes", "every 1 hour", "daily", "every 30 minutes"]',
        f"for i in range({tasks - 1}):",
        "    if i % 4 == 3:",
        '        app.task(None, func=noop, name=f"manual-{i:04d}")',
        "    else:",
        '        app.task(CONDS[i % 4], func=noop, name=f"task-{i:04d}")',
        f'app.task("true", func=chatter, name="chatter", parameters={{"rate": {rate}}})',
        ""])


def pct(values: list[float], q: float) -> float:
    """Nearest-rank-ish percentile (``q`` in 0..1); NaN when empty."""
    if not values:
        return math.nan
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def fmt(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{name:<38} p50 {pct(ms, 0.5):7.1f} ms   p95 {pct(ms, 0.95):7.1f} ms   "
            f"max {max(ms, default=math.nan):7.1f} ms   (n={len(ms)})")


async def until(pred: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.001)


class RenderClock:
    """Hooks the main screen's frames (its compositor refresh): after each frame, every
    armed condition is checked; the first frame after which one holds is when that
    change reached the screen."""

    def __init__(self, screen: Any) -> None:
        self._armed: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        original = screen._compositor_refresh

        def refresh() -> None:
            original()
            if self._armed:
                now = time.perf_counter()
                for pred, fut in list(self._armed):
                    if fut.done():
                        self._armed.remove((pred, fut))
                    elif pred():
                        fut.set_result(now)
                        self._armed.remove((pred, fut))

        screen._compositor_refresh = refresh

    def arm(self, pred: Callable[[], bool]) -> asyncio.Future[float]:
        """A future set to ``perf_counter()`` at the end of the first frame after which
        ``pred()`` holds (arm it before the change can be drawn)."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._armed.append((pred, fut))
        return fut


def send_key(app: SchedulerApp, key: str) -> None:
    """The path a real terminal's key takes: the driver posts a Key event."""
    char = {"slash": "/", "escape": None}.get(key, key if len(key) == 1 else None)
    event = events.Key(key, char)
    event.set_sender(app)
    assert app._driver is not None
    app._driver.send_message(event)


async def press(app: SchedulerApp, clock: RenderClock, key: str,
                *preds: Callable[[], bool], timeout: float = 30.0) -> list[float]:
    """Seconds from the key press to the end of the first frame that shows each of
    ``preds``."""
    futs = [clock.arm(pred) for pred in preds]
    start = time.perf_counter()
    send_key(app, key)
    try:
        done = await asyncio.wait_for(asyncio.gather(*futs), timeout)
    except TimeoutError:
        raise TimeoutError(f"key {key!r}: not on screen after {timeout:g} s") from None
    return [t - start for t in done]


@dataclass
class Plan:
    """What ``measure`` does; a phase stops at ``*_samples`` or once its ``*_seconds``
    have passed (with at least ``min_samples``), whichever comes first."""

    tasks: int = 2000
    rate: int = 500
    warmup: float = 3.0
    f_samples: int = 40
    f_seconds: float = math.inf
    filter_queries: int = 9
    filter_seconds: float = math.inf
    min_samples: int = 10
    cpu_window: float = 20.0
    minutes: float = 0.0
    """Keep running (RSS sampled every minute) until this long after the table filled."""
    store: str = "sqlite"


def plan_for_window(window: float, warmup: float, tasks: int = 2000,
                    store: str = "sqlite") -> Plan:
    """``bench/run.py``'s ``tui`` workload: a bounded ``window`` (seconds after the
    warm-up) split into ``f`` presses (30 %), ``/`` filter keys (25 %) and the CPU window
    (45 %); each key phase takes at least ``min_samples`` presses, so a short window
    (``--quick``) still gives figures, if rough ones."""
    return Plan(tasks=tasks, rate=LOG_RATE, warmup=warmup, f_samples=10**6,
                f_seconds=0.30 * window, filter_queries=10**6, filter_seconds=0.25 * window,
                min_samples=10, cpu_window=0.45 * window, store=store)


async def scenario(app: SchedulerApp, pilot: Pilot[Any], plan: Plan,
                   say: Callable[[str], None], scheduler: psutil.Process | None = None) -> dict[str, Any]:
    """The measurement; ``scheduler``: the attached scheduler's process (``None``:
    embedded, the engine is in this process)."""
    out: dict[str, Any] = {}
    proc = psutil.Process()
    table = app.main.query_one(TaskTable)
    t0 = time.monotonic()
    await until(lambda: table.row_count == plan.tasks, timeout=120)
    out["fill_s"] = time.monotonic() - t0
    say(f"table filled with {plan.tasks} rows in {out['fill_s']:.1f} s")
    await pilot.pause(plan.warmup)  # first runs of the scheduled tasks, chatter running
    out["rss_start_mb"] = proc.memory_info().rss / 2**20

    clock = RenderClock(app.main)
    cpu0, ui0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
    # -- f ---------------------------------------------------------------------------
    queued: list[float] = []
    confirmed: list[float] = []
    manual = [f"manual-{i:04d}" for i in range(3, plan.tasks - 1, 4)]
    began = time.monotonic()
    while len(queued) < min(plan.f_samples, len(manual)) and (
            time.monotonic() - began < plan.f_seconds or len(queued) < plan.min_samples):
        name = manual[len(queued) % len(manual)]
        table.move_cursor(row=table.get_row_index(name))
        await pilot.pause()
        shown, done = await press(
            app, clock, "f",
            lambda n=name: table.get_row(n)[0].endswith(("queued", "succeeded")),  # type: ignore[misc]
            lambda n=name: table.get_row(n)[0].endswith("succeeded"))  # type: ignore[misc]
        queued.append(shown)
        confirmed.append(done)

    # -- / -----------------------------------------------------------------------------
    chars: list[float] = []
    clears: list[float] = []
    began = time.monotonic()
    i = 0
    while i < plan.filter_queries and (time.monotonic() - began < plan.filter_seconds
                                       or len(chars) + len(clears) < plan.min_samples):
        await pilot.press("slash")
        query = f"manual-{i % 10}"
        for k in range(len(query)):
            part = query[: k + 1]
            snap = app.main.snapshot
            expect = sum(1 for r in snap.rows if matches(r, part)) if snap else 0
            chars += await press(app, clock, query[k],
                                 lambda p=part, e=expect: table.filter_text == p  # type: ignore[misc]
                                 and table.row_count == e)
        clears += await press(app, clock, "escape", lambda: table.row_count == plan.tasks)
        i += 1
    typed = chars + clears
    cpu1, ui1, wall1 = time.process_time(), time.thread_time(), time.perf_counter()

    say(fmt("f -> '» queued' shown", queued))
    say(fmt("f -> '✓ succeeded' (engine round trip)" if scheduler is None
            else "f -> '✓ succeeded' (attached: the effect)", confirmed))
    say(fmt("/ filter: each key (and escape)", typed))
    say(fmt("    of which typed characters", chars))
    say(fmt("    of which escape (clears the filter)", clears))
    for key, values in (("f_queued", queued), ("f_done", confirmed), ("filter", typed),
                        ("filter_char", chars), ("filter_escape", clears)):
        ms = [v * 1000 for v in values]
        out.update({f"{key}_p50_ms": pct(ms, 0.5), f"{key}_p95_ms": pct(ms, 0.95),
                    f"{key}_max_ms": max(ms, default=math.nan), f"{key}_n": len(ms)})
    # Issue 7's bar applies to what a key shows by itself: f's mark and the filter.
    out["key_p95_ms"] = max(out["f_queued_p95_ms"], out["filter_p95_ms"])
    keys_wall = max(wall1 - wall0, 1e-9)
    out["keys_s"] = keys_wall
    out["keys_cpu_pct"] = (cpu1 - cpu0) / keys_wall * 100
    out["keys_ui_cpu_pct"] = (ui1 - ui0) / keys_wall * 100

    # -- CPU under steady load (no keys) ------------------------------------------------
    cpu = m.CpuWindow()
    cpu.start()
    ui0 = time.thread_time()  # this coroutine runs on the UI thread (the app's loop)
    sched0 = _cpu_seconds(scheduler)
    await pilot.pause(plan.cpu_window)
    ui1 = time.thread_time()
    sched1 = _cpu_seconds(scheduler)
    cpu.stop()
    out.update(m.base_result(cpu))
    out["ui_cpu_pct"] = (ui1 - ui0) / max(cpu.wall, 1e-9) * 100
    say(f"CPU over {cpu.wall:.0f} s under load (no keys): process {cpu.cpu_pct:.1f} %, "
        f"UI thread {out['ui_cpu_pct']:.1f} % (one core = 100 %); others on the machine "
        f"{cpu.others_cpu_pct:.0f} %")
    if scheduler is not None:
        out["scheduler_cpu_pct"] = (sched1 - sched0) / max(cpu.wall, 1e-9) * 100
        say(f"    the attached scheduler process (tui-sched run) meanwhile: "
            f"{out['scheduler_cpu_pct']:.1f} %")
    out["log_lines"] = len(app.main.query_one("#log")._entries)  # type: ignore[attr-defined]
    say(f"log buffer holds {out['log_lines']} lines (bounded)")
    if plan.minutes:
        end = t0 + plan.minutes * 60
        while True:
            rss = proc.memory_info().rss / 2**20
            say(f"  t={time.monotonic() - t0:6.0f} s  RSS {rss:7.1f} MiB")
            if time.monotonic() >= end:
                break
            await pilot.pause(min(60.0, max(0.1, end - time.monotonic())))
        say(f"RSS after {(time.monotonic() - t0) / 60:.1f} min: "
            f"{proc.memory_info().rss / 2**20:.1f} MiB")
    out["rss_end_mb"] = proc.memory_info().rss / 2**20
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    host = app.host
    if host is not None:
        # Stop the engine while the UI still captures output (the chatter task prints).
        host.shutdown(force=True)
        await until(lambda: not host.alive, timeout=30)
    return out


def _cpu_seconds(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    t = proc.cpu_times()
    return float(t.user + t.system)


def measure(plan: Plan, tmp: Path, *, say: Callable[[str], None] = lambda _: None,
            profile: cProfile.Profile | None = None) -> dict[str, Any]:
    """Run the scenario on a headless app in this process; returns its figures.

    Args:
        plan: Tasks, log rate, phases.
        tmp: A folder for the history store.
        say: Progress and human-readable results.
        profile: Enabled on the UI thread for the whole scenario, if given.
    """
    def build() -> tuple[Session, RunStore]:
        session = build_session(plan.tasks, plan.rate)
        if plan.store == "memory":  # diagnostic only: history not persisted
            from tui_sched.store.memory import MemoryRunStore

            return session, MemoryRunStore()
        return session, SqliteRunStore(tmp / "history.sqlite3")

    host = EngineHost(build, config=SchedulerConfig(shutdown_timeout=5), bus=EventBus())
    app = SchedulerApp(host, tasks_dir="(bench)", store_path=str(tmp / "history.sqlite3"))
    result: dict[str, Any] = {}

    async def go() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            if profile is not None:
                profile.enable()
            try:
                result.update(await scenario(app, pilot, plan, say))
            finally:
                if profile is not None:
                    profile.disable()

    try:
        asyncio.run(go())
    finally:
        host.shutdown(force=True)
        host.join(20)
    result["scheduler"] = "tui-sched" + (" [memory store]" if plan.store == "memory" else "")
    result.update(tasks=plan.tasks, log_rate=plan.rate)
    return result


def measure_attached(plan: Plan, tmp: Path, *,
                     say: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The scenario on a headless app attached to a real ``tui-sched run`` subprocess
    serving ``plan``'s tasks from a task module in ``tmp``; returns its figures."""
    (tmp / "tasks").mkdir()
    (tmp / "tasks" / "bench.py").write_text(task_module(plan.tasks, plan.rate))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "tui-sched"), "run", "tasks"],
                            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    state = tmp / ".tui-sched"
    result: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 60
        while not (state / "control.sock").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tui-sched run did not serve its control socket "
                                   f"(exit code {proc.returncode})")
            time.sleep(0.1)
        app = SchedulerApp(None, tasks_dir=str(tmp / "tasks"),
                           store_path=str(state / "history.sqlite3"), attach=state)

        async def go() -> None:
            async with app.run_test(size=(160, 50)) as pilot:
                result.update(await scenario(app, pilot, plan, say, psutil.Process(proc.pid)))

        asyncio.run(go())
    finally:
        proc.terminate()
        proc.wait(30)
    result["scheduler"] = "tui-sched attach (UI process)"
    result.update(tasks=plan.tasks, log_rate=plan.rate)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--rate", type=int, default=LOG_RATE, help="log lines per second")
    p.add_argument("--minutes", type=float, default=3.0, help="total run time (memory figure)")
    p.add_argument("--samples", type=int, default=40,
                   help="f presses measured (and samples // 5 + 1 filter queries of 9 keys)")
    p.add_argument("--cpu-window", type=float, default=20.0)
    p.add_argument("--profile", metavar="FILE",
                   help="cProfile the UI thread over the whole scenario, write pstats here")
    p.add_argument("--attach", action="store_true",
                   help="the UI attached to a `tui-sched run` subprocess (issue 19)")
    p.add_argument("--window", type=float, metavar="S",
                   help="bench/run.py's bounded plan instead: S seconds after the warm-up")
    p.add_argument("--warmup", type=float, default=3.0, help="with --window")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the figures there")
    args = p.parse_args()
    if args.window is not None:
        plan = plan_for_window(args.window, args.warmup, tasks=args.tasks)
    else:
        plan = Plan(tasks=args.tasks, rate=args.rate, f_samples=args.samples,
                    filter_queries=args.samples // 5 + 1, min_samples=0,
                    cpu_window=args.cpu_window, minutes=args.minutes)
    if args.attach and args.profile:
        p.error("--profile profiles the embedded UI only")
    prof = cProfile.Profile() if args.profile else None
    print(f"tui bench{' (attached to tui-sched run)' if args.attach else ''}: {plan.tasks} "
          f"tasks, {plan.rate} log lines/s, {args.minutes} min, python {sys.version.split()[0]}")
    say = lambda s: print(s, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="tui-bench-") as tmp:
        out = (measure_attached(plan, Path(tmp), say=say) if args.attach
               else measure(plan, Path(tmp), say=say, profile=prof))
    ok = out["key_p95_ms"] <= KEY_P95_BAR_MS
    print(f"key to screen p95 (f -> queued, / filter) {out['key_p95_ms']:.1f} ms: "
          f"{'bar ok' if ok else 'BAR MISSED'} (<= {KEY_P95_BAR_MS:g} ms)")
    if args.attach:
        ok = out["f_done_p95_ms"] <= ATTACH_P95_BAR_MS
        print(f"attached: key -> effect p95 (f -> the run's result drawn) "
              f"{out['f_done_p95_ms']:.1f} ms: {'bar ok' if ok else 'BAR MISSED'} "
              f"(<= {ATTACH_P95_BAR_MS:g} ms)")
    if args.json is not None:
        args.json.write_text(json.dumps(out))
    if prof is not None:
        prof.dump_stats(args.profile)
        print(f"profile: {args.profile} (python -m pstats {args.profile})")


if __name__ == "__main__":
    main()
