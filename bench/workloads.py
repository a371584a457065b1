"""The workload definitions, shared by both schedulers (one definition, two drivers).

A workload is a kind of task set (``every``, ``idle``, ``true``, ``startup``, ``longrun``),
a number of tasks, an execution mode and a measurement window. ``run.py`` runs each one
in a fresh subprocess per scheduler (``child.py``), so CPU and RSS are per workload.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    Attributes:
        name: Identifier (``--only`` matches it).
        kind: ``every`` (``every 1 second``), ``idle`` (``daily``, after its one run),
            ``true`` (as fast as possible), ``startup``, ``longrun``, ``tui`` (the
            terminal UI: ``bench/tui_bench.py``) or ``attach`` (clients of the control
            socket: ``bench/control_bench.py``).
        n: Number of tasks.
        execution: tui-sched execution mode (APScheduler's mapping is in the drivers).
        window: Measurement window in seconds (full run).
        quick_window: Window under ``--quick``.
        warmup: Seconds after the scheduler starts that are discarded (both schedulers).
        quick_warmup: Warm-up under ``--quick``.
        aps: Whether APScheduler runs it too.
        default: Part of the default set (else only with ``--all`` or ``--only``).
        runs: ``longrun``: stop after this many runs (or ``window``, whichever is first).
        quick_runs: ``longrun`` under ``--quick``.
        period: Seconds between runs of one task (``every``).
        what: One line for the README / table footer.
    """

    name: str
    kind: str
    n: int
    execution: str
    window: float
    quick_window: float
    warmup: float = 2.0
    quick_warmup: float = 1.0
    aps: bool = True
    default: bool = True
    runs: int = 0
    quick_runs: int = 0
    period: float = 1.0
    what: str = ""


def _every(n: int, execution: str, window: float, quick: float, default: bool = True,
           star: bool = False) -> Workload:
    return Workload(
        f"every1s_{execution}_{n}", "every", n, execution, window, quick, default=default,
        warmup=2.0, quick_warmup=0.5 if not star else 1.0,
        what=f"{n:,} tasks `every 1 second`, {execution}; lateness = body start - due"
        + (" (issue 2's figure)" if star else ""),
    )


def _true(n: int, execution: str, window: float, quick: float, default: bool = True) -> Workload:
    return Workload(
        f"true_{execution}_{n}", "true", n, execution, window, quick, default=default,
        warmup=2.0, quick_warmup=0.5,
        what=f"{n:,} trivial tasks with condition `true` (run again as soon as finished), "
             f"{execution}",
    )


def _idle(n: int, window: float, quick: float) -> Workload:
    return Workload(
        f"idle_daily_{n}", "idle", n, "main", window, quick, warmup=1.0, quick_warmup=1.0,
        what=f"{n:,} `daily` tasks: each runs once during warm-up, then the window is idle; "
             "CPU % after start-up",
    )


WORKLOADS: tuple[Workload, ...] = (
    _every(1000, "main", 20.0, 5.0, star=True),
    _every(1000, "thread", 15.0, 1.5),
    _every(5000, "main", 20.0, 1.5),
    _every(10, "main", 10.0, 1.5),
    _idle(1000, 15.0, 1.0),
    _idle(5000, 15.0, 1.0),
    _true(100, "main", 8.0, 1.0),
    _true(10, "thread", 8.0, 1.0),
    _true(10, "process", 8.0, 1.0),
    Workload("startup_1000", "startup", 1000, "main", 0.0, 0.0, warmup=0.0, quick_warmup=0.0,
             what="process start (before spawn) to first run and to all 1,000 first runs "
                  "(median of 3 spawns; 1 under --quick)"),
    Workload("longrun_main_10", "longrun", 10, "main", 150.0, 3.0, warmup=1.0,
             quick_warmup=0.5, aps=False, runs=1_000_000, quick_runs=10_000,
             what="10 `true` tasks, main, until 1,000,000 runs (or 150 s): RSS and store size "
                  "at the start, half-way and at the end. 10 tasks so that retention "
                  "(keep_runs 10,000 per task = 100,000 rows) is exercised; tui-sched only "
                  "(APScheduler keeps no history)"),
    Workload("tui_2000", "tui", 2000, "thread", 60.0, 10.0, warmup=3.0, quick_warmup=1.0,
             aps=False,
             what="the terminal UI (headless, driven by Pilot) over 2,000 tasks with 500 log "
                  "lines/s: key to screen p50/p95 of `f` (row shows queued) and of each "
                  "`/` filter key, `f` until the run shows succeeded (engine round trip), "
                  "UI thread and process CPU % with no keys pressed; tui-sched only"),
    Workload("attach_every1s_1000", "attach", 1000, "main", 10.0, 3.0, warmup=5.0,
             quick_warmup=2.0, aps=False,
             what="`tui-sched run` (a subprocess: history on, log to /dev/null) with 1,000 "
                  "tasks `every 1 second`, main, and its control socket: CPU % and keep-up "
                  "with no client, then with 1 and with 10 subscribed clients reading "
                  "everything pushed (what `tui-sched attach` receives, not drawn), one "
                  "window each in the same scheduler process (bench/control_bench.py; "
                  "issue 19's bars); tui-sched only"),
    # The rest of issue 7's matrix: run with --all (or --only NAME).
    _every(10, "thread", 10.0, 1.5, default=False),
    _every(5000, "thread", 20.0, 1.5, default=False),
    _true(10, "main", 8.0, 1.0, default=False),
    _true(10, "async", 8.0, 1.0, default=False),
    _true(100, "async", 8.0, 1.0, default=False),
    _true(100, "thread", 8.0, 1.0, default=False),
    _true(100, "process", 8.0, 1.0, default=False),
)

BY_NAME = {w.name: w for w in WORKLOADS}
