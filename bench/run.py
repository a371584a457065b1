"""tui-sched benchmark suite: each workload in a fresh subprocess, on tui-sched and on
APScheduler 3.11 in the same run, one table, and a JSON file under ``bench/results/``.

    .venv/bin/python bench/run.py                 # the default set (about 6 minutes)
    .venv/bin/python bench/run.py --quick         # smoke check, under a minute
    .venv/bin/python bench/run.py --only every1s_main_1000 --repeat 3
    .venv/bin/python bench/run.py --all           # issue 7's whole matrix
    .venv/bin/python bench/run.py --list

See bench/README.md for what each column means and how APScheduler is mapped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from workloads import WORKLOADS, Workload  # noqa: E402

SCHEDULERS = {"tui": "tui-sched", "aps": "APScheduler", "apsd": "APScheduler defaults"}
#: The ``attach`` workload's rows: one scheduler process, no client, then clients
#: (key, ``control_bench.py``'s phase, label).
ATTACH_PHASES = (("tui", "0", "tui-sched run, no client"),
                 ("tui1", "1", "+ 1 attached client"),
                 ("tui10", "10", "+ 10 attached clients"))
#: Issue 19: one attached client costs the scheduler at most this much CPU (x without).
ATTACH_CPU_BAR = 1.2
#: The ``tui`` workload's second row (issue 19): the same UI attached to a ``tui-sched
#: run`` subprocess (row key, label).
TUI_ATTACHED = ("attached", "tui-sched attach (UI process)")
#: Issue 19: an attached UI's key -> effect on screen (f -> the run's result), p95.
ATTACHED_EFFECT_P95_BAR_MS = 150.0


def _with_defaults(wl: Workload) -> bool:
    """Whether APScheduler is also run as most people run it (``apsd``): for the
    ``every`` workloads in ``main``, where the bars compare CPU with APScheduler."""
    return wl.aps and wl.kind == "every" and wl.execution == "main"
STARTUP_SPAWNS = 3
#: Issue 7: key to screen p95 in the TUI (the same as tui_bench.KEY_P95_BAR_MS; not
#: imported, so that this process never loads Textual).
KEY_P95_BAR_MS = 100.0


# == running =============================================================================

def _env() -> dict[str, str]:
    env = dict(os.environ)
    # A checkout that is not installed still imports tui_sched; bench modules import by
    # plain name (APScheduler's spawn workers need that too).
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE), str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("TUI_SCHED_WORKER", None)
    return env


def run_child(sched: str, wl: Workload, store: str = "sqlite") -> dict[str, Any]:
    """One workload on one scheduler in a fresh process."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [sys.executable, str(HERE / "child.py"), sched, wl.name,
           "--window", str(wl.window), "--warmup", str(wl.warmup), "--out", str(out)]
    if wl.runs:
        cmd += ["--runs", str(wl.runs)]
    if sched == "tui" and store != "sqlite":
        cmd += ["--store", store]
    budget = wl.warmup + wl.window + 300
    try:
        proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=budget)
        text = out.read_text() if out.exists() else ""
        if not text:
            return {"error": f"child exited {proc.returncode} without a result:\n"
                             f"{proc.stderr[-2000:]}"}
        result: dict[str, Any] = json.loads(text)
        if proc.stderr.strip():
            result["stderr_tail"] = proc.stderr[-1000:]
        return result
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {budget:.0f} s"}
    finally:
        out.unlink(missing_ok=True)


