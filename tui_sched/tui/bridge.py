"""Engine -> UI: bus events become Textual messages, in batches, from one thread.

Bus subscribers run on the engine and worker threads, so ``_on_event`` only appends to a
list. The bridge thread wakes when something arrived, waits out the batching window
(100 ms) so a burst of output costs one message, posts it, and asks the engine for a
fresh ``Snapshot`` when runs changed (at most every ``min_snapshot``) or once a second
(elapsed times, next checks). A key press (``refresh``) asks for one at once, and for one
more as soon as a run finishes or a task changes after it (what the key caused, e.g. the
run ``f`` started ends), neither held behind the batching window nor the
``min_snapshot`` pause. The snapshot is built on the engine thread and posted from the
future's callback, so neither this thread nor the UI ever waits on the engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

from tui_sched.engine import events as ev
from tui_sched.engine.host import EngineHost
from tui_sched.engine.scheduler import Engine
from tui_sched.tui.logfmt import history_entries
from tui_sched.tui.messages import EventBatch, HistoryLoaded, HostStopped, SnapshotReady
from tui_sched.tui.model import RowMemo, RunTuple, Snapshot, build_snapshot, earlier_runs, seed_runs

#: Events that end what a key started (a run finishing, a task changed): the follow-up
#: snapshot of ``Bridge.refresh`` waits for one of these.
_SETTLING = (ev.RunFinished, ev.RunRecorded, ev.RunTerminating, ev.TaskChanged)


class Target(Protocol):
    """Where messages go (a Textual ``MessagePump``; ``post_message`` is thread-safe)."""

    def post_message(self, message: EventBatch | SnapshotReady | HostStopped | HistoryLoaded) -> bool: ...


class Bridge:
    """Subscribes to the host's bus and feeds ``target``.

    Args:
        host: The engine host.
        target: Receives ``EventBatch``, ``SnapshotReady``, ``HostStopped`` and (once)
            ``HistoryLoaded``.
        batch: Seconds events are collected before one ``EventBatch`` is posted.
        min_snapshot: Least seconds between two snapshots when runs change.
        max_snapshot: Most seconds between two snapshots.
        stall: Seconds after which an unanswered snapshot request is given up.
    """

    def __init__(self, host: EngineHost, target: Target, *, batch: float = 0.1,
                 min_snapshot: float = 0.25, max_snapshot: float = 1.0, stall: float = 5.0) -> None:
        self.host = host
        self.target = target
        self.batch = batch
        self.min_snapshot = min_snapshot
        self.max_snapshot = max_snapshot
        self.stall = stall
        self.selected: str | None = None
        """The task whose condition tree the snapshot explains (set by the UI)."""
        self._cond = threading.Condition()
        self._events: list[ev.Event] = []
        self._dirty = True
        self._asked = False  # refresh(): a snapshot now,
        self._follow_up = False  # and one when a run ends or a task changes after it:
        self._settled = False  # that happened
        self._stopped = False
        self._unsubscribe: Callable[[], None] = lambda: None
        self._engine: Engine | None = None
        self._seed: dict[str, list[RunTuple]] | None = None
        self._history_sent = False  # the log is filled from the history once, at start
        self._rows: RowMemo = {}  # the engine thread's, for build_snapshot
        self._in_flight: float | None = None
        self._last_snapshot = 0.0
        self._thread = threading.Thread(target=self._serve, name="tui-sched-bridge", daemon=True)

    def start(self) -> None:
        """Subscribe and start the bridge thread (before the host starts, so load errors
        published while building the first session are seen)."""
        self._unsubscribe = self.host.bus.subscribe(self._on_event)
        self._thread.start()

    def stop(self) -> None:
        """Unsubscribe and end the thread."""
        self._unsubscribe()
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2)

    def refresh(self) -> None:
        """Ask for a snapshot now (after a selection change or a key press), and for one
        more as soon as a run ends or a task changes after it (not after
        ``min_snapshot``): what the key caused shows when it happens. At most two
        snapshots per call."""
        with self._cond:
            self._dirty = True
            self._asked = True
            self._follow_up = True
            self._cond.notify_all()

    # -- any thread ------------------------------------------------------------------
    def _on_event(self, event: ev.Event) -> None:
        with self._cond:
            self._events.append(event)
            if not isinstance(event, ev.LogLine):
                self._dirty = True
                if self._follow_up and isinstance(event, _SETTLING):
                    self._settled = True
            self._cond.notify_all()

    # -- bridge thread ---------------------------------------------------------------
    def _serve(self) -> None:
        host_seen_alive = False
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopped or bool(self._events) or self._due(),
                                    timeout=self._wait_time())
                if self._stopped:
                    return
            if self._due():
                self._request_snapshot()
            if self._events:
                # The batching window: let a burst collect into one message (a snapshot
                # falling due meanwhile, e.g. asked for by a key, is not held behind it).
                with self._cond:
                    self._cond.wait_for(lambda: self._stopped or self._due(), timeout=self.batch)
                    events, self._events = self._events, []
                self.target.post_message(EventBatch(events))
            if self._due():
                self._request_snapshot()
            alive = self.host.alive
            host_seen_alive = host_seen_alive or alive
            if host_seen_alive and not alive:
                with self._cond:
                    events, self._events = self._events, []
                if events:
                    self.target.post_message(EventBatch(events))
                err = self.host.error
                self.target.post_message(HostStopped(None if err is None else str(err)))
                return

    def _wait_time(self) -> float:
        now = time.monotonic()
        if self._in_flight is not None:
            return max(0.01, self.stall - (now - self._in_flight))
        since = now - self._last_snapshot
        return max(0.01, (self.min_snapshot if self._dirty else self.max_snapshot) - since)

    def _due(self) -> bool:
        now = time.monotonic()
        if self._in_flight is not None and now - self._in_flight < self.stall:
            return False
        if self._asked or self._settled:
            return True
        since = now - self._last_snapshot
        return since >= (self.min_snapshot if self._dirty else self.max_snapshot)

    def _request_snapshot(self) -> None:
        engine = self.host.engine
        self._last_snapshot = time.monotonic()
        with self._cond:
            # Built after the events so far, this snapshot shows them: a run that ended
            # after a key press is the key's follow-up (else it stays armed).
            if self._settled:
                self._follow_up = self._settled = False
            self._asked = False
        if engine is None or engine.done.is_set() or not engine.ready.is_set():
            return
        if engine is not self._engine:
            self._engine, self._seed, self._rows = engine, None, {}
        with self._cond:
            self._dirty = False
        self._in_flight = time.monotonic()
        selected, restarts, rows = self.selected, self.host.restarts, self._rows

        def build() -> Snapshot:
            if not self._history_sent:
                self._history_sent = True
                self.target.post_message(HistoryLoaded(history_entries(earlier_runs(engine))))
            if self._seed is None:
                self._seed = seed_runs(engine)
            return build_snapshot(engine, selected, self._seed, restarts, rows)

        engine.call(build).add_done_callback(self._deliver)

    def _deliver(self, fut: Future[Snapshot]) -> None:
        # Runs on the engine thread: only post and wake the bridge thread.
        with self._cond:
            self._in_flight = None
            failed = fut.cancelled() or fut.exception() is not None
            self._dirty = self._dirty or failed
            self._cond.notify_all()
        if not failed:
            self.target.post_message(SnapshotReady(fut.result()))
