"""The history writer's CPU per row as the ``runs`` table grows (not part of the table).

    .venv/bin/python bench/store_growth.py [--tasks 1000] [--rows 200000]

Writes ``--rows`` finished runs through a real ``SqliteRunStore`` in a temporary folder,
one flush per round of ``--tasks`` tasks (one run each, as ``every 1 second`` does), and
prints the writer thread's CPU per row in each quarter of the rows, then the size of the
file and its WAL. Runs of many tasks interleave, so any index by task takes entries all
over its pages at every commit: this shows how that cost grows with the table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_sched.store.base import Outcome, RunEnd, RunRecord, Trigger
from tui_sched.store.sqlite import SqliteRunStore


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--rows", type=int, default=200_000)
    a = p.parse_args(argv)
    rounds = a.rows // a.tasks
    quarter = max(1, rounds // 4)
    names = [f"t{k}" for k in range(a.tasks)]
    with tempfile.TemporaryDirectory(prefix="tui-sched-growth-") as tmp:
        folder = Path(tmp)
        store = SqliteRunStore(folder / "history.sqlite3")

        def writer_cpu() -> float:
            store.wait_written()  # everything handed over is committed
            return float(store._writer.submit(time.thread_time).result())

        t = time.time()
        per_row: list[float] = []
        cpu0 = writer_cpu()
        for r in range(1, rounds + 1):
            for name in names:
                run_id = store.next_run_id()
                store.start_run(RunRecord(run_id, name, Trigger.SCHEDULED, t))
                store.finish_run(run_id, RunEnd(t + 3e-5, Outcome.SUCCESS))
                t += 1.0 / a.tasks
            store.flush()
            if r % quarter == 0:
                cpu1 = writer_cpu()
                per_row.append(1e6 * (cpu1 - cpu0) / (quarter * a.tasks))
                cpu0 = cpu1
        store.close()
        db = (folder / "history.sqlite3").stat().st_size / 1e6
        wal_path = folder / "history.sqlite3-wal"
        wal = wal_path.stat().st_size / 1e6 if wal_path.exists() else 0.0
    print(f"{a.tasks:,} tasks, {rounds * a.tasks:,} rows, one flush per round: writer CPU per "
          f"row by quarter {', '.join(f'{x:.1f}' for x in per_row)} us; "
          f"file {db:.1f} MB + WAL {wal:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