def run_attach(wl: Workload) -> dict[str, dict[str, Any]]:
    """``control_bench.py``: one ``tui-sched run`` measured with no client, 1 and 10; the
    figures per row key of ``ATTACH_PHASES``."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as f:
        out = Path(f.name)
    clients = [phase for _, phase, _ in ATTACH_PHASES if phase != "0"]
    cmd = [sys.executable, str(HERE / "control_bench.py"), "--tasks", str(wl.n),
           "--clients", *clients, "--seconds", str(wl.window), "--warmup", str(wl.warmup),
           "--no-ctl-status", "--json", str(out)]
    budget = wl.warmup + len(ATTACH_PHASES) * (wl.window + 10) + 120
    try:
        proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=budget)
        text = out.read_text() if out.exists() else ""
        if not text:
            error = {"error": f"control_bench exited {proc.returncode} without a result:\n"
                              f"{proc.stderr[-2000:]}"}
            return {key: {**error, "scheduler": label} for key, _, label in ATTACH_PHASES}
        phases = json.loads(text)
        return {key: {**phases.get(phase, {"error": f"no phase {phase}"}), "scheduler": label}
                for key, phase, label in ATTACH_PHASES}
    except subprocess.TimeoutExpired:
        return {key: {"error": f"timed out after {budget:.0f} s", "scheduler": label}
                for key, _, label in ATTACH_PHASES}
    finally:
        out.unlink(missing_ok=True)


def run_tui_attached(wl: Workload) -> dict[str, Any]:
    """``tui_bench.py --attach``: the ``tui`` workload's measurement with the UI attached
    to a ``tui-sched run`` subprocess (a child of that process: the child CPU % column)."""
    label = TUI_ATTACHED[1]
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [sys.executable, str(HERE / "tui_bench.py"), "--attach", "--tasks", str(wl.n),
           "--window", str(wl.window), "--warmup", str(wl.warmup), "--json", str(out)]
    budget = wl.warmup + wl.window + 300
    try:
        proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=budget)
        text = out.read_text() if out.exists() else ""
        if not text:
            return {"error": f"tui_bench --attach exited {proc.returncode} without a result:\n"
                             f"{proc.stderr[-2000:]}", "scheduler": label}
        return {**json.loads(text), "scheduler": label}
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {budget:.0f} s", "scheduler": label}
    finally:
        out.unlink(missing_ok=True)


def attached_bar(r: dict[str, Any]) -> str:
    """Issue 19's bar for the attached UI row: key -> effect p95 (f -> the run's result
    drawn, over the socket)."""
    if "error" in r:
        return ""
    ok = r["f_done_p95_ms"] <= ATTACHED_EFFECT_P95_BAR_MS
    return (f"bar ok (key->effect p95<={ATTACHED_EFFECT_P95_BAR_MS:g}ms)" if ok
            else f"BAR MISSED: key->effect p95<={ATTACHED_EFFECT_P95_BAR_MS:g}ms")


def attach_bar(key: str, r: dict[str, Any], alone: dict[str, Any] | None) -> str:
    """Issue 19's bar for a row of the ``attach`` workload (empty if it has none)."""
    if "error" in r or alone is None or "error" in alone:
        return ""
    if key == "tui1":
        ratio = r["cpu_pct"] / alone["cpu_pct"] if alone["cpu_pct"] else math.inf
        ok = ratio <= ATTACH_CPU_BAR
        what = f"CPU x{ratio:.2f} of no client"
        return f"{what}; " + (f"bar ok (CPU<={ATTACH_CPU_BAR:g}x)" if ok
                              else f"BAR MISSED: CPU<={ATTACH_CPU_BAR:g}x")
    if key == "tui10":
        ok = r["keep_up"] >= 0.999
        note = "bar ok (keep-up>=0.999)" if ok else "BAR MISSED: keep-up>=0.999"
        if not ok and alone["keep_up"] < 0.999:
            note += f" (and with no client: {alone['keep_up']:.4f})"
        return note
    return ""


