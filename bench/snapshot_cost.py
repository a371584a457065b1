"""What a snapshot costs the engine thread: ``build_snapshot`` on simulated time.

    .venv/bin/python bench/snapshot_cost.py [WORKLOAD] [--seconds 20] [--every 0.5] [--repeat 5]
    .venv/bin/python bench/snapshot_cost.py --profile

The engine of ``engine_cost.py`` (the same tasks, history in SQLite, a clock that jumps
to the next wake-up) builds a snapshot every ``--every`` simulated seconds, as the
control server and the embedded UI do while runs change, with the row memo they keep,
and another right after it (where no row changed: the fixed cost of looking at every
task). Prints the engine thread's CPU per snapshot and per changed row (a row whose task
ran since the last snapshot), the median of ``--repeat`` runs. Low-noise, for comparing
changes to ``tui_sched/engine/snapshot.py``; the effect on a live scheduler is
``control_bench.py``'s.
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
from engine_cost import JumpClock  # noqa: E402
from workloads import BY_NAME  # noqa: E402

from tui_sched.engine.snapshot import RowMemo, build_snapshot, seed_runs  # noqa: E402


class SnapshotClock(JumpClock):
    """``JumpClock`` that builds a snapshot (on the engine thread, where ``wait`` runs)
    each time simulated time passes the next multiple of ``every``."""

    def __init__(self, start: float, end: float, every: float,
                 prof: cProfile.Profile | None) -> None:
        super().__init__(start, end)
        self.every = every
        self.next_at = start + every
        self.memo: RowMemo = {}
        self.cpu = 0.0
        self.snapshots = 0
        self.changed = 0
        self.idle_cpu = 0.0
        self.prof = prof

    async def wait(self, deadline: float | None, wake: asyncio.Event) -> None:
        if self.t >= self.next_at:
            self.next_at += self.every
            engine = self.engine
            before = {name: row for name, (_, row, *_rest) in self.memo.items()}
            t0 = time.thread_time()
            if self.prof:
                self.prof.enable()
            snap = build_snapshot(engine, None, {}, 0, self.memo)  # type: ignore[arg-type]
            if self.prof:
                self.prof.disable()
            self.cpu += time.thread_time() - t0
            self.snapshots += 1
            self.changed += sum(before.get(r.name) is not r for r in snap.rows)
            t0 = time.thread_time()  # again at once: no row changed (the fixed cost)
            build_snapshot(engine, None, {}, 0, self.memo)  # type: ignore[arg-type]
            self.idle_cpu += time.thread_time() - t0
        await super().wait(deadline, wake)


def once(workload: str, seconds: float, every: float,
         profile: bool) -> tuple[float, float, int, int, pstats.Stats | None]:
    """(engine-thread CPU in snapshots, in snapshots where nothing changed, snapshots,
    changed rows, profile)."""
    wl = replace(BY_NAME[workload], window=seconds)
    with tempfile.TemporaryDirectory(prefix="tui-sched-snap-") as tmp:
        drv = drivers.TuiDriver(wl, Path(tmp))
        start = time.time()
        prof = cProfile.Profile() if profile else None
        clock = SnapshotClock(start, start + seconds, every, prof)
        engine = drv.engine
        engine.clock = clock
        clock.engine = engine
        assert not seed_runs(engine)  # a fresh store: nothing from before the start
        engine.run()
        drv.store.close()
    return clock.cpu, clock.idle_cpu, clock.snapshots, clock.changed, pstats.Stats(prof) if prof else None


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("workload", nargs="?", default="every1s_main_1000",
                   choices=sorted(n for n, w in BY_NAME.items() if w.kind == "every"))
    p.add_argument("--seconds", type=float, default=20.0, help="simulated seconds")
    p.add_argument("--every", type=float, default=0.5, help="simulated seconds between snapshots")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="cProfile of build_snapshot (tottime)")
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args(argv)
    if a.profile:
        _, _, _, _, stats = once(a.workload, a.seconds, a.every, True)
        assert stats is not None
        stats.sort_stats("tottime").print_stats(a.top)
        return 0
    per_snap: list[float] = []
    per_row: list[float] = []
    unchanged: list[float] = []
    for _ in range(a.repeat):
        cpu, idle_cpu, snaps, changed, _ = once(a.workload, a.seconds, a.every, False)
        unchanged.append(1e3 * idle_cpu / max(snaps, 1))
        per_snap.append(1e3 * cpu / max(snaps, 1))
        per_row.append(1e6 * cpu / max(changed, 1))
    print(f"{a.workload}: a snapshot every {a.every:g} simulated s, {snaps} per repeat, "
          f"{changed / max(snaps, 1):.0f} changed rows each; engine thread CPU per snapshot "
          f"median {statistics.median(per_snap):.2f} ms (min {min(per_snap):.2f}, max "
          f"{max(per_snap):.2f}), per changed row {statistics.median(per_row):.1f} us "
          f"({a.repeat} repeats); a snapshot where no row changed "
          f"{statistics.median(unchanged):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
