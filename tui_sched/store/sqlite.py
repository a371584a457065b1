"""``SqliteRunStore``: run history in one SQLite file (WAL), with writes batched per tick."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from tui_sched.errors import StoreError
from tui_sched.statedir import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from tui_sched.store.base import (
    Outcome,
    RecentRun,
    RunEnd,
    RunRecord,
    RunStore,
    TaskInfo,
    TaskSummary,
    Trigger,
)
from tui_sched.store.checkpoint import Checkpointer
from tui_sched.store.queries import (
    AGE_ID_BOUND,
    COLUMNS,
    FINISH_MOVED_RUN,
    FINISH_RUN,
    FORGET_LAST_ENDS,
    LATEST_FINISHED,
    PRUNE_BY_AGE,
    PRUNE_BY_COUNT,
    SUMMARY_ENDS,
    SUMMARY_TOTALS,
    TASK_NAME_LIST,
    Row,
    insert_runs,
    kept_for_conditions,
    record,
)
from tui_sched.store.schema import MIGRATIONS, SCHEMA_VERSION, user_version

T = TypeVar("T")

_BUSY_TIMEOUT_S = 5.0
# The checkpointer thread copies the log back when it passes _WAL_CHECKPOINT_BYTES, and
# the writer empties it at _WAL_TRUNCATE_BYTES should that thread fall behind. SQLite's
# commit-time autocheckpoint (after more pages than that) is left as a last backstop.
_WAL_CHECKPOINT_BYTES = 8 * 1024 * 1024
# Past this the background checkpoints have fallen behind a writer that never pauses, and
# the writer empties the log itself. It must exceed _WAL_SIZE_LIMIT_BYTES: a log that
# starts over in the normal way is cut back to that size, and so never looks behind.
_WAL_TRUNCATE_BYTES = 64 * 1024 * 1024
#: SQLite's own checkpoint at commit (the backstop): after this much log.
_WAL_AUTOCHECKPOINT_BYTES = 200 * 1024 * 1024
_WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024
#: The page size of a new history file. Runs of many tasks interleave, so each commit
#: dirties about one leaf page of ``runs_task_id`` per run, and the WAL takes each such
#: page whole: with 1 KiB pages instead of SQLite's 4 KiB, 874 instead of 2,988 bytes of
#: log per run (1,000 tasks, a commit per 250 runs), and the writer thread's CPU per run
#: fell from 8-10 to 5-6 us (``bench/profile_engine.py every1s_main_1000 --no-profile``,
#: interleaved). Reads pay a little: ``summaries()`` on 300,000 rows took 23 ms instead
#: of 16 (``bench/store_bench.py 300000 --tasks 1000``). A file made with another page
#: size keeps it (changing it means rewriting the file).
_PAGE_SIZE = 1024

class SqliteRunStore(RunStore):
    """A ``RunStore`` in one SQLite file, safe to read from other processes while open.

    Writes (``start_run``, ``finish_run``, ``set_flag``, ``set_meta``) are buffered in
    memory; ``flush`` hands them to the store's writer thread, which commits them in one
    transaction, so a burst of runs costs one commit and the caller never waits for it
    (``wait_written`` does; a failed commit is raised by the next call). Reads run on
    the writer thread too, after every write asked for before them, and see this store's
    buffered writes. ``close_open_runs``, ``save_tasks`` and ``prune`` commit at once, and
    with them anything still buffered. The file is in WAL mode with
    ``synchronous=NORMAL``: a commit survives a crash of the process, and only a power
    loss may take the last commits with it.

    One writer by contract (the engine thread); any thread may call it. Failures raise
    ``StoreError`` naming the file.

    Attributes:
        path: The database file.
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False,
                 immutable: bool = False) -> None:
        """Open (creating it and its folder if needed) or upgrade the history at ``path``.

        Args:
            path: The database file.
            readonly: Open an existing file without writing to it (see ``open_readonly``).
            immutable: With ``readonly``: read the file without SQLite's shared-memory
                index or its log (see ``read_snapshot``).

        Raises:
            StoreError: The file cannot be created, opened or read, is not a tui-sched
                history, or was written by a newer tui-sched.
        """
        self.path = Path(path)
        self._readonly = readonly or immutable
        self._immutable = immutable
        self._identity: tuple[int, int] | None = None
        """(device, inode) of the file this store writes, to notice it being deleted."""
        self._notices: list[str] = []
        self._created = False
        """This store made the file (it removes it again if it cannot be opened)."""
        # _lock guards the buffers below and hands work to the writer in order; only the
        # writer thread touches the connection once the store is open.
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        # Rows are tuples of plain values: the garbage collector stops tracking those at
        # its first pass, so a second's worth of buffered rows is never promoted to the
        # oldest generation (as lists, thousands a second were, and set off a full
        # collection of 15 ms every second or two with 5,000 tasks).
        self._pending: dict[int, Row] = {}
        """Runs started since the last flush, by id (a finish completes the row here)."""
        self._ops: list[tuple[str, tuple[Any, ...]]] = []
        """Other buffered statements, in order (ends of runs already handed on, flags...)."""
        self._open: set[int] = set()
        """Ids of runs this store started and has not finished."""
        self._failure: StoreError | None = None
        self._uncommitted = False
        """The writer left written buffers in an open transaction (for a read)."""
        self._closed = False
        self._checkpointer: Checkpointer | None = None
        self._wal_path = self.path.with_name(self.path.name + "-wal")
        self._truncate_at = _WAL_TRUNCATE_BYTES
        """WAL size at which the writer empties the log itself (raised while it cannot)."""
        try:
            self._conn = self._connect()
            self._migrate(self._conn)
            self._identity = None if readonly else _identity(self.path)
            self._next_id = self._stored_id_high_water(self._conn) + 1
            # Ids above this were never written: a start with such an id needs no check.
            self._written_high = self._next_id - 1
            if not readonly:
                self._checkpointer = Checkpointer(self.path)
        except BaseException as exc:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._remove_if_made_empty()
            if isinstance(exc, sqlite3.Error | OSError):
                raise self._error("open it", exc) from exc
            raise
        # One thread does every read and write, in the order they were asked for: a
        # commit of thousands of rows takes milliseconds, and the engine thread only
        # hands the batch over. Reads wait for the writes asked before them.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="tui-sched-history")

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str]) -> SqliteRunStore:
        """Open an existing history for reading only, e.g. for ``tui-sched history``
        while a scheduler holds the file open. It sees what that scheduler has flushed.

        Raises:
            StoreError: The file does not exist or cannot be read.
        """
        return cls(path, readonly=True)

    @classmethod
    def open_immutable(cls, path: str | os.PathLike[str]) -> SqliteRunStore:
        """Open an existing history for reading when even a read-only open fails (a full
        disk or a read-only folder where SQLite cannot make its ``-shm`` file). SQLite
        then ignores the write-ahead log, so this refuses a file whose log holds commits
        not yet copied into it: what they say would be missing.

        Raises:
            StoreError: The log is not empty, or the file cannot be read.
        """
        wal = Path(path).with_name(Path(path).name + "-wal")
        try:
            pending = wal.stat().st_size
        except FileNotFoundError:
            pending = 0
        except OSError as exc:
            raise StoreError(f"run history {path}: cannot read its log {wal}: {exc}") from exc
        if pending:
            raise StoreError(f"run history {path}: its log {wal} holds {pending} bytes of "
                             "commits that cannot be read without writing")
        return cls(path, readonly=True, immutable=True)

    # -- writes (buffered until flush) ----------------------------------------------------

    def next_run_id(self) -> int:
        """Reserve and return a new run id, greater than any id given out or stored."""
        with self._lock:
            run_id = self._next_id
            self._next_id += 1
            return run_id

    def start_run(self, record: RunRecord) -> None:
        """Store a new run (buffered); it is open while ``record.end`` is ``None``.

        Raises:
            StoreError: A run with this id is already stored, or the write failed.
        """
        row = (
            record.id,
            record.task,
            record.trigger._value_,  # the plain str: ``.value`` is a slow enum property
            record.start,
            record.end,
            None if record.outcome is None else record.outcome._value_,
            record.error,
            record.traceback,
            record.return_summary,
            record.output_tail,
            record.attempt,
        )
        if self._readonly or self._closed or self._failure is not None:
            self._check_writable("record a run start")  # raises the reason
        if record.id <= self._written_high and self._run_exists(record.id):
            raise self._duplicate(record.id)
        # A start is held back until the next flush or read, so a run that also finishes
        # before then is written once, complete, instead of an insert plus an update.
        with self._lock:
            if record.id in self._pending:
                raise self._duplicate(record.id)
            self._pending[record.id] = row
            if record.end is None:
                self._open.add(record.id)
            if record.id > self._written_high:
                self._written_high = record.id
            if record.id >= self._next_id:
                self._next_id = record.id + 1

    def begin_run(self, task: str, trigger: Trigger, start: float, attempt: int = 1) -> RunRecord:
        """Record a new open run under a new id (buffered): one lock, no id check (the id
        was never given out).

        Raises:
            StoreError: The store is closed, read-only, or a write failed.
        """
        if self._readonly or self._closed or self._failure is not None:
            self._check_writable("record a run start")  # raises the reason
        with self._lock:
            run_id = self._next_id
            self._next_id = run_id + 1
            self._pending[run_id] = (run_id, task, trigger._value_, start, None, None, None,
                                     None, None, None, attempt)
            self._open.add(run_id)
            self._written_high = run_id  # above every id given out before it
        return RunRecord(run_id, task, trigger, start, attempt=attempt)

    def finish_run(self, run_id: int, end: RunEnd) -> None:
        """Close an open run (buffered).

        Raises:
            StoreError: No open run has this id (unknown, or already finished), or the
                write failed.
        """
        row: tuple[Any, ...] = (
            end.end,
            end.outcome._value_,
            end.error,
            end.traceback,
            end.return_summary,
            end.output_tail,
            run_id,
        )
        sql, moved = FINISH_RUN, end.start is not None
        if moved:
            sql, row = FINISH_MOVED_RUN, (end.start, *row)
        with self._lock:
            if run_id in self._open:
                self._open.discard(run_id)
                pending = self._pending.get(run_id)
                if pending is not None:
                    # ([start,] end, outcome, error, traceback, summary, tail)
                    self._pending[run_id] = ((pending[:3] + row[:7]) if moved else
                                             (pending[:4] + row[:6])) + pending[10:]
                else:
                    self._ops.append((sql, row))
                return
        # Not started by this store (left open by an earlier one): at once, checked.
        def finish(conn: sqlite3.Connection) -> int:
            _begin(conn)
            count = conn.execute(sql, row).rowcount
            conn.execute("COMMIT")
            return int(count)

        if self._run(f"record the end of run {run_id}", finish) != 1:
            raise StoreError(f"run history {self.path}: no open run with id {run_id}")

    def set_flag(self, task: str, disabled: bool) -> None:
        """Persist a task's ``disabled`` flag (buffered)."""
        self._buffer(f"save the disabled flag of task {task!r}",
                     "INSERT INTO flags (task, disabled) VALUES (?, ?) "
                     "ON CONFLICT (task) DO UPDATE SET disabled = excluded.disabled",
                     (task, int(disabled)))

    def set_meta(self, key: str, value: str) -> None:
        """Store a scheduler fact (buffered)."""
        self._buffer(f"save {key!r}",
                     "INSERT INTO meta (key, value) VALUES (?, ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     (key, value))

    def get_meta(self, key: str) -> str | None:
        """A scheduler fact, or ``None``."""
        row = self._run(f"read {key!r}", lambda conn: conn.execute(
            "SELECT value FROM meta WHERE key = ?", (key,)).fetchone())
        return None if row is None else str(row[0])

    def flush(self) -> None:
        """Commit buffered writes: handed to the writer thread, which commits them in
        the background (a failure is raised by the next call that writes or reads).

        Raises:
            StoreError: An earlier background commit failed.
        """
        with self._lock:
            self._check_open("commit buffered runs")
            if not self._pending and not self._ops and not self._uncommitted:
                return
            rows, ops = self._take()
            self._writer.submit(self._commit_batch, rows, ops)

    def wait_written(self) -> None:
        """Commit what is buffered and block until it and every earlier flush are
        committed (for readers in other processes, and tests).

        Raises:
            StoreError: A commit failed.
        """
        self.flush()
        self._run("commit buffered runs", lambda conn: None)

    # -- writes committed at once -----------------------------------------------------------

    def close_open_runs(self, at: float, outcome: Outcome, error: str) -> list[RunRecord]:
        """Close every open run at ``at`` with ``outcome`` and ``error``, commit, and
        return them closed, oldest id first."""
        def close(conn: sqlite3.Connection) -> list[Any]:
            _begin(conn)
            rows = conn.execute(f'SELECT {COLUMNS} FROM runs WHERE "end" IS NULL ORDER BY id').fetchall()
            conn.execute(
                'UPDATE runs SET "end" = ?, outcome = ?, error = ? WHERE "end" IS NULL',
                (at, outcome.value, error),
            )
            conn.execute("COMMIT")
            return rows

        self._check_writable("close runs left open")
        with self._lock:
            self._open.clear()  # buffered ones are written first, then closed with the rest
        rows = self._run("close runs left open", close)
        return [dataclasses.replace(record(row), end=at, outcome=outcome, error=error) for row in rows]

    def save_tasks(self, tasks: list[TaskInfo]) -> None:
        """Replace the stored task list and commit.

        Raises:
            StoreError: Two entries share a name (nothing is changed), or the write failed.
        """
        duplicates = sorted(n for n, c in Counter(t.name for t in tasks).items() if c > 1)
        if duplicates:
            raise StoreError(f"run history {self.path}: duplicate task names {duplicates}")
        rows = [(t.name, t.condition, t.execution, int(t.disabled), t.module) for t in tasks]

        def save(conn: sqlite3.Connection) -> None:
            _begin(conn)
            conn.execute("DELETE FROM tasks")
            conn.executemany(
                "INSERT INTO tasks (name, condition, execution, disabled, module) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            conn.execute("COMMIT")

        self._check_writable("save the task list")
        self._run("save the task list", save)

    def prune(self, keep_per_task: int | None, older_than: float | None,
              tasks: Iterable[str] | None = None) -> int:
        """Delete finished runs beyond the newest ``keep_per_task`` runs of each task (open
        runs count towards the newest but are never deleted) and finished runs that ended
        before ``older_than``; commit. Only the runs of ``tasks`` if given. A task's newest
        run that started and its latest run of each outcome are kept (conditions read
        them). Returns how many runs were deleted.

        Raises:
            ValueError: ``keep_per_task`` is negative.
            StoreError: The write failed.
        """
        if keep_per_task is not None and keep_per_task < 0:
            raise ValueError(f"keep_per_task must be 0 or more, not {keep_per_task}")
        only = None if tasks is None else list(tasks)

        def prune(conn: sqlite3.Connection) -> int:
            deleted = 0
            _begin(conn)
            names = [row[0] for row in conn.execute(TASK_NAME_LIST)] if only is None else only
            bound = None
            if older_than is not None:
                (bound,) = conn.execute(AGE_ID_BOUND, (older_than,)).fetchone()
            for name in names:
                before = deleted
                kept = kept_for_conditions(conn, name)
                if keep_per_task is not None:
                    deleted += conn.execute(PRUNE_BY_COUNT,
                                            (name, keep_per_task, None, *kept)).rowcount
                if bound is not None:
                    deleted += conn.execute(PRUNE_BY_AGE,
                                            (name, bound, older_than, *kept)).rowcount
                if deleted > before:
                    conn.execute(FORGET_LAST_ENDS, (name,))
            conn.execute("COMMIT")
            return deleted

        self._check_writable("prune old runs")
        return int(self._run("prune old runs", prune))

    # -- reads ------------------------------------------------------------------------------

    def history(
        self, task: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[RunRecord]:
        """Runs, newest (highest id) first, optionally of one task and below ``before_id``."""
        if limit <= 0:
            return []
        where: list[str] = []
        params: list[object] = []
        if task is not None:
            where.append("task = ?")
            params.append(task)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        sql = f"SELECT {COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        rows = self._run("read run history",
                         lambda conn: conn.execute(sql, (*params, limit)).fetchall())
        return [record(row) for row in rows]

    def summaries(self) -> list[TaskSummary]:
        """One summary per task that has runs, sorted by task name."""
        def read(conn: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
            return (conn.execute(SUMMARY_TOTALS).fetchall(),
                    conn.execute(SUMMARY_ENDS).fetchall())

        totals, ends = self._run("summarise run history", read)
        last_end: dict[str, dict[Outcome, float]] = {name: {} for name, _, _ in totals}
        for name, outcome, end in ends:
            if name in last_end:
                last_end[name][Outcome(outcome)] = end
        return [
            TaskSummary(task=name, last_start=start, last_end=last_end[name], run_count=count)
            for name, start, count in totals
        ]

    def recent_runs(self, per_task: int, tasks: Iterable[str] | None = None
                    ) -> dict[str, list[RecentRun]]:
        """The latest ``per_task`` finished runs of each task, or of ``tasks`` (not
        ``missed``/``skipped``) as ``(start, end, outcome value)``, oldest first: one
        index range per task. (A task's runs are spread over the file: 256 of each of
        5,000 tasks, a million rows, took 4 s to read.)"""
        only = None if tasks is None else list(tasks)

        def read(conn: sqlite3.Connection) -> dict[str, list[RecentRun]]:
            recent: dict[str, list[RecentRun]] = {}
            names = only if only is not None else [
                row[0] for row in conn.execute(TASK_NAME_LIST).fetchall()]
            for name in names:
                rows = conn.execute(LATEST_FINISHED, (name, per_task)).fetchall()
                if rows:
                    rows.reverse()
                    recent[name] = rows
            return recent

        return self._run("read recent runs", read) if per_task > 0 else {}

    def meta_items(self) -> dict[str, str]:
        """Every stored scheduler fact."""
        rows = self._run("read scheduler facts",
                         lambda conn: conn.execute("SELECT key, value FROM meta").fetchall())
        return {str(k): str(v) for k, v in rows}

    def notices(self) -> list[str]:
        """Problems recovered from since the last call (the file deleted and recreated)."""
        with self._lock:
            notes, self._notices = self._notices, []
        return notes

    def get_flags(self) -> dict[str, bool]:
        """Persisted ``disabled`` flags by task name."""
        rows = self._run("read task flags",
                         lambda conn: conn.execute("SELECT task, disabled FROM flags").fetchall())
        return {task: bool(disabled) for task, disabled in rows}

    def tasks(self) -> list[TaskInfo]:
        """The stored task list, in the order it was saved."""
        rows = self._run("read the task list", lambda conn: conn.execute(
            "SELECT name, condition, execution, disabled, module FROM tasks ORDER BY rowid"
        ).fetchall())
        return [TaskInfo(n, c, e, bool(d), m) for n, c, e, d, m in rows]

    def close(self) -> None:
        """Commit buffered writes and close the file. Calling it again does nothing.

        Raises:
            StoreError: The final commit failed (the file is closed anyway).
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            rows, ops = self._take()
            failure = self._failure
            final = self._writer.submit(self._close_connection, rows, ops)
        try:
            final.result()
        finally:
            self._writer.shutdown(wait=True)
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
        if failure is not None:
            raise failure

    # -- the writer thread ------------------------------------------------------------------

    def _take(self) -> tuple[list[Row], list[tuple[str, tuple[Any, ...]]]]:
        """Hand over the buffers (lock held)."""
        rows, ops = list(self._pending.values()), self._ops
        self._pending = {}
        self._ops = []
        return rows, ops

    def _write_buffers(self, conn: sqlite3.Connection, rows: list[Row],
                       ops: list[tuple[str, tuple[Any, ...]]], commit: bool) -> None:
        """Insert ``rows`` and run ``ops`` inside the write transaction, and commit it if
        ``commit`` (writer thread). Uncommitted, they are what this store's reads see
        before a flush, and the next commit takes them along."""
        if rows or ops:
            _begin(conn)
            try:
                if rows:
                    insert_runs(conn, rows)
                for sql, params in ops:
                    conn.execute(sql, params)
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise
        if not commit:
            self._uncommitted = conn.in_transaction
        elif conn.in_transaction:
            conn.execute("COMMIT")
            self._uncommitted = False
            self._maybe_checkpoint(conn)

    def _commit_batch(self, rows: list[Row], ops: list[tuple[str, tuple[Any, ...]]]) -> None:
        """A flushed batch (writer thread). A failure is kept for the next caller."""
        if self._failure is not None or self._conn is None:
            return
        try:
            self._write_buffers(self._conn, rows, ops, commit=True)
        except sqlite3.Error as exc:
            self._failure = self._error("commit buffered runs", exc)
            return
        self._check_still_there()

    def _check_still_there(self) -> None:
        """After a commit (writer thread): notice that the file was deleted or replaced
        under the open connection, which would otherwise go on writing every later run
        to a file nobody can open again. A deleted file is recreated from the connection,
        which still reads it whole; a replaced one stops this store (and is reported)."""
        if self._identity is None:
            return
        try:
            now: tuple[int, int] | None = _identity(self.path)
        except FileNotFoundError:
            now = None
        except OSError:
            return  # cannot tell; the next commit looks again
        if now == self._identity:
            return
        if now is not None:
            self._failure = StoreError(
                f"run history {self.path}: the file was replaced by another one while the "
                "scheduler ran; it is not written to any more (restart the scheduler to use "
                "the new file)")
            return
        try:
            count = self._recreate()
        except (OSError, sqlite3.Error) as exc:
            self._failure = StoreError(
                f"run history {self.path}: the file was deleted while the scheduler ran and "
                f"could not be recreated: {exc}")
            return
        with self._lock:
            self._notices.append(
                f"run history {self.path} was deleted while the scheduler ran; it was "
                f"recreated with the {count} run(s) it held")

    def _recreate(self) -> int:
        """Write the open database to a new file at ``path`` and continue in it (writer
        thread). Returns how many runs it holds."""
        old = self._connection("recreate the history file")
        self.path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        old.execute("VACUUM INTO ?", (str(self.path),))
        # Every connection to the deleted file closes before the new one opens: closing
        # the last connection to a WAL database deletes "<path>-wal" by name, which would
        # by then be the new file's log.
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._conn = None
        old.close()
        self._conn = self._connect()
        self._identity = _identity(self.path)
        self._checkpointer = Checkpointer(self.path)
        (count,) = self._conn.execute("SELECT COUNT(*) FROM runs").fetchone()
        return int(count)

    def _run(self, action: str, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the writer thread after every write asked for before it (and
        what is still buffered, committed first); return its result.

        Raises:
            StoreError: It, or an earlier background commit, failed.
        """
        def job(rows: list[Row], ops: list[tuple[str, tuple[Any, ...]]]) -> T:
            if self._failure is not None:
                raise self._failure
            conn = self._connection(action)
            try:
                self._write_buffers(conn, rows, ops, commit=False)
            except sqlite3.Error as exc:
                self._failure = self._error("commit buffered runs", exc)
                raise self._failure from exc
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.rollback()
                raise self._error(action, exc) from exc

        with self._lock:
            if self._closed:
                raise StoreError(f"run history {self.path}: cannot {action}: store is closed")
            rows, ops = self._take() if not self._readonly else ([], [])
            fut = self._writer.submit(job, rows, ops)
        return fut.result()

    def _close_connection(self, rows: list[Row], ops: list[tuple[str, tuple[Any, ...]]]) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._failure is None:
                self._write_buffers(conn, rows, ops, commit=True)
        except sqlite3.Error as exc:
            self._failure = self._error("commit buffered runs", exc)
        finally:
            conn.close()

    def _buffer(self, action: str, sql: str, params: tuple[Any, ...]) -> None:
        self._check_writable(action)
        with self._lock:
            self._ops.append((sql, params))

    def _check_writable(self, action: str) -> None:
        if self._readonly:
            raise StoreError(f"run history {self.path}: cannot {action}: opened read-only")
        self._check_open(action)

    def _check_open(self, action: str) -> None:
        if self._closed:
            raise StoreError(f"run history {self.path}: cannot {action}: store is closed")
        if self._failure is not None:
            raise self._failure

    def _run_exists(self, run_id: int) -> bool:
        """Whether a run with this id is stored (buffered ones are checked by the caller)."""
        return self._run("check a run id", lambda conn: conn.execute(
            "SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None)

    def _duplicate(self, run_id: int) -> StoreError:
        return StoreError(f"run history {self.path}: cannot record the start of run "
                          f"{run_id}: UNIQUE constraint failed: runs.id")

    def _maybe_checkpoint(self, conn: sqlite3.Connection) -> None:
        """After a commit (writer thread): have the log copied back if it has grown."""
        if self._checkpointer is None:
            return
        try:
            size = os.stat(self._wal_path).st_size
        except OSError:
            return
        if size >= self._truncate_at:
            # The engine keeps buffering meanwhile; only a synchronous read waits.
            if self._checkpointer.truncate(conn):
                self._truncate_at = _WAL_TRUNCATE_BYTES
            else:
                # A reader kept an old snapshot: try again after another quarter.
                self._truncate_at = size + _WAL_TRUNCATE_BYTES // 4
        elif size >= _WAL_CHECKPOINT_BYTES:
            self._checkpointer.request()

    # -- plumbing ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._readonly:
            if not self.path.is_file():
                raise StoreError(f"run history {self.path}: no such file")
            query = "?mode=ro&immutable=1" if self._immutable else "?mode=ro"
            return _open_connection(self.path.resolve().as_uri() + query, uri=True)
        self.path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        # Made here, 0600, rather than by SQLite (0644 under the usual umask): run history
        # holds task output, and SQLite gives the -wal and -shm files it creates the
        # database file's mode. (A umask around the connect would also apply to files
        # that other threads, such as running tasks, create meanwhile.)
        try:
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
            self._created = True
        except FileExistsError:
            pass
        conn = _open_connection(str(self.path), uri=False)
        try:
            # WAL lets other processes read committed history while this one writes;
            # NORMAL drops the fsync per commit, which WAL makes safe against app crashes.
            # Only takes effect on a new, empty file: before the WAL header is written.
            conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            # The backstop in bytes whatever the file's page size (see above).
            (page_size,) = conn.execute("PRAGMA page_size").fetchone()
            conn.execute("PRAGMA wal_autocheckpoint = "
                         f"{_WAL_AUTOCHECKPOINT_BYTES // int(page_size)}")
            # A log that starts over is cut back to this size rather than staying large.
            conn.execute(f"PRAGMA journal_size_limit = {_WAL_SIZE_LIMIT_BYTES}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _remove_if_made_empty(self) -> None:
        """After a failed open: remove the empty file this store made, so that the next
        start does not take it for a history emptied by something else."""
        try:
            if self._created and self.path.stat().st_size == 0:
                self.path.unlink()
        except OSError:
            pass

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = user_version(conn)
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"run history {self.path} has schema version {version}, newer than this "
                f"tui-sched understands ({SCHEMA_VERSION}); upgrade tui-sched or use "
                "another --state folder"
            )
        if self._readonly:
            raise StoreError(
                f"run history {self.path} has schema version {version}, not "
                f"{SCHEMA_VERSION}; start the scheduler once to create or upgrade it"
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process may have migrated meanwhile.
            for statements in MIGRATIONS[user_version(conn) :]:
                for statement in statements:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    @staticmethod
    def _stored_id_high_water(conn: sqlite3.Connection) -> int:
        (max_id,) = conn.execute("SELECT MAX(id) FROM runs").fetchone()
        seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
        return max(max_id or 0, seq[0] if seq else 0)

    def _connection(self, action: str) -> sqlite3.Connection:
        """The connection, if the store is open (writer thread)."""
        if self._conn is None:
            raise StoreError(f"run history {self.path}: cannot {action}: store is closed")
        return self._conn

    def _error(self, action: str, exc: Exception) -> StoreError:
        return StoreError(f"run history {self.path}: cannot {action}: {exc}")


def _open_connection(database: str, *, uri: bool) -> sqlite3.Connection:
    # check_same_thread=False: the engine may open the store on one thread and use it on
    # its own; SqliteRunStore._lock serialises every use of the connection instead.
    # isolation_level=None: transactions are begun and committed explicitly, by the store.
    return sqlite3.connect(
        database,
        timeout=_BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=False,
        uri=uri,
    )


def _identity(path: Path) -> tuple[int, int]:
    """(device, inode) of ``path``: which file it names now."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _begin(conn: sqlite3.Connection) -> None:
    """Open the write transaction if none is open. IMMEDIATE takes the write lock now; a
    deferred upgrade could fail with SQLITE_BUSY_SNAPSHOT, which the busy timeout does
    not retry."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")