def run_startup(sched: str, wl: Workload) -> dict[str, Any]:
    """Spawn ``python -c`` that builds the tasks; time from just before the spawn."""
    code = f"import startup_child; startup_child.main({sched!r}, {wl.n})"
    t_spawn = time.time()
    try:
        proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True,
                              text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return {"error": "start-up child timed out after 120 s"}
    t_exit = time.time()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"start-up child exited {proc.returncode}:\n{proc.stderr[-2000:]}"}
    data = json.loads(lines[-1])
    return {
        "scheduler": SCHEDULERS[sched],
        "first_run_s": data["first"] - t_spawn,
        "all_runs_s": data["all"] - t_spawn,
        "runs": data["n"],
        "exit_s": t_exit - t_spawn,
    }


def median_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per numeric field, the median over repeats (other fields from the first)."""
    ok = [r for r in results if "error" not in r]
    if not ok:
        return results[0]
    out = dict(ok[0])
    for key in ok[0]:
        vals = [r.get(key) for r in ok]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
            out[key] = statistics.median(vals)  # type: ignore[type-var]
    out["repeats"] = len(ok)
    return out


# == the bars of issue 7 =================================================================

def bar_check(wl: Workload, tui: dict[str, Any], aps: dict[str, Any] | None) -> str:
    """Issue 7's bar for this workload: ``ok`` or what missed (empty if it has none)."""
    if "error" in tui:
        return ""
    misses: list[str] = []
    checks: list[tuple[bool, str]] = []
    acpu = aps.get("cpu_pct") if aps and "error" not in aps else None
    if wl.name == "idle_daily_5000":
        checks.append((tui["cpu_pct"] <= 0.1, "CPU<=0.1%"))
    elif wl.name in ("every1s_main_1000", "every1s_main_5000"):
        p99_bar = 10.0 if wl.n == 1000 else 50.0
        checks.append((tui.get("keep_up", 0) >= 0.999, "keep-up>=0.999"))
        checks.append(((tui.get("lat_p99_ms") or math.inf) <= p99_bar, f"p99<={p99_bar:g}ms"))
        if acpu is not None:
            checks.append((tui["cpu_pct"] <= 0.8 * acpu, "CPU<=0.8xAPS"))
    elif wl.name == "true_main_100":
        checks.append((tui["runs_per_s"] >= 10_000, ">=10000/s"))
    elif wl.name == "true_thread_10":
        checks.append((tui["runs_per_s"] >= 2_000, ">=2000/s"))
    elif wl.name == "true_process_10":
        checks.append((tui["runs_per_s"] >= 1_000, ">=1000/s"))
    elif wl.name == "startup_1000":
        checks.append((tui["first_run_s"] <= 0.3, "first<=0.3s"))
    elif wl.kind == "tui":
        # What a key shows by itself (f's queued mark, each filter key); the f ->
        # succeeded round trip goes through the engine and is reported beside it.
        checks.append((tui["key_p95_ms"] <= KEY_P95_BAR_MS, f"key p95<={KEY_P95_BAR_MS:g}ms"))
    elif wl.kind == "longrun":
        growth = tui["rss_end_mb"] / tui["rss_start_mb"] - 1
        checks.append((abs(growth) <= 0.10, "RSS+-10%"))
        # SchedulerConfig().keep_runs (10,000 per task) x tasks is what retention keeps;
        # pruning runs in batches, so allow half as much again before calling it unbounded.
        bound = wl.n * 10_000
        checks.append((tui["store_rows_end"] <= 1.5 * bound,
                       f"rows<=1.5x{bound:,} (keep_runs x tasks)"))
        # The writer empties the WAL past 64 MiB (67 MB); allow the commit that crossed it.
        checks.append((tui.get("store_wal_end_mb", 0.0) <= 80.0, "WAL<=80MB"))
        checks.append((tui["runs"] >= tui["target_runs"], f"{tui['target_runs']:,} runs"))
    else:
        return ""
    misses = [label for ok, label in checks if not ok]
    passed = [label for ok, label in checks if ok]
    if not misses:
        return "bar ok (" + ", ".join(passed) + ")"
    return "BAR MISSED: " + ", ".join(misses)


# == the table ===========================================================================

