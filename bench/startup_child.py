"""Start-up workload body: a fresh interpreter builds N tasks `every 1 second` (inline
execution), starts the scheduler, and prints when the first and the last of the N first
runs began (epoch seconds) as one JSON line. ``run.py`` spawns it with ``python -c`` and
measures from just before the spawn, so interpreter start, imports, building the tasks
and opening the store all count.

Only what the scheduler needs is imported here (no psutil, no measuring code).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import bench_tasks as bt


def _report(n: int, extra: dict[str, float]) -> None:
    firsts = [runs[0] for runs in bt.STARTS.by_task().values() if runs]
    print(json.dumps({"first": min(firsts), "all": max(firsts), "n": len(firsts), **extra}),
          flush=True)


def tui(n: int) -> None:
    from tui_sched import App
    from tui_sched.engine.bus import EventBus
    from tui_sched.engine.events import RunFinished
    from tui_sched.engine.scheduler import Engine
    from tui_sched.headless import open_store

    app = App(state_dir=None)
    for k in range(n):
        app.task("every 1 second", func=bt.mark, name=f"t{k}", execution="main",
                 parameters={"k": k})
    done = [0]
    bus = EventBus()
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(app.session, open_store(Path(tmp)), bus=bus)  # the product's store

        def on_event(e: object) -> None:
            if type(e) is RunFinished:
                done[0] += 1
                if done[0] == n:
                    engine.request_stop(force=True)

        bus.subscribe(on_event)
        engine.run()
    _report(n, {})


def aps(n: int) -> None:
    import asyncio
    from datetime import UTC, datetime

    from apscheduler.events import EVENT_JOB_EXECUTED
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    async def main() -> None:
        sched = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        for k in range(n):
            sched.add_job(bt.amark, "interval", seconds=1, args=(k,), id=str(k),
                          next_run_time=now)
        finished = asyncio.Event()
        done = [0]

        def on_event(e: object) -> None:
            done[0] += 1
            if done[0] == n:
                finished.set()

        sched.add_listener(on_event, EVENT_JOB_EXECUTED)
        sched.start()
        await finished.wait()
        sched.shutdown(wait=False)

    asyncio.run(main())
    _report(n, {})


def main(scheduler: str, n: int) -> None:
    {"tui": tui, "aps": aps}[scheduler](n)
    sys.stdout.flush()

