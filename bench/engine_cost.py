"""CPU per run of tui-sched's engine on simulated time: low-noise, for optimizing.

    .venv/bin/python bench/engine_cost.py [WORKLOAD] [--seconds 20] [--repeat 5] [--profile]

The same task set as ``run.py`` builds (``drivers.TuiDriver``), with history in SQLite,
but the engine runs on a clock that jumps straight to the next wake-up instead of
sleeping: ``--seconds`` of simulated schedule run as fast as the engine can, and the
figure is CPU time divided by runs. Real lateness and keep-up need real time (``run.py``);
this isolates the cost of the engine's own work per run, which is what the CPU column
of ``run.py`` mostly is. Prints the median and the spread of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import drivers  # noqa: E402
from workloads import BY_NAME  # noqa: E402

from tui_sched.engine.clock import Clock  # noqa: E402
from tui_sched.engine.events import RunStarted  # noqa: E402


class JumpClock(Clock):
    """Simulated time that jumps to the engine's next deadline; stops the engine at ``end``.

    With ``spread`` (seconds), each start moves it on by that much (``started``), so the
    runs of a burst get distinct starts and fall due one after the other in later
    rounds, as in real time; ``hold`` then jumps to a deadline up to 1.5 ms away, as the
    real clock's precise wait does, so the engine follows those trains wake-up by
    wake-up (``Scheduler._follow_train``) instead of taking each round in one tick.
    """

    def __init__(self, start: float, end: float, spread: float = 0.0) -> None:
        self.t = start
        self.end = end
        self.spread = spread
        self.engine: object = None

    def time(self) -> float:
        return self.t

    def started(self, event: object) -> None:
        """A bus subscriber: a run started, so simulated time moves on by ``spread``."""
        if type(event) is RunStarted:
            self.t += self.spread

    def hold(self, deadline: float) -> float | None:
        if deadline <= self.t:
            return self.t
        if self.spread and deadline - self.t <= 0.0015 and deadline < self.end:
            self.t = deadline
            return self.t
        return None

    async def wait(self, deadline: float | None, wake: asyncio.Event,
                   precise: bool = True) -> None:
        if wake.is_set():
            return
        if deadline is None or deadline >= self.end:
            self.engine.request_stop()  # type: ignore[attr-defined]
            await wake.wait()
            return
        if deadline > self.t:
            self.t = deadline
        await asyncio.sleep(0)


def once(workload: str, seconds: float, profile: bool,
         spread: float = 0.0) -> tuple[float, float, int, pstats.Stats | None]:
    """One run: (engine thread CPU, process CPU with the history fully written, runs, stats)."""
    wl = replace(BY_NAME[workload], window=seconds)
    with tempfile.TemporaryDirectory(prefix="tui-sched-cost-") as tmp:
        drv = drivers.TuiDriver(wl, Path(tmp))
        start = time.time()
        clock = JumpClock(start, start + seconds, spread)
        engine = drv.engine
        engine.clock = clock
        clock.engine = engine
        if spread:
            drv.bus.subscribe(clock.started)
        prof = cProfile.Profile() if profile else None
        cpu0, thread0 = time.process_time(), time.thread_time()
        if prof:
            prof.enable()
        engine.run()
        if prof:
            prof.disable()
        engine_cpu = time.thread_time() - thread0
        drv.store.close()  # the writer's last batches count too
        cpu = time.process_time() - cpu0
    runs = drv.total or sum(len(v) for v in drv.dues.values())
    return engine_cpu, cpu, runs, pstats.Stats(prof) if prof else None


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("workload", nargs="?", default="every1s_main_1000",
                   choices=sorted(n for n, w in BY_NAME.items() if w.kind == "every"))
    p.add_argument("--seconds", type=float, default=20.0, help="simulated seconds")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="cProfile one run (tottime)")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--spread", type=float, default=0.0, metavar="US",
                   help="simulated microseconds per clock reading: rounds become trains "
                        "the engine follows wake-up by wake-up, as in real time")
    a = p.parse_args(argv)
    if a.profile:
        _, _, _, stats = once(a.workload, a.seconds, True, a.spread / 1e6)
        assert stats is not None
        stats.sort_stats("tottime").print_stats(a.top)
        return 0
    per_run: list[float] = []
    engine_per_run: list[float] = []
    for _ in range(a.repeat):
        engine_cpu, cpu, runs, _ = once(a.workload, a.seconds, False, a.spread / 1e6)
        per_run.append(1e6 * cpu / max(runs, 1))
        engine_per_run.append(1e6 * engine_cpu / max(runs, 1))
    print(f"{a.workload}: {runs:,} runs per repeat over {a.seconds:g} simulated s; CPU per run "
          f"median {statistics.median(per_run):.1f} us (min {min(per_run):.1f}, "
          f"max {max(per_run):.1f}, {a.repeat} repeats), of which the engine thread "
          f"{statistics.median(engine_per_run):.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