COLUMNS = (
    # header, key, format
    ("runs/s", "runs_per_s", "{:,.0f}"),
    ("keep-up", "keep_up", "{:.4f}"),
    ("late p50", "lat_p50_ms", "{:.1f}"),
    ("p99", "lat_p99_ms", "{:.1f}"),
    ("max ms", "lat_max_ms", "{:.1f}"),
    ("CPU %", "cpu_pct", "{:.2f}"),
    ("child CPU %", "children_cpu_pct", "{:.1f}"),
    ("peak RSS MB", "peak_rss_mb", "{:.1f}"),
    ("others %", "others_cpu_pct", "{:.0f}"),
)


def _fmt(fmt: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt.format(v)


def _ratio(a: Any, b: Any) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return "-"
    if b == 0:
        return "-" if a == 0 else "inf"
    r = a / b
    return f"{r:.2f}" if r < 100 else f"{r:.0f}"


def notes_for(wl: Workload, r: dict[str, Any]) -> str:
    if "error" in r:
        return "ERROR: " + str(r["error"]).strip().splitlines()[-1][:80]
    if wl.kind == "startup":
        return f"first run {r['first_run_s']:.3f} s, all {r['all_runs_s']:.3f} s"
    if wl.kind == "idle":
        return f"{r['runs']} runs in window; first runs done {r['settle_s']:.2f} s after start"
    if wl.kind == "tui" and r.get("scheduler") == TUI_ATTACHED[1]:
        return (f"key -> effect p50/p95: f -> succeeded {r['f_done_p50_ms']:.0f}/"
                f"{r['f_done_p95_ms']:.0f} ms (command, run, pushed events, row drawn); "
                f"f -> queued {r['f_queued_p50_ms']:.1f}/{r['f_queued_p95_ms']:.1f} ms, "
                f"/ filter {r['filter_p50_ms']:.1f}/{r['filter_p95_ms']:.1f} ms per key; no "
                f"keys: UI thread CPU {r['ui_cpu_pct']:.1f} %, scheduler process (child CPU "
                f"%) {r['scheduler_cpu_pct']:.1f} %")
    if wl.kind == "tui":
        return (f"key to screen p50/p95: f -> queued {r['f_queued_p50_ms']:.1f}/"
                f"{r['f_queued_p95_ms']:.1f} ms, / filter {r['filter_p50_ms']:.1f}/"
                f"{r['filter_p95_ms']:.1f} ms per key (n={r['f_queued_n']:.0f}/"
                f"{r['filter_n']:.0f}); engine round trip f -> succeeded "
                f"{r['f_done_p50_ms']:.0f}/{r['f_done_p95_ms']:.0f} ms; no keys: UI thread "
                f"CPU {r['ui_cpu_pct']:.1f} % (of the CPU % column); {r['tasks']:,.0f} tasks, "
                f"{r['log_rate']:.0f} log lines/s")
    if wl.kind == "attach":
        return (f"command round trip p50/p95 {r['rtt_p50_ms']:.1f}/{r['rtt_p95_ms']:.1f} ms "
                f"(after the window); clients' CPU {r['clients_cpu_pct']:.1f} %")
    if wl.kind == "longrun":
        second_half = 100 * (r["rss_end_mb"] / r.get("rss_mid_mb", math.nan) - 1)
        return (f"{r['runs']:,.0f} runs: RSS {r['rss_start_mb']:.1f} -> "
                f"{r.get('rss_mid_mb', math.nan):.1f} (half-way) -> {r['rss_end_mb']:.1f} MB "
                f"({second_half:+.1f} % in the second half), "
                f"store {r['store_start_mb']:.1f} -> {r['store_end_mb']:.1f} MB "
                f"(WAL {r.get('store_wal_end_mb', 0):.1f} MB; {r['store_rows_end']:,.0f} rows)")
    parts = []
    if wl.kind == "every" and r.get("record_lat_p99_ms") is not None:
        parts.append(f"recorded-start lateness p50/p99 {r['record_lat_p50_ms']:.1f}/"
                     f"{r['record_lat_p99_ms']:.1f} ms")
    if r.get("missed_runs"):
        parts.append(f"{r['missed_runs']} runs skipped (misfire)")
    if wl.kind == "every" and r.get("children_rss_mb"):
        parts.append(f"children RSS {r['children_rss_mb']:.0f} MB")
    if wl.kind == "true" and wl.execution == "process":
        parts.append(f"workers' RSS {r.get('children_rss_mb', 0):.0f} MB")
    return "; ".join(parts)


def render(rows: list[tuple[Workload, dict[str, dict[str, Any]]]]) -> str:
    head = ["workload", "scheduler", *[c[0] for c in COLUMNS], "notes"]
    table: list[list[str]] = []
    for wl, by_sched in rows:
        tui, aps = by_sched.get("tui"), by_sched.get("aps")
        first = True
        for key, r in by_sched.items():
            cells = [wl.name if first else "", str(r.get("scheduler") or SCHEDULERS[key])]
            first = False
            for _, field, fmt in COLUMNS:
                cells.append("-" if "error" in r else _fmt(fmt, r.get(field)))
            note = notes_for(wl, r)
            if key == "tui":
                bar = bar_check(wl, r, aps)
                note = "; ".join(x for x in (note, bar) if x)
            elif wl.kind == "attach":
                note = "; ".join(x for x in (note, attach_bar(key, r, tui)) if x)
            elif key == TUI_ATTACHED[0]:
                note = "; ".join(x for x in (note, attached_bar(r)) if x)
            cells.append(note)
            table.append(cells)
        for key, label in (("aps", "ratio tui/APS"), ("apsd", "ratio tui/APS defaults")):
            other = by_sched.get(key)
            if not tui or not other or "error" in tui or "error" in other:
                continue
            cells = ["", label]
            for _, field, _ in COLUMNS:
                if field == "others_cpu_pct":  # not a property of the scheduler
                    cells.append("")
                elif (field == "cpu_pct" and isinstance(tui.get(field), float)
                      and max(tui[field], other.get(field) or 0.0) < 0.05):
                    cells.append("~0")  # both idle: a ratio of two near-zero readings is noise
                else:
                    cells.append(_ratio(tui.get(field), other.get(field)))
            if wl.kind == "startup":
                cells.append(f"first run x{_ratio(tui['first_run_s'], other['first_run_s'])}, "
                             f"all x{_ratio(tui['all_runs_s'], other['all_runs_s'])}")
            elif key == "apsd":
                cells.append("a second reference (BackgroundScheduler, ThreadPoolExecutor(10)); "
                             "the bars use the row above")
            else:
                cells.append("")
            table.append(cells)
        table.append([])
    widths = [len(h) for h in head]
    for cells in table:
        for i, c in enumerate(cells[:-1]):
            widths[i] = max(widths[i], len(c))
    num = set(range(2, 2 + len(COLUMNS)))

    def line(cells: list[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            if i == len(head) - 1:
                out.append(c)
            elif i in num:
                out.append(c.rjust(widths[i]))
            else:
                out.append(c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = [line(head), line(["-" * w for w in widths[:-1]] + ["-----"])]
    for cells in table[:-1]:
        lines.append(line(cells) if cells else "")
    return "\n".join(lines)


# == main ================================================================================

def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _compile_bytecode() -> None:
    """Compile tui-sched's modules (and the bench's) to bytecode before timing start-up.

    APScheduler comes from a wheel, whose modules pip compiled at install time. Ours is an
    editable install: it has no bytecode until a first import writes it, and never where
    ``PYTHONDONTWRITEBYTECODE`` is set (then every start compiles about 50 modules, some
    60 ms here). Both schedulers start from compiled modules, as a user's would.
    """
    import compileall

    root = Path(__file__).resolve().parent.parent
    for folder in (root / "tui_sched", root / "bench"):
        compileall.compile_dir(folder, quiet=1)


def select(args: argparse.Namespace) -> list[Workload]:
    if args.only:
        pats = [p for chunk in args.only for p in chunk.split(",") if p]
        chosen = [w for w in WORKLOADS if any(fnmatch.fnmatch(w.name, p) for p in pats)]
        if not chosen:
            names = ", ".join(w.name for w in WORKLOADS)
            raise SystemExit(f"--only {','.join(pats)}: no such workload (have: {names})")
    else:
        chosen = [w for w in WORKLOADS if w.default or args.all]
    out = []
    for w in chosen:
        if args.quick:
            w = replace(w, window=w.quick_window, warmup=w.quick_warmup,
                        runs=w.quick_runs or w.runs)
        if args.window is not None and w.kind != "startup":
            w = replace(w, window=args.window)
        out.append(w)
    return out


def show(path: Path) -> int:
    """Re-render a saved ``bench/results/*.json`` (to compare runs over time)."""
    from workloads import BY_NAME

    doc = json.loads(path.read_text())
    by_workload: dict[str, dict[str, dict[str, Any]]] = {}
    configs: dict[str, dict[str, Any]] = {}
    for e in doc["results"]:
        label = str(e["scheduler"])
        key = e.get("key") or ("tui" if label.startswith("tui") else "apsd"
                               if label.endswith("defaults") else "aps")
        by_workload.setdefault(e["workload"], {})[key] = e["median"]
        configs[e["workload"]] = e.get("config", {})
    rows = []
    for name, by in by_workload.items():
        wl = BY_NAME.get(name)
        if wl is None:  # a workload renamed since: rebuild enough of it to render
            c = configs[name]
            wl = Workload(name, c.get("kind", "?"), c.get("n", 0), c.get("execution", "?"),
                          c.get("window_s", 0.0), 0.0)
        rows.append((wl, by))
    print(f"{path.name}: {doc.get('command')}  |  {doc.get('started')}  |  "
          f"git {str((doc.get('git') or {}).get('commit'))[:10]}"
          f"{' (dirty)' if (doc.get('git') or {}).get('dirty') else ''}")
    print()
    print(render(rows))
    return 0


def run_dask() -> dict[str, Any] | None:
    """``dask_bench.py`` in a fresh process: its rows printed, its figures returned
    (``None``: dask is not installed, or the run failed, which is printed)."""
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        print("skipped: dask.distributed is not installed (pip install 'tui-sched[dask]')")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dask.json"
        proc = subprocess.run([sys.executable, str(HERE / "dask_bench.py"), "--json", str(out)],
                              stderr=subprocess.PIPE, text=True, timeout=1800)
        if proc.returncode not in (0, 1) or not out.exists():  # (1: a bar was missed)
            print(f"dask_bench.py failed (exit code {proc.returncode}):\n{proc.stderr[-2000:]}")
            return None
        return dict(json.loads(out.read_text()))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="tui-sched vs APScheduler 3 benchmark suite")
    p.add_argument("--quick", action="store_true",
                   help="short windows and warm-ups: a smoke check in under a minute")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only these workloads (comma-separated, shell patterns; repeatable)")
    p.add_argument("--all", action="store_true",
                   help="also the rest of issue 7's matrix (thread 10/5000, async, ...)")
    p.add_argument("--window", type=float, metavar="SECONDS",
                   help="measurement window for every workload (overrides the defaults)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each workload N times and report medians (issue 7: 3)")
    p.add_argument("--scheduler", choices=("tui", "aps", "apsd", "both"), default="both",
                   help="run only one scheduler (both: all of them)")
    p.add_argument("--tui-store", choices=("sqlite", "memory"), default="sqlite",
                   help="diagnostic: tui-sched without persisted history (labelled in the "
                        "table; never the headline figure)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--show", metavar="FILE.json",
                   help="print the table of a saved results file (no benchmark is run)")
    p.add_argument("--no-json", action="store_true", help="do not write bench/results/*.json")
    p.add_argument("--no-userpath", action="store_true",
                   help="skip bench/userpath.py (tui-sched run as users run it, issue 23)")
    p.add_argument("--no-dask", action="store_true",
                   help='skip bench/dask_bench.py (execution="dask" on a 2-worker LocalCluster, '
                        "issue 22)")
    args = p.parse_args(argv)

    if args.list:
        for w in WORKLOADS:
            flag = "" if w.default else "  (--all)"
            print(f"{w.name:<22} window {w.window:>5g} s (quick {w.quick_window:g} s){flag}\n"
                  f"{'':<22} {w.what}")
        return 0

    if args.show:
        return show(Path(args.show))

    workloads = select(args)
    if any(w.kind == "startup" for w in workloads):
        _compile_bytecode()
    scheds = ("tui", "aps", "apsd") if args.scheduler == "both" else (args.scheduler,)
    began = time.time()
    started = dt.datetime.now().astimezone()
    load_start = os.getloadavg()[0]
    # The tree under test, read before the run (others may commit while it runs).
    git_info = {"commit": _git("rev-parse", "HEAD"),
                "dirty": bool(_git("status", "--porcelain", "--untracked-files=no"))}
    rows: list[tuple[Workload, dict[str, dict[str, Any]]]] = []
    raw: list[dict[str, Any]] = []
    for wl in workloads:
        by_sched: dict[str, dict[str, Any]] = {}
        active = [s for s in scheds
                  if not ((s == "aps" and not wl.aps) or (s == "apsd" and not _with_defaults(wl)))]
        if wl.kind == "attach":  # one process measured alone, then with clients
            active = [key for key, _, _ in ATTACH_PHASES] if "tui" in active else []
        if wl.kind == "tui" and "tui" in active:  # the UI embedded, then attached
            active.append(TUI_ATTACHED[0])
        n_rep = args.repeat
        if wl.kind == "startup":
            n_rep = max(n_rep, 1 if args.quick else STARTUP_SPAWNS)
        reps_of: dict[str, list[dict[str, Any]]] = {s: [] for s in active}
        # Repeats interleaved (tui-sched, APScheduler, APScheduler defaults, tui-sched,
        # ...): this machine has slow phases minutes long, and three repeats of one
        # scheduler in a row could all fall in one, tilting the ratios.
        for i in range(n_rep):
            if wl.kind == "attach" and active:
                t = time.time()
                print(f"[{time.time() - began:6.1f} s] {wl.name} on tui-sched run"
                      + (f" ({i + 1}/{n_rep})" if n_rep > 1 else "") + " ...",
                      end="", file=sys.stderr, flush=True)
                by_phase = run_attach(wl)
                failed = "error" in by_phase["tui"]
                print(f" {time.time() - t:.1f} s" + (" ERROR" if failed else ""),
                      file=sys.stderr, flush=True)
                if failed:
                    print(by_phase["tui"]["error"], file=sys.stderr)
                for key in active:
                    reps_of[key].append(by_phase[key])
                continue
            for sched in active:
                t = time.time()
                print(f"[{time.time() - began:6.1f} s] {wl.name} on "
                      f"{TUI_ATTACHED[1] if sched == TUI_ATTACHED[0] else SCHEDULERS[sched]}"
                      + (f" ({i + 1}/{n_rep})" if n_rep > 1 else "") + " ...",
                      end="", file=sys.stderr, flush=True)
                r = (run_startup(sched, wl) if wl.kind == "startup"
                     else run_tui_attached(wl) if sched == TUI_ATTACHED[0]
                     else run_child(sched, wl, args.tui_store))
                print(f" {time.time() - t:.1f} s" + (" ERROR" if "error" in r else ""),
                      file=sys.stderr, flush=True)
                if "error" in r:
                    print(r["error"], file=sys.stderr)
                reps_of[sched].append(r)
        for sched in active:
            reps = reps_of[sched]
            med = median_of(reps)
            by_sched[sched] = med
            raw.append({"workload": wl.name, "key": sched,
                        "scheduler": med.get("scheduler") or SCHEDULERS[sched],
                        "config": {"n": wl.n, "kind": wl.kind, "execution": wl.execution,
                                   "window_s": wl.window, "warmup_s": wl.warmup,
                                   "runs": wl.runs},
                        "median": med, "repeats": reps,
                        **({"bar": bar_check(wl, med, by_sched.get("aps"))}
                           if sched == "tui" else
                           {"bar": attach_bar(sched, med, by_sched.get("tui"))}
                           if wl.kind == "attach" else
                           {"bar": attached_bar(med)} if sched == TUI_ATTACHED[0] else {})})
        rows.append((wl, by_sched))

    # The bar needs APScheduler's figure, which came after tui-sched's: redo it.
    for entry in raw:
        if "bar" in entry and entry["key"] == "tui":
            wl = next(w for w in workloads if w.name == entry["workload"])
            by = next(b for w, b in rows if w.name == wl.name)
            entry["bar"] = bar_check(wl, by["tui"], by.get("aps"))

    elapsed = time.time() - began
    cmd = "bench/run.py " + " ".join(argv)
    others = [e["median"].get("others_cpu_pct") for e in raw]
    peak_others = max([0.0, *[x for x in others if isinstance(x, float)]])
    print()
    print(f"tui-sched {_version('tui-sched')} (git {str(git_info['commit'])[:7]}"
          f"{'+dirty' if git_info['dirty'] else ''}) vs APScheduler {_version('apscheduler')}  |  "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}  |  "
          f"{started:%Y-%m-%d %H:%M}  |  {cmd.strip()}  ({elapsed:.0f} s)")
    print("lateness = task body start - due (ms); CPU % of the scheduler process (100 % = one "
          "core); child CPU % = its worker processes")
    print("others % = CPU used by other processes on the machine during the window "
          f"(noise gauge; up to {peak_others:.0f} % in this run"
          + (", so lateness and CPU figures are noisy)" if peak_others > 20 else ")"))
    if args.quick:
        print("--quick: windows of 1-10 s; keep-up, p99 and the TUI's p95 are smoke figures")
    print()
    print(render(rows))
    dask = None
    if not (args.only or args.quick or args.no_dask or args.scheduler != "both"):
        print('\nexecution="dask" on a 2-worker LocalCluster (bench/dask_bench.py)')
        dask = run_dask()

    if not args.no_json:
        out_dir = HERE / "results"
        out_dir.mkdir(exist_ok=True)
        path = out_dir / f"{started:%Y%m%d-%H%M%S}.json"
        doc = {
            "started": started.isoformat(),
            "elapsed_s": elapsed,
            "command": cmd.strip(),
            "args": vars(args),
            "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                     "loadavg_1m_start": load_start, "others_cpu_pct_peak": peak_others,
                     "platform": platform.platform(), "machine": platform.machine()},
            "versions": {"tui-sched": _version("tui-sched"),
                         "apscheduler": _version("apscheduler"), "psutil": _version("psutil")},
            "git": git_info,
            "results": raw,
            "dask": dask,
        }
        path.write_text(json.dumps(doc, indent=1))
        print(f"\nresults: {path.relative_to(ROOT)}")
    failed = sum(1 for e in raw if "error" in e["median"])
    if not (args.only or args.quick or args.no_userpath or args.scheduler != "both"):
        import userpath  # the user's path (issue 23): its own rows, after this table

        print("\nThe user's path: tui-sched run with its log in a file, beside APScheduler 3")
        userpath.main(["--repeat", str(args.repeat)])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
