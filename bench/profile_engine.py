"""Profile tui-sched's engine on one workload with cProfile (engine on the main thread).

    .venv/bin/python bench/profile_engine.py every1s_main_1000 [--seconds 10] [--sort tottime]
        [--top 35] [--out FILE.pstats] [--store memory] [--no-profile]

The same task set as ``run.py`` builds (``drivers.TuiDriver``), but ``Engine.run()`` runs
on this thread under ``cProfile`` and a timer stops it. ``--store memory`` swaps the SQLite
history for ``MemoryRunStore`` (to see what persistence costs; never a headline figure);
``--no-profile`` just reports runs and CPU per run without the profiler's overhead, and
each thread's share (engine, history writer, checkpointer).
Thread and process task bodies are not profiled (other threads / processes); use py-spy
for those:

    py-spy record --pid PID -d 5 -f raw -o out.txt    # PID of a running child.py
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import drivers  # noqa: E402
from workloads import BY_NAME  # noqa: E402


def _thread_cpu() -> dict[str, float]:
    """CPU seconds so far of each live thread of this process, by thread name (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            with open(f"/proc/self/task/{thread.native_id}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[thread.name] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("workload", choices=sorted(n for n, w in BY_NAME.items()
                                              if w.kind in ("every", "idle", "true", "longrun")))
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--sort", default="tottime", choices=("tottime", "cumtime", "ncalls"))
    p.add_argument("--top", type=int, default=35)
    p.add_argument("--out", help="also save the raw stats (for snakeviz, pstats)")
    p.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    p.add_argument("--no-profile", action="store_true")
    a = p.parse_args(argv)
    wl = replace(BY_NAME[a.workload], window=a.seconds)
    with tempfile.TemporaryDirectory(prefix="tui-sched-prof-") as tmp:
        drv = drivers.TuiDriver(wl, Path(tmp))
        engine = drv.engine
        if a.store == "memory":
            from tui_sched.store.memory import MemoryRunStore

            engine.store = drv.store = MemoryRunStore()  # type: ignore[assignment]
        timer = threading.Timer(a.seconds, engine.request_stop)
        timer.start()
        prof = cProfile.Profile()
        began = time.time()
        cpu0 = time.process_time()
        per_thread0 = _thread_cpu()
        if not a.no_profile:
            prof.enable()
        engine.run()
        if not a.no_profile:
            prof.disable()
        wall, cpu = time.time() - began, time.process_time() - cpu0
        per_thread = _thread_cpu()
        drv.store.close()
    runs = drv.total or sum(len(v) for v in drv.dues.values())
    how = "without profiler" if a.no_profile else "under cProfile (its overhead included)"
    print(f"{a.workload} ({a.store} store): {runs:,} runs in {wall:.1f} s, {cpu:.2f} s CPU "
          f"{how} ({engine.cycles:,} ticks, {engine.evaluations:,} evaluations); "
          f"{1e6 * cpu / max(runs, 1):.0f} us CPU per run")
    if a.no_profile:
        for name, spent in sorted(per_thread.items(), key=lambda kv: -kv[1]):
            used = spent - per_thread0.get(name, 0.0)
            if used > 0:
                print(f"  {name:28s} {1e6 * used / max(runs, 1):6.1f} us CPU per run")
        return 0
    stats = pstats.Stats(prof)
    if a.out:
        stats.dump_stats(a.out)
    stats.sort_stats(a.sort).print_stats(a.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
