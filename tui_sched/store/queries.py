"""The SQL statements of ``SqliteRunStore`` and the helpers that run a few of them
(what each reads or writes, and why it is shaped the way it is)."""

from __future__ import annotations

import sqlite3
from itertools import chain
from typing import Any

from tui_sched.store.base import Outcome, RunRecord, Trigger

COLUMNS = 'id, task, trigger, start, "end", outcome, error, traceback, return_summary, output_tail, attempt'
#: A run as a row of ``runs``, in ``COLUMNS`` order.
Row = tuple[Any, ...]
INSERT_RUN = f"INSERT INTO runs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#: Rows per multi-row INSERT. One statement per 16 rows rather than per row cut the
#: writer's CPU per row from 6.5 to 5.6 us in the first 12,500 rows of
#: ``bench/store_growth.py --rows 50000``: each statement costs its own setup and an
#: update of the AUTOINCREMENT counter. Larger statements measured slower again, in a
#: probe on a bare connection (16 rows: 4.5 us; 64: 5.3 us; 256: 7.2 us).
CHUNK = 16
INSERT_RUNS = (f"INSERT INTO runs ({COLUMNS}) VALUES "
               + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * CHUNK))
FINISH_RUN = (
    'UPDATE runs SET "end" = ?, outcome = ?, error = ?, traceback = ?, return_summary = ?, '
    'output_tail = ? WHERE id = ? AND "end" IS NULL'
)
#: ``FINISH_RUN`` for a run whose start moved (``RunEnd.start``: it waited in a queue).
FINISH_MOVED_RUN = FINISH_RUN.replace('SET "end"', 'SET start = ?, "end"')
# Distinct task names by skip-scan: one index seek per task rather than a pass over every
# run, which is what keeps summaries() and prune() fast on a million rows.
TASK_NAMES = """WITH RECURSIVE names(name) AS (
    SELECT MIN(task) FROM runs
    UNION ALL
    SELECT (SELECT MIN(r.task) FROM runs AS r WHERE r.task > names.name)
    FROM names WHERE names.name IS NOT NULL
)"""
TASK_NAME_LIST = f"{TASK_NAMES} SELECT name FROM names WHERE name IS NOT NULL"
SUMMARY_TOTALS = f"""{TASK_NAMES}
SELECT name,
       (SELECT r.start FROM runs AS r WHERE r.task = names.name
        AND (r.outcome IS NULL OR r.outcome NOT IN ('missed', 'skipped'))
        ORDER BY r.id DESC LIMIT 1),
       (SELECT COUNT(*) FROM runs AS r WHERE r.task = names.name)
FROM names WHERE name IS NOT NULL"""
SUMMARY_ENDS = 'SELECT task, outcome, "end" FROM last_ends'
# What pruning never deletes, however old: a task's newest run that really started (its
# start is ``last_start``) and its latest run of each outcome (``last_ends``; of runs that
# ended at the same instant, the newest), which are what period and dependency conditions
# read. Without them a restart after a prune would forget that a ``daily`` (or ``every 2
# weeks``) task has run, and run it again. They are looked up once per task and left out
# of the deletes by id: a check per deleted row made pruning four times slower.
NEWEST_START = """SELECT id FROM runs WHERE task = ?
    AND (outcome IS NULL OR outcome NOT IN ('missed', 'skipped')) ORDER BY id DESC LIMIT 1"""
LATEST_OF_EACH_OUTCOME = """SELECT (SELECT MAX(r.id) FROM runs AS r INDEXED BY runs_end
        WHERE r."end" = l."end" AND r.task = l.task AND r.outcome = l.outcome)
    FROM last_ends AS l WHERE l.task = ?"""
#: Slots for those ids in the deletes (one per outcome, and the newest start).
KEPT_SLOTS = len(Outcome) + 1
NOT_KEPT = " AND id NOT IN (" + ", ".join(f"?{4 + i}" for i in range(KEPT_SLOTS)) + ")"
PRUNE_BY_COUNT = """DELETE FROM runs WHERE task = ?1 AND "end" IS NOT NULL
    AND id <= (SELECT id FROM runs WHERE task = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)
""" + NOT_KEPT
# Runs that ended before the cutoff all have ids up to this one (from runs_end), so each
# task's are a range of runs_task_id.
AGE_ID_BOUND = 'SELECT MAX(id) FROM runs WHERE "end" < ?'
PRUNE_BY_AGE = """DELETE FROM runs INDEXED BY runs_task_id
    WHERE task = ?1 AND id <= ?2 AND "end" < ?3""" + NOT_KEPT
#: A task's latest finished runs, newest first (``recent_runs``).
LATEST_FINISHED = """SELECT start, "end", outcome FROM runs WHERE task = ? AND "end" IS NOT NULL
    AND outcome NOT IN ('missed', 'skipped') ORDER BY id DESC LIMIT ?"""
FORGET_LAST_ENDS = """DELETE FROM last_ends WHERE task = ?1
    AND NOT EXISTS (SELECT 1 FROM runs WHERE task = ?1)"""


def kept_for_conditions(conn: sqlite3.Connection, task: str) -> list[int]:
    """The ids of ``task``'s runs that pruning keeps (see ``NEWEST_START``), in
    ``KEPT_SLOTS`` slots (0, no run's id, fills the rest: a NULL would make every
    ``NOT IN`` unknown, and delete nothing)."""
    kept = [row[0] for row in conn.execute(NEWEST_START, (task,))]
    kept += [row[0] for row in conn.execute(LATEST_OF_EACH_OUTCOME, (task,))
             if row[0] is not None]
    return kept + [0] * (KEPT_SLOTS - len(kept))


def insert_runs(conn: sqlite3.Connection, rows: list[Row]) -> None:
    """Insert ``rows`` in order, ``CHUNK`` to a statement (the rest one by one)."""
    whole = len(rows) - len(rows) % CHUNK
    if whole:
        conn.executemany(INSERT_RUNS, (tuple(chain.from_iterable(rows[i:i + CHUNK]))
                                       for i in range(0, whole, CHUNK)))
    if whole < len(rows):
        conn.executemany(INSERT_RUN, rows[whole:])


def record(row: tuple[Any, ...]) -> RunRecord:
    """A row of ``runs`` (``COLUMNS``) as a ``RunRecord``."""
    (run_id, task, trigger, start, end, outcome, error, tb, summary, tail, attempt) = row
    return RunRecord(
        id=run_id,
        task=task,
        trigger=Trigger(trigger),
        start=start,
        end=end,
        outcome=None if outcome is None else Outcome(outcome),
        error=error,
        traceback=tb,
        return_summary=summary,
        output_tail=tail,
        attempt=attempt,
    )
