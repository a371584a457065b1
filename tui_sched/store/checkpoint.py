"""Checkpoint the SQLite write-ahead log on a thread of its own.

SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the
committing thread: with history written from the engine thread, that commit (copying
tens of MB and syncing) stalled scheduling for 30-50 ms. Here the writer only notices
that the log has grown and wakes this thread, which runs a PASSIVE checkpoint on its own
connection while the writer carries on.

A PASSIVE checkpoint never waits for the writer, so under a writer that never pauses it
never reaches the end of the log, and the log never starts over: it grew to 180 MB in a
million-run benchmark. When the log is that far behind, the writer thread itself asks for
a TRUNCATE checkpoint (:meth:`Checkpointer.truncate`) between two of its transactions:
the only writer is then waiting, so the checkpoint reaches the end and empties the file.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class Checkpointer:
    """A daemon thread that checkpoints ``path``'s WAL when asked.

    Args:
        path: The database file.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wanted = threading.Event()
        self._closed = False
        # One checkpoint at a time in this process: SQLite answers a second one with
        # "busy" at once, without waiting, so the writer's TRUNCATE would lose to a
        # PASSIVE running on this thread most of the time under load.
        self._one_at_a_time = threading.Lock()
        self.checkpoints = 0
        """How many checkpoints ran (for tests and benchmarks)."""
        self.truncations = 0
        """How many :meth:`truncate` calls emptied the log."""
        self.ran = threading.Event()
        """Set after each checkpoint (tests wait on it)."""
        self._thread = threading.Thread(target=self._run, name="tui-sched-checkpoint",
                                        daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Ask for a checkpoint soon (cheap; repeated requests collapse into one)."""
        self._wanted.set()

    def truncate(self, conn: sqlite3.Connection) -> bool:
        """Copy the whole log into the database and empty it, on ``conn``.

        Call it from the only writing thread, between transactions: nothing can append
        to the log meanwhile, so the checkpoint reaches its end. It waits for a PASSIVE
        checkpoint in progress on this thread, and (up to ``conn``'s busy timeout) for
        readers of other connections still on older snapshots.

        Returns:
            Whether the log was emptied (``False``: a reader held it, or SQLite failed).
        """
        with self._one_at_a_time:
            try:
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.Error:
                return False
        if busy:
            return False
        self.truncations += 1
        return True

    def close(self) -> None:
        """Stop the thread (after a checkpoint in progress)."""
        self._closed = True
        self._wanted.set()
        self._thread.join(10)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._closed:
                    return
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, timeout=5.0, isolation_level=None,
                                               check_same_thread=False)
                    with self._one_at_a_time:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                    self.ran.set()
                except sqlite3.Error:
                    # Busy or failing: the writer's fallback autocheckpoint still bounds
                    # the log, and the next request tries again.
                    pass
        finally:
            if conn is not None:
                conn.close()
