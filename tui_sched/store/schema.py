"""The history file's schema: its migrations, in order, and the version it is at."""

from __future__ import annotations

import sqlite3

_UPSERT_LAST_END = """INSERT INTO last_ends (task, outcome, "end")
                VALUES (NEW.task, NEW.outcome, NEW."end")
                ON CONFLICT (task, outcome) DO UPDATE SET "end" = max("end", excluded."end")"""

# Migration N (0-based) takes the file from schema version N to N+1; ``PRAGMA
# user_version`` records how far a file got. Append to this tuple, never edit an entry.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        # AUTOINCREMENT so that an id freed by ``prune`` is never handed out again after a
        # reopen (a UI paging with ``before_id`` relies on ids never coming back).
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            task TEXT NOT NULL,
            trigger TEXT NOT NULL,
            start REAL NOT NULL,
            "end" REAL,
            outcome TEXT,
            error TEXT,
            traceback TEXT,
            return_summary TEXT,
            output_tail TEXT,
            attempt INTEGER NOT NULL DEFAULT 1
        )""",
        # history(task) newest first, prune by count, and the skip-scan over task names.
        "CREATE INDEX runs_task_id ON runs (task, id)",
        # close_open_runs at start-up; stays tiny because finished runs leave it.
        'CREATE INDEX runs_open ON runs (id) WHERE "end" IS NULL',
        # summaries() last_end per outcome and prune by age: one seek per (task, outcome).
        'CREATE INDEX runs_task_outcome_end ON runs (task, outcome, "end")',
        # summaries() last_start: one seek per task.
        "CREATE INDEX runs_task_start ON runs (task, start)",
        "CREATE TABLE flags (task TEXT PRIMARY KEY, disabled INTEGER NOT NULL)",
        """CREATE TABLE tasks (
            name TEXT PRIMARY KEY,
            condition TEXT NOT NULL,
            execution TEXT NOT NULL,
            disabled INTEGER NOT NULL,
            module TEXT
        )""",
    ),
    (
        # Small facts about the scheduler itself (e.g. when it was last alive).
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (
        # summaries() finds the last start through runs_task_id instead: one index less
        # to update per run (each index costs pages written per commit).
        "DROP INDEX IF EXISTS runs_task_start",
    ),
    (
        # Each task's latest end per outcome, kept up to date by the triggers below, in
        # place of the (task, outcome, end) index. Runs of many tasks interleave, so that
        # index took an entry in nearly every one of its pages at every commit: about
        # half of the writer's time per run, growing with the table. This table has one
        # row per (task, outcome), and it remembers an outcome after its runs are pruned
        # (as the running engine does) until the task has no runs left.
        """CREATE TABLE last_ends (
            task TEXT NOT NULL,
            outcome TEXT NOT NULL,
            "end" REAL NOT NULL,
            PRIMARY KEY (task, outcome)
        ) WITHOUT ROWID""",
        """INSERT INTO last_ends (task, outcome, "end")
            SELECT task, outcome, MAX("end") FROM runs
            WHERE outcome IS NOT NULL AND "end" IS NOT NULL GROUP BY task, outcome""",
        f"""CREATE TRIGGER runs_last_end_insert AFTER INSERT ON runs
            WHEN NEW.outcome IS NOT NULL AND NEW."end" IS NOT NULL
            BEGIN {_UPSERT_LAST_END}; END""",
        f"""CREATE TRIGGER runs_last_end_update AFTER UPDATE OF "end", outcome ON runs
            WHEN NEW.outcome IS NOT NULL AND NEW."end" IS NOT NULL
            BEGIN {_UPSERT_LAST_END}; END""",
        "DROP INDEX IF EXISTS runs_task_outcome_end",
        # Prune by age: the ends of new runs come last, so this index only grows at its
        # end (a page or two per commit).
        'CREATE INDEX runs_end ON runs ("end")',
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes and reads."""


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version of the file open on ``conn`` (0 for a new file)."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    return int(version)
