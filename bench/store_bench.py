"""Benchmark the SQLite run store: write throughput and start-up reads on a big table.

Usage::

    .venv/bin/python bench/store_bench.py [ROWS] [--tasks 50] [--flush-every 100]

Writes ROWS start+finish pairs (default 200,000) the way the engine does, flushing every
``--flush-every`` pairs, and prints pairs/s; then times ``summaries()``, a page of
``history(task)`` and ``prune`` on the ROWS-row table. Pass 1000000 for the figure the
design asks for (about a minute).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Run from a checkout without installing: make ``tui_sched`` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_sched.store import (
    Outcome,
    RunEnd,
    RunRecord,
    SqliteRunStore,
    Trigger,
)

OUTCOMES = (Outcome.SUCCESS, Outcome.SUCCESS, Outcome.SUCCESS, Outcome.FAIL, Outcome.TERMINATE)


def write_pairs(store: SqliteRunStore, rows: int, tasks: int, flush_every: int) -> float:
    """Start and finish ``rows`` runs over ``tasks`` task names; return pairs per second."""
    names = [f"task-{i:04d}" for i in range(tasks)]
    began = time.perf_counter()
    for i in range(rows):
        run_id = store.next_run_id()
        now = 1_700_000_000.0 + i
        store.start_run(RunRecord(run_id, names[i % tasks], Trigger.SCHEDULED, now))
        store.finish_run(run_id, RunEnd(now + 0.25, OUTCOMES[i % len(OUTCOMES)], None))
        if (i + 1) % flush_every == 0:
            store.flush()
    store.wait_written()  # the commits run on the store's writer thread: count them in
    return rows / (time.perf_counter() - began)


def timed(label: str, fn: Callable[[], object], repeat: int = 5) -> None:
    """Print the best and median wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    print(
        f"{label:<38} best {min(times) * 1000:8.1f} ms   "
        f"median {statistics.median(times) * 1000:8.1f} ms"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("rows", nargs="?", type=int, default=200_000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--flush-every", type=int, default=100)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.sqlite3"
        store = SqliteRunStore(path)
        rate = write_pairs(store, args.rows, args.tasks, args.flush_every)
        print(
            f"start+finish, flush every {args.flush_every}: {rate:12,.0f} pairs/s "
            f"({args.rows:,} pairs, {args.tasks} tasks)"
        )
        store.close()

        # Reopen, as the engine does at start-up, so no page is warm from the writes.
        store = SqliteRunStore(path)
        timed(f"summaries() on {args.rows:,} rows", store.summaries)
        timed("history(task, limit=100)", lambda: store.history("task-0007", limit=100))
        began = time.perf_counter()
        deleted = store.prune(keep_per_task=1000, older_than=None)
        elapsed = time.perf_counter() - began
        print(f"prune(keep_per_task=1000): {deleted:,} runs deleted in {elapsed:.2f} s")
        store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
