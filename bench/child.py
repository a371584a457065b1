"""Run ONE workload on ONE scheduler in this (fresh) process and write its figures as JSON.

    python bench/child.py {tui|aps} WORKLOAD --window S --warmup S [--runs N] --out FILE

``run.py`` spawns one of these per workload and scheduler, so CPU and RSS belong to that
workload alone. The timeline is the same for both schedulers:

1. build the tasks (timed, not part of the window);
2. start the scheduler at ``t0``;
3. warm-up: ``every``/``true``/``longrun`` discard ``[t0, t0 + warmup)``; ``idle`` waits until
   every task has had its one run, then ``warmup`` more seconds;
4. the window: CPU is read at both ends; runs are counted by when they happened;
5. stop the scheduler, then compute.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # a checkout that is not installed still works

import bench_tasks as bt  # noqa: E402
import measure as m  # noqa: E402
from workloads import BY_NAME, Workload  # noqa: E402


def run(scheduler: str, wl: Workload, tmp: Path, store: str = "sqlite") -> dict[str, Any]:
    import drivers

    t_build = time.time()
    drv = drivers.make(scheduler, wl, tmp, store=store)
    build_s = time.time() - t_build
    cpu = m.CpuWindow()
    out: dict[str, Any] = {"scheduler": drv.label, "build_s": build_s}

    if wl.kind == "idle":
        t0 = time.time()
        drv.start()
        if not drv.first_done.wait(300):
            raise RuntimeError(f"only {drv.total} of {wl.n} first runs finished in 300 s")
        out["settle_s"] = time.time() - t0
        time.sleep(wl.warmup)
        cpu.start()
        time.sleep(wl.window)
        cpu.stop()
        w0, w1 = cpu.wall0, cpu.wall0 + cpu.wall
        drv.stop()
        runs = sum(1 for t in drv.finish_times if w0 <= t < w1)
        out.update(runs=runs, runs_per_s=runs / cpu.wall)

    elif wl.kind == "longrun":
        t0 = time.time()
        drv.set_window(t0 + wl.warmup, float("inf"))
        drv.start()
        m.sleep_until(t0 + wl.warmup)
        total0 = drv.total
        rss0 = m.rss_mb()
        store0 = m.dir_size_mb(drv.store_dir)  # type: ignore[attr-defined]
        cpu.start()
        deadline = cpu.wall0 + wl.window
        samples: list[tuple[int, float]] = [(0, rss0)]  # (runs so far, RSS MB)
        next_sample = time.time() + 2.0
        while drv.total - total0 < wl.runs and time.time() < deadline:
            time.sleep(0.25)
            if time.time() >= next_sample:
                samples.append((drv.total - total0, m.rss_mb()))
                next_sample += 2.0
        cpu.stop()
        runs = drv.total - total0
        rss1 = m.rss_mb()
        store1 = m.dir_size_mb(drv.store_dir)  # type: ignore[attr-defined]
        wal1 = m.file_size_mb(drv.store_dir / "history.sqlite3-wal")  # type: ignore[attr-defined]
        drv.stop()
        import sqlite3

        con = sqlite3.connect(drv.store_dir / "history.sqlite3")  # type: ignore[attr-defined]
        rows = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        con.close()
        samples.append((runs, rss1))
        # RSS at half the runs: growth in the second half is what a leak would show, once
        # caches (SQLite's page cache, the WAL index) have filled in the first.
        rss_mid = min(samples, key=lambda s: abs(s[0] - runs / 2))[1]
        out.update(rss_mid_mb=rss_mid, rss_samples=samples)
        out.update(runs=runs, runs_per_s=runs / cpu.wall, rss_start_mb=rss0, rss_end_mb=rss1,
                   store_start_mb=store0, store_end_mb=store1, store_wal_end_mb=wal1,
                   store_rows_end=rows,
                   target_runs=wl.runs)

    else:  # every, true
        t0 = time.time()
        w0, w1 = t0 + wl.warmup, t0 + wl.warmup + wl.window
        drv.set_window(w0, w1)
        drv.start()
        m.sleep_until(w0)
        cpu.start()
        m.sleep_until(w1)
        cpu.stop()
        drv.stop()
        if wl.kind == "every":
            starts = bt.STARTS.by_task()
            rate, ratio, raw = m.keep_up(starts.values(), wl.n, wl.period, w0, w1)
            out.update(runs=raw, runs_per_s=rate, keep_up=ratio,
                       keep_up_raw=raw / (wl.n * (w1 - w0) / wl.period))
            pairs = m.timed_lateness(drv.dues, starts, w0, w1)  # type: ignore[arg-type]
            out.update(m.lateness_fields([late for _, late in pairs]))
            out["lat_max_by_second_ms"] = m.lateness_by_second(pairs, w0, w1)
            if scheduler == "tui":
                # The engine's own figure (recorded start minus due), for comparison.
                f = m.lateness_fields(drv.record_lateness(w0, w1))  # type: ignore[attr-defined]
                out["record_lat_p50_ms"] = f["lat_p50_ms"]
                out["record_lat_p99_ms"] = f["lat_p99_ms"]
        else:
            out.update(runs=drv.in_window, runs_per_s=drv.in_window / (w1 - w0))

    out.update(m.base_result(cpu))
    out.update(drv.extra)
    return out


def run_tui(wl: Workload, tmp: Path, store: str = "sqlite") -> dict[str, Any]:
    """The ``tui`` kind: ``bench/tui_bench.py``'s measurement (a headless app driven by
    Pilot: 2,000 tasks, 500 log lines/s) with its phases fitted into ``wl.window``."""
    import tui_bench

    plan = tui_bench.plan_for_window(wl.window, wl.warmup, tasks=wl.n, store=store)
    return tui_bench.measure(plan, tmp)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("scheduler", choices=("tui", "aps", "apsd"))
    p.add_argument("workload", choices=sorted(BY_NAME))
    p.add_argument("--window", type=float, required=True)
    p.add_argument("--warmup", type=float, required=True)
    p.add_argument("--runs", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--store", choices=("sqlite", "memory"), default="sqlite",
                   help="tui-sched's history store (memory: a labelled diagnostic only)")
    a = p.parse_args(argv)
    wl = replace(BY_NAME[a.workload], window=a.window, warmup=a.warmup,
                 runs=a.runs or BY_NAME[a.workload].runs)
    try:
        with tempfile.TemporaryDirectory(prefix="tui-sched-bench-") as tmp:
            if wl.kind == "tui":
                result = run_tui(wl, Path(tmp), a.store)
            else:
                result = run(a.scheduler, wl, Path(tmp), a.store)
    except BaseException:
        result = {"error": traceback.format_exc()}
    Path(a.out).write_text(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # do not wait for abandoned daemon threads or pool workers


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
