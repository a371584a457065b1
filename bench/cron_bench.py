"""Issue 3's cron figure: 1,000 tasks ``cron * * * * *`` over two minutes (two fires).

    .venv/bin/python bench/cron_bench.py [--tasks 1000] [--minutes 2]

Prints runs, lateness (start minus the cron fire time) p50/p99/max and CPU %; history is
persisted to SQLite as in every workload.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from tui_sched import App
from tui_sched.engine.bus import EventBus
from tui_sched.engine.events import RunStarted
from tui_sched.engine.scheduler import Engine
from tui_sched.store.sqlite import SqliteRunStore


def job() -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=2)
    args = parser.parse_args()
    starts: list[float] = []
    lock = threading.Lock()

    def on_event(e: object) -> None:
        if isinstance(e, RunStarted):
            with lock:
                starts.append(e.run.start)

    app = App(state_dir=None)
    for i in range(args.tasks):
        app.task("cron * * * * *", func=job, name=f"c{i}", execution="main")
    bus = EventBus()
    bus.subscribe(on_event)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(app.session, SqliteRunStore(Path(tmp) / "h.sqlite3"), bus=bus)
        thread = threading.Thread(target=engine.run)
        thread.start()
        engine.ready.wait()
        # Measure whole minutes: from just after start-up until just before the last fire
        # of the window has been handled.
        first_fire = (int(time.time()) // 60 + 1) * 60
        end = first_fire + 60 * (args.minutes - 1) + 30
        c0, t0 = time.process_time(), time.time()
        time.sleep(max(0.0, end - time.time()))
        c1, t1 = time.process_time(), time.time()
        engine.request_stop()
        thread.join()
    lateness = sorted((s - (int(s) // 60) * 60) * 1000 for s in starts)
    n = len(lateness)

    def pct(p: float) -> float:
        return lateness[min(n - 1, int(p * n))] if n else float("nan")

    print(f"{args.tasks} x cron * * * * * over {args.minutes} fire(s): {n} runs "
          f"(expected {args.tasks * args.minutes}); lateness p50 {pct(0.5):.1f} ms, "
          f"p99 {pct(0.99):.1f} ms, max {lateness[-1] if n else float('nan'):.1f} ms; "
          f"CPU {(c1 - c0) / (t1 - t0) * 100:.2f} % over {t1 - t0:.0f} s")


if __name__ == "__main__":
    main()
