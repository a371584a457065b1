"""The scheduling loop.

The engine runs on its own asyncio loop (normally on its own thread). It never polls
every condition: a task is decided only when it is *dirty* — at start-up, when a run of
it or of a task its condition reads starts or finishes, when the session changes it, or
when the wake-up time its condition predicted (``next_change``) arrives. Between those
moments it sleeps. Whether a task starts is decided in one place (``decision.decide``),
whichever of those moments asks.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import traceback
from collections.abc import Callable, Collection
from concurrent.futures import Future
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from tui_sched.conditions.context import Context
from tui_sched.config import SchedulerConfig
from tui_sched.engine import crashes, misfire, shutdown
from tui_sched.engine.active import ActiveRun
from tui_sched.engine.blockwatch import BlockWatch
from tui_sched.engine.bus import EventBus
from tui_sched.engine.changes import Change, SessionChanges, dependents_of, task_infos
from tui_sched.engine.clock import Clock, SystemClock
from tui_sched.engine.decision import (
    IDLE,
    SKIP_JITTERED,
    Act,
    Decision,
    Source,
    TaskState,
    decide,
)
from tui_sched.engine.dispatch import Dispatcher
from tui_sched.engine.endconds import check_end_conditions
from tui_sched.engine.events import (
    EngineError,
    LogLine,
    RunFinished,
    RunRecorded,
    RunsRecovered,
    RunStarted,
    RunTerminating,
    SchedulerStarted,
    SchedulerStopped,
    SchedulerStopping,
    TaskChanged,
)
from tui_sched.engine.flushing import FLUSH_GAP, FlushPolicy
from tui_sched.engine.gcpolicy import GcPolicy
from tui_sched.engine.heartbeat import Heartbeat
from tui_sched.engine.retention import Retention
from tui_sched.engine.session import Session
from tui_sched.engine.status import StatusIndex
from tui_sched.engine.timezone import resolve_timezone
from tui_sched.engine.wakeups import Wakeups
from tui_sched.executors import Executor, Job, JobResult, default_executors
from tui_sched.executors.output import OutputCapture, OutputSink
from tui_sched.store.base import Outcome, RunEnd, RunRecord, RunStore, Trigger
from tui_sched.store.resilient import ResilientStore
from tui_sched.tasks.task import Task

T = TypeVar("T")

#: A condition that predicts a change at (or before) now is re-checked this much later,
#: so float rounding at a boundary can never make the loop spin.
_MIN_STEP = 0.001
#: Every task's history is pruned by age this often (by count: see ``Retention``).
_PRUNE_EVERY = 3600.0
#: Pruning waits for a gap in the schedule at most this long (seconds).
_PRUNE_DEFER_MAX = 5.0
#: The longest the engine takes due tasks one after the other between two turns of its
#: serve loop (which commits history, prunes, writes the heartbeat).
_FOLLOW_MAX = 0.005
#: A ``main`` run that blocks the loop longer than this has its start committed.
_BLOCK_COMMIT_AFTER = 0.05
#: The engine reads the wall clock again at least this often (seconds). Deadlines are
#: wall-clock times, but a wait runs on a monotonic timer, which neither an NTP step nor
#: a suspend moves: after one, a wake-up is at most this late.
_WALL_RECHECK = 5.0
# Enum members as module names: read through their class, each costs a lookup (3.11).
_START, _SKIP, _WAIT = Act.START, Act.SKIP, Act.WAIT
_CONDITION, _FORCE, _RETRY, _CATCH_UP, _JITTER = (
    Source.CONDITION, Source.FORCE, Source.RETRY, Source.CATCH_UP, Source.JITTER)


class Engine:
    """Runs a session's tasks when their conditions hold, recording every run.

    Args:
        session: The tasks.
        store: Where runs are recorded (the engine is its only writer).
        clock: Time source (inject ``FakeClock`` in tests).
        config: Scheduler settings.
        bus: Where events go (a new bus if omitted).
        executors: Executor per execution mode (``default_executors()`` if omitted).
        tz: Time zone for conditions (else from ``config.timezone`` or the system).
    """

    def __init__(
        self,
        session: Session,
        store: RunStore,
        *,
        clock: Clock | None = None,
        config: SchedulerConfig | None = None,
        bus: EventBus | None = None,
        executors: dict[str, Executor] | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.session = session
        self.store = store
        self.clock = clock or SystemClock()
        self.config = config or SchedulerConfig()
        self.bus = bus or EventBus()
        self.tz = tz or resolve_timezone(self.config.timezone)
        self.status = StatusIndex()
        self._dispatch = Dispatcher(session, executors or default_executors(
            self.config.process_workers, self.config.dask, self._report_problem))
        self._eval_ctx: Context | None = None  # the context of the evaluation pass under way
        self._eval_snapshots: tuple[object, object] = (None, None)  # the session's, in it
        # Dependents of runs that ended inside the evaluation pass under way (see _evaluate).
        self._ended_deps: list[str] = []
        # Written from any thread under _lock; drained by the engine thread.
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._pending_all = False
        self._pending_calls: list[tuple[Callable[[], Any], Future[Any]]] = []
        self._wake_requested = False
        self._stop_request: tuple[bool, bool] | None = None
        self._state = "stopped"
        # Engine-thread state.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._running: dict[int, ActiveRun] = {}
        self._wakeups = Wakeups()
        self._states: dict[str, TaskState] = {}  # only tasks with something pending
        self._rng = random.Random()
        self._dependents: dict[str, set[str]] = {}
        self._end_deadline: float | None = None
        self._retention = Retention(lambda keep, older, tasks: self.store.prune(keep, older, tasks),
                                    self.config.keep_runs,
                                    self.config.keep_days, _PRUNE_EVERY)
        self._heartbeat = Heartbeat(store)
        self._flushing = FlushPolicy(store.flush)
        self.cycles = 0
        self._spawned = 0
        """Runs launched as loop tasks (the serve loop yields to them once)."""
        self._gc = GcPolicy()
        self._changes = SessionChanges(self._lock, session, store, self.bus, self._states,
                                       self._state_of, self._tidy, self._wakeups,
                                       self._dispatch, self._running, self._gc, self._reindex)
        self._apply_changes = self._changes.apply  # (every tick: bound once)
        self.evaluations = 0
        """How many start decisions have been made (idle cost is visible in tests)."""
        self.started_at: float | None = None
        self.restart_requested = False
        self.recovered: tuple[RunRecord, ...] = ()
        """Runs a scheduler that died left open, closed as ``crash`` at this start."""
        self.ready = threading.Event()
        """Set once the engine has recovered state and begun scheduling."""
        self.done = threading.Event()
        """Set when the engine has stopped."""

    # == thread-safe API (EngineLink) ==================================================
    @property
    def state(self) -> str:
        """``stopped``, ``starting``, ``running``, ``stopping`` or ``restarting``."""
        return self._state

    @property
    def cluster(self) -> str | None:
        """Where ``dask`` runs go, once the first one connected (the header shows it)."""
        dask = self._dispatch.executors.get("dask")  # (``get``: never makes one)
        return getattr(dask, "cluster", None)

    def notify(self, task: str | None = None) -> None:
        """Decide ``task`` (or every task) again at the next tick."""
        with self._lock:
            if task is None:
                self._pending_all = True
            else:
                self._pending.add(task)
        self._wake_threadsafe()

    def flag_changed(self, task: Task, flag: str, value: bool) -> None:
        """A task's ``disabled`` or ``force_run`` flag changed."""
        if flag == "disabled":
            self._queue(lambda now, dirty: self._changes.on_disabled(task, value, now, dirty))
        else:
            self.notify(task.name)

    def task_added(self, task: Task) -> None:
        """A task joined the session at run time (``session.create_task``)."""
        self._queue(lambda now, dirty: self._changes.on_added(task, now, dirty))

    def task_changed(self, task: Task, what: str) -> None:
        """An option or the condition (``what``) of a task was changed in place."""
        self._queue(lambda now, dirty: self._changes.on_changed(task, what, now, dirty))

    def task_removed(self, task: Task) -> None:
        """A task left the session; a run in progress finishes and is recorded."""
        def removed(now: float, dirty: set[str]) -> bool:
            self._changes.on_removed(task, None)
            self.bus.publish(TaskChanged(now, task.name, "removed"))
            return True

        self._queue(removed)

    def tasks_swapped(self, removed: list[Task], swapped_in: list[Task],
                      terminate: bool = False) -> None:
        """Tasks were removed, added or replaced at once (``Session.swap_tasks``, a module
        reload). At the next tick the persisted ``disabled`` flags win over the module's
        declaration, dependents and the stored task list are rebuilt and the new tasks
        are evaluated. Runs in progress of removed tasks finish (``terminate``: are
        terminated)."""
        self._queue(lambda now, dirty: self._changes.on_swapped(removed, swapped_in, terminate,
                                                        now, dirty))

    def request_stop(self, restart: bool = False, force: bool = False) -> None:
        """Begin shutdown (or restart). ``force`` terminates running runs at once; a
        second request while stopping escalates to ``force``."""
        with self._lock:
            if self._stop_request is not None:
                restart = self._stop_request[0] or restart
                force = True if not restart else force or self._stop_request[1]
            self._stop_request = (restart, force)
        self._wake_threadsafe()

    def terminate(self, task: str, reason: str = "terminated by the operator") -> None:
        """Terminate every run of ``task`` in progress."""
        def stop_runs() -> None:
            for active in self._running.values():
                if active.record.task == task:
                    active.job.terminate(reason)

        self.call(stop_runs)

    def call(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn`` on the engine thread (e.g. a history query); returns a future."""
        fut: Future[T] = Future()
        with self._lock:
            self._pending_calls.append((fn, fut))  # type: ignore[arg-type]
        self._wake_threadsafe()
        return fut

    def context(self) -> Context:
        """A condition context for now (engine thread; use via ``call``), e.g. for
        ``tui_sched.conditions.explain``."""
        return self._context(self.clock.time())

    def next_wake(self, task: str) -> float | None:
        """When ``task``'s condition is next due to be re-checked (``None``: on an event)."""
        return self._wakeups.get(task)

    def history(self, task: str | None = None, limit: int = 100,
                before_id: int | None = None) -> Future[list[RunRecord]]:
        """Run history from the store, read on the engine thread (single writer)."""
        return self.call(lambda: self.store.history(task, limit, before_id))

    def terminating_tasks(self) -> set[str]:
        """Tasks with a run being terminated right now (engine thread; use via ``call``)."""
        return {a.record.task for a in self._running.values() if a.job.stop_reason is not None}

    def running_runs(self) -> list[RunRecord]:
        """Runs in progress (a snapshot)."""
        return [a.record for a in list(self._running.values())]

    def _queue(self, change: Change) -> None:
        self._changes.queue(change)
        self._wake_threadsafe()

    def _wake_threadsafe(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        with self._lock:
            if self._wake_requested:
                return
            self._wake_requested = True
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:  # loop closed: the engine has stopped
            pass

    # == running =======================================================================
    def run(self) -> bool:
        """Schedule until shutdown or restart (blocking). Returns ``True`` for restart."""
        asyncio.run(self.serve())
        return self.restart_requested

    async def serve(self) -> None:
        """The engine's main coroutine."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.clock.attach(self._loop, self._wake)
        self._state = "starting"
        OutputCapture.install()
        self._dispatch.blockwatch = BlockWatch(
            self.store.flush, _BLOCK_COMMIT_AFTER,
            lambda exc: self._report_problem(f"committing history: {exc}"))
        self.session.default_execution = self.config.default_execution
        self.session._bind_engine(self)
        try:
            self._startup()
            # Short full collections: the largest single cause of late starts otherwise.
            self._gc.install()
            self._state = "running"
            self.ready.set()
            while self._stop_request is None:
                with self._lock:
                    self._wake_requested = False
                self._wake.clear()
                spawned = self._spawned
                self._tick()
                if self._spawned != spawned:
                    # Let runs just launched on the loop take their first step, then
                    # commit: a run that already finished is written once, complete.
                    # (Main runs finished inside the tick: no extra loop turn for them.)
                    await asyncio.sleep(0)
                elif not self._running:
                    self._follow_train()
                now = self.clock.time()
                deadline = self._deadline(now)
                flushed_quiet = self._flushing.step(now, deadline, self._wake.is_set())
                if self._stop_request is not None:
                    break
                flush_at = self._flushing.flush_at
                until = deadline if flush_at is None else min(deadline, flush_at)
                # Precise only for a task's due: a commit, the heartbeat or the wall-clock
                # re-check may be met a millisecond late, for one wake-up less.
                next_due = self._wakeups.next_at()
                await self.clock.wait(until, self._wake,
                                      precise=next_due is not None and next_due <= until)
                if flushed_quiet:
                    self._flushing.woke()
            await self._shutdown()
        finally:
            self._gc.uninstall()
            self._dispatch.blockwatch.close()
            self.session._bind_engine(None)
            OutputCapture.uninstall()
            self._state = "stopped"
            self.ready.set()
            self.done.set()
            with self._lock:
                calls, self._pending_calls = self._pending_calls, []
            for _, fut in calls:
                fut.cancel()

    def _startup(self) -> None:
        now = self.clock.time()
        self.started_at = now
        if isinstance(self.store, ResilientStore):
            self.store.report = self._report_problem
            for note in self.store.pending_notes:
                self._report_problem(note)
            self.store.pending_notes.clear()
            # A history that cannot be read must not look like one where nothing ran.
            if not self.store.wait_readable(lambda: self._stop_request is not None):
                return
            now = self.clock.time()
            self.started_at = now
        recovered = self.store.close_open_runs(
            now, Outcome.CRASH, "the scheduler stopped while this run was in progress")
        self.status.load_from(self.store, self.session.tasks)
        # The first sweep by age covers what the store holds (tasks without history have
        # nothing to prune); it goes a slice at a time, in gaps in the schedule.
        self._retention.sweep(self.status.with_history(), now)
        flags = self.store.get_flags()
        for task in self.session.tasks:
            self.status.status(task.name)  # (made now: see Dispatcher.warm)
            self._dispatch.warm(task)
            if task.name in flags:
                # The operator's last word wins over the module's declaration.
                object.__setattr__(task, "_disabled", flags[task.name])
        self._reindex()
        down_since = self._heartbeat.last()
        self._heartbeat.beat(now)
        if down_since is not None:
            owed = misfire.detect(self.session.tasks, down_since, self._context(now),
                                  store=self.store, status=self.status, bus=self.bus)
            for name in owed:
                self._state_of(name).catch_up = True
        with self._lock:
            self._pending_all = True
        if recovered:
            self.recovered = tuple(recovered)
            self.bus.publish(RunsRecovered(now, self.recovered))
            self._back_off_recovered(recovered, now)
        self.bus.publish(SchedulerStarted(now, len(self.session)))

    def _back_off_recovered(self, recovered: list[RunRecord], now: float) -> None:
        """The runs left open by a scheduler that died count as crashes of their tasks:
        each backs off by the crashes in a row its history shows (a task that kills the
        scheduler is not started again at once on every restart)."""
        for run in recovered:
            task = self.session._lookup(run.task)
            if task is not None:
                history = self.store.history(run.task, crashes.LOOKBACK)
                self._state_of(run.task).crashes = max(0, crashes.in_a_row(history) - 1)
                self._back_off(task, run, now)

    def _back_off(self, task: Task, run: RunRecord, at: float) -> None:
        state = self._state_of(task.name)
        first, cap = crashes.backoff(task)
        until = state.crashed(at, first, cap)
        local = datetime.fromtimestamp(until, self.tz).strftime("%Y-%m-%d %H:%M:%S")
        self.bus.publish(TaskChanged(at, task.name,
                                     f"run {run.id} crashed ({state.crashes} in a row): "
                                     f"no start by its condition before {local}"))

    # == one tick ======================================================================
    def _tick(self) -> None:
        now = self.clock.time()
        with self._lock:
            dirty, self._pending = self._pending, set()
            everything, self._pending_all = self._pending_all, False
            calls, self._pending_calls = self._pending_calls, []
        self._apply_changes(now, dirty)
        due = self._wakeups.pop_due(now)
        if everything:
            dirty = {t.name for t in self.session.tasks}
        if due or dirty:
            # The wake-ups first, the earliest due first (then by priority: the sort is
            # stable). Taken in any other order, a task moved back in its train starts
            # late, and with ``every`` stays late: its next due counts from that start.
            self._evaluate([*due, *(name for name in dirty if name not in due)], due, now)
            self._settle()
        if self._running:
            deadline = check_end_conditions(
                [(a.task, a.job) for a in self._running.values()], self._context(now),
                self.config.poll_interval,
                lambda message, trace: self.bus.publish(EngineError(now, message, trace)))
            self._end_deadline = None if deadline is None else max(deadline, now + _MIN_STEP)
        retention = self._retention
        if now >= retention.next_sweep:
            retention.sweep(self.status.with_history(), now)
        if retention.pending() and self._may_prune(now):
            self._prune(now)
        self._heartbeat.maybe_beat(now)
        self.cycles += 1
        # Calls run last, so a caller that waits on one knows this tick has been evaluated.
        for fn, fut in calls:
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as exc:
                    fut.set_exception(exc)

    def _settle(self) -> None:
        """Decide again, within this tick, the tasks whose runs started or ended in it
        (``main`` runs end inside the tick) and their dependents, instead of in a tick
        of their own: under load about a third fewer ticks. Only once per tick, so a task
        that is due again at once (``true``) still waits for the next tick. When that
        left nothing to do and no other thread asked, the wake-up the runs set is
        taken back."""
        assert self._wake is not None
        if not self._pending:
            # Read without the lock (most passes of a train leave nothing): a name another
            # thread adds meanwhile also woke the loop, and the next tick takes it.
            return
        with self._lock:
            again, self._pending = self._pending, set()
        if not again:
            return
        self._evaluate(again, {}, self.clock.time())
        with self._lock:
            if not self._pending and not self._wake_requested:
                # Only this thread sets the event between two turns of the loop (other
                # threads go through ``_wake_threadsafe``), so nothing is lost.
                self._wake.clear()

    def _follow_train(self) -> None:
        """Take the tasks that fall due right after this tick, one wake-up after the
        other, without going back to the event loop in between.

        ``every`` tasks started in one burst fall due again one after the other, spaced
        by how fast the engine took them, so in every later round most wake-ups are tens
        of microseconds apart. Each would otherwise cost a whole turn of the serve loop
        (flush check, deadline, the clock's wait). Here only the due tasks are decided,
        as a tick would, while the clock agrees to hold (``Clock.hold``: a short, precise
        wait) and nothing else asked for a tick: no other thread's request, nothing
        pending, no run in progress on the loop; and for at most ``_FOLLOW_MAX``, so that
        an engine that is always behind still commits history and writes its heartbeat.
        """
        assert self._wake is not None
        clock, wakeups, wake, session = self.clock, self._wakeups, self._wake, self.session
        until = time.monotonic() + _FOLLOW_MAX
        # One context for the whole train, moved to each wake-up's time (most wake-ups
        # start one task: 4 % fewer engine instructions per run than a new one each,
        # bench/instructions.py --spread 30); a new one when a run has changed the
        # session's parameters or custom conditions.
        ctx: Context | None = None
        snapshots: tuple[object, object] = (None, None)
        while (self._stop_request is None and not self._wake_requested
               and not wake.is_set() and not self._running and time.monotonic() < until):
            at = wakeups.next_at()
            if at is None:
                return
            now = clock.hold(at)
            if now is None:
                return
            due = wakeups.pop_due(now)
            if due:
                if (ctx is None or snapshots[0] is not session.params_snapshot
                        or snapshots[1] is not session.custom_snapshot):
                    ctx = self._context(now)
                    snapshots = (session.params_snapshot, session.custom_snapshot)
                else:
                    ctx.now = now
                    ctx._local = None
                    ctx.cycles = self.cycles
                self._evaluate(due, due, now, ctx, snapshots)
                if self._pending:  # (read without the lock, as _settle does)
                    self._settle()
            self.cycles += 1

    def _context(self, now: float) -> Context:
        return Context(now, self.tz, None, self.status, self.started_at, self.cycles,
                       self.session.params_snapshot, self.config.env,
                       self.session.custom_snapshot, self.config.poll_interval)

    def _evaluate(self, names: Collection[str], due: dict[str, float], now: float,
                  ctx: Context | None = None,
                  snapshots: tuple[object, object] = (None, None)) -> None:
        """Decide the tasks ``names`` at ``now``, highest priority first (``due``: those
        whose wake-up fell due, and when), in a new context or in ``ctx``, made with the
        session's ``snapshots`` (parameters, custom conditions) and already at ``now``."""
        lookup = self.session._lookup
        if len(names) == 1:  # (sized) a wake-up of a train: no comprehension to run
            task = lookup(next(iter(names)))
            tasks = [] if task is None else [task]
        else:
            tasks = [t for t in map(lookup, names) if t is not None]
            if len(tasks) > 1:
                tasks.sort(key=lambda t: -t.options.priority)
        if ctx is None:
            ctx = self._context(now)
            snapshots = (self.session.params_snapshot, self.session.custom_snapshot)
        self._eval_ctx = ctx
        self._eval_snapshots = snapshots
        try:
            i = 0
            while i < len(tasks):
                task = tasks[i]
                i += 1
                if self._stop_request is not None:
                    break  # (a main run asked for shutdown): nothing starts any more
                self._decide(task, ctx, due.get(task.name), now)
                if self._ended_deps:
                    self._join_pass(tasks, i, task.options.priority)
        finally:
            self._eval_ctx = None
            self._ended_deps.clear()

    def _join_pass(self, tasks: list[Task], rest: int, priority: int) -> None:
        """A run ended inside this pass (a ``main`` run): its dependents of lower priority
        than the task just decided join the pass, in their place, as they would in a pass
        over every task by priority (``after task 'a'`` of priority 3 is decided after
        ``a`` of priority 4 and before ``d`` of priority 0, due at the same moment).
        Those of higher or equal priority are left to the settle pass, which comes after
        this one."""
        lookup, queued = self.session._lookup, {t.name for t in tasks[rest:]}
        for name in self._ended_deps:
            dep = lookup(name)
            if dep is None or name in queued or dep.options.priority >= priority:
                continue
            at = rest
            while at < len(tasks) and tasks[at].options.priority >= dep.options.priority:
                at += 1
            tasks.insert(at, dep)
            queued.add(name)
        self._ended_deps.clear()

    def _reconsider(self, task: Task, now: float) -> None:
        """Right after a run that finished inside the tick (at ``now``, its end: the
        clock is not read again): when is the task next due?

        Done here rather than in the settle pass: each start of a burst is then followed
        by the work that follows it in later rounds, when the tasks fall due one by one,
        so a burst does not pack the tasks closer than the engine takes them later; and
        a task without dependents leaves nothing for the settle pass. A start (due again
        at once, a retry, a forced run) is left to that pass.
        """
        if self._stop_request is not None:
            return
        ctx = self._eval_ctx
        session = self.session
        if (ctx is None or self._eval_snapshots[0] is not session.params_snapshot
                or self._eval_snapshots[1] is not session.custom_snapshot):
            # Outside a pass, or a main run changed the parameters or the custom
            # conditions: a context of its own, with the current ones.
            self._decide(task, self._context(now), None, now, may_start=False)
            return
        # The evaluation pass's context, moved to now for this one task (cheaper than a
        # new one on every run); put back for the rest of the pass.
        tick_now = ctx.now
        ctx.now = now
        ctx._local = None
        try:
            self._decide(task, ctx, None, now, may_start=False)
        finally:
            ctx.now = tick_now
            ctx._local = None

    def _decide(self, task: Task, ctx: Context, due: float | None, now: float,
                may_start: bool = True) -> None:
        """Decide ``task`` at ``now`` (``ctx`` is at ``now``) and carry it out; a start
        or a skip is left to the settle pass when not ``may_start``."""
        name = task.name
        state = self._states.get(name)
        self.evaluations += 1
        decision = decide(task, state, ctx, due, self.config.poll_interval)
        act = decision.act
        if act is _WAIT:
            assert decision.at is not None
            self._wakeups.set(name, max(decision.at, now + _MIN_STEP), now)
            if decision.error is not None:
                self.bus.publish(EngineError(now, decision.error, decision.trace))
        elif decision is IDLE:
            pass
        elif not may_start:
            self._mark_dirty(name)
        elif act is _START:
            self._start(task, state, decision, due)
        elif act is _SKIP:
            if state is not None and decision is SKIP_JITTERED:
                state.jitter = None
            self._skip_overlap(task, now)
        else:  # JITTER
            at = now + self._rng.random() * task.options.jitter
            self._state_of(name).jitter = (at, now if due is None else due)
            self._wakeups.set(name, at, now)

    def _start(self, task: Task, state: TaskState | None, decision: Decision,
               due: float | None) -> None:
        """Launch the run ``decision`` says, using up what it came from (``due``: when
        the wake-up that led to it fell due)."""
        source, attempt = decision.source, 1
        if source is _FORCE:
            object.__setattr__(task, "_force_run", False)
            due = None
        elif source is not _CONDITION and state is not None:
            if source is _RETRY and state.retry is not None:
                due, attempt = state.retry
                state.retry = None
            elif source is _CATCH_UP:
                state.catch_up = False
            elif source is _JITTER and state.jitter is not None:
                due = state.jitter[1]
                state.jitter = None
            self._tidy(task.name, state)
        self._launch(task, decision.trigger, due, attempt)

    def _state_of(self, name: str) -> TaskState:
        state = self._states.get(name)
        if state is None:
            state = self._states[name] = TaskState()
        return state

    def _tidy(self, name: str, state: TaskState) -> None:
        """Drop a task's state that holds nothing any more."""
        if state.is_empty():
            self._states.pop(name, None)

    def _skip_overlap(self, task: Task, now: float) -> None:
        """Record (once per run in progress) that a due start was skipped: the task is
        still running and does not allow overlapping runs."""
        running = [a for a in self._running.values() if a.task is task]
        if not running or running[-1].skip_recorded:
            return
        running[-1].skip_recorded = True
        record = RunRecord(self.store.next_run_id(), task.name, Trigger.SCHEDULED, now, now,
                           Outcome.SKIPPED,
                           f"skipped: run {running[-1].record.id} is still in progress "
                           "(set multilaunch=True to allow overlapping runs)")
        self.store.start_run(record)
        self.status.recorded(task.name, now, Outcome.SKIPPED)
        self.bus.publish(RunRecorded(now, record))

    def _deadline(self, now: float) -> float:
        """When the serve loop must look again, at the latest."""
        # A prune left unfinished by its time budget goes on at the next tick, if that
        # is in a gap in the schedule (else when pruning has waited long enough).
        retention = self._retention
        deadline = min(retention.next_sweep, self._heartbeat.next_at(), now + _WALL_RECHECK)
        if retention.pending():
            deadline = min(deadline, now if self._may_prune(now) else
                           retention.queued_since + _PRUNE_DEFER_MAX)
        next_wake = self._wakeups.next_at()
        if next_wake is not None and next_wake < deadline:
            deadline = next_wake
        if self._end_deadline is not None and self._end_deadline < deadline:
            deadline = self._end_deadline
        return deadline

    def _mark_dirty(self, name: str) -> None:
        """A run of ``name`` started or ended: decide it and its dependents again."""
        with self._lock:
            self._pending.add(name)
            deps = self._dependents.get(name)
            if deps:
                self._pending.update(deps)
        if self._wake is not None:
            self._wake.set()

    def _mark_dependents(self, name: str) -> None:
        """A run of ``name`` ended: decide again the tasks whose conditions name it."""
        # Read without the lock: only the engine thread (this one) replaces the map, and
        # most tasks have no dependents.
        deps = self._dependents.get(name)
        if not deps:
            return
        with self._lock:
            self._pending.update(deps)
        if self._wake is not None:
            self._wake.set()

    # == runs ==========================================================================
    def _launch(self, task: Task, trigger: Trigger, due: float | None, attempt: int = 1) -> None:
        assert self._loop is not None
        now = self.clock.time()
        bus, name = self.bus, task.name
        record = self.store.begin_run(name, trigger, now, attempt)
        self.status.started(name, now)
        self._wakeups.discard(name)
        run_id = record.id

        def on_line(stream: str, text: str) -> None:
            bus.publish(LogLine(time.time(), name, run_id, stream, text))

        config = self.config
        job = Job(run_id, name, task.target, {}, task.options.timeout,
                  OutputSink(on_line, config.output_tail), config.termination_grace)
        active = ActiveRun(record, job, task)
        self._running[run_id] = active
        bus.publish(RunStarted(now, record, due))
        executor, execution = self._dispatch.plan(task)
        if executor.blocks_loop:
            # main: run now, inside the tick. Each start is stamped when its run really
            # begins, so a burst of tasks due together spreads out instead of queueing
            # behind its own launches. Nothing else runs meanwhile, so the task and its
            # dependents are marked for re-evaluation once, when it has finished.
            result = self._dispatch.run_blocking(job, task, executor, execution)
            if result is not None:
                end = self.clock.time()
                self._finish(active, result, inline=True, end=end)
                self._reconsider(task, end)
                return
        job.on_terminate = lambda reason: bus.publish(
            RunTerminating(self.clock.time(), record, reason))
        self._mark_dirty(name)
        if executor.starts_directly:
            # thread: no coroutine per run; the executor tells ``_finish`` how it ended
            # (on this loop), and this future is what shutdown waits on.
            active.future = self._loop.create_future()
            try:
                self._dispatch.prepare(job, task, execution)
                executor.start(job, lambda result, end: self._finish_direct(active, result, end),
                               self.clock.time)
            except Exception as exc:  # argument resolution, or no thread to be had
                self._finish_direct(active, JobResult.failed(exc), None)
            return
        active.future = self._loop.create_task(self._execute(active, executor, execution))
        self._spawned += 1

    async def _execute(self, active: ActiveRun, executor: Executor, execution: str) -> None:
        self._finish(active, await self._dispatch.execute(active.job, active.task, executor,
                                                          execution))

    def _finish(self, active: ActiveRun, result: JobResult, inline: bool = False,
                end: float | None = None) -> None:
        if end is None:
            end = self.clock.time()
        job, rec = active.job, active.record
        tail = job.sink.finish()
        summary = result.value_summary()  # bounded; thread/process runs made it already
        # A run that waited in a cluster's queue began there after its dispatch.
        start = result.began(rec.start, end)
        run_end = RunEnd(end, result.outcome, result.error, result.traceback, summary, tail,
                         None if start == rec.start else start)
        self.store.finish_run(rec.id, run_end)
        self._retention.finished(rec.task, end)
        self.status.finished(rec.task, rec.start, end, result.outcome)
        outcome = result.outcome
        if outcome is Outcome.SUCCESS:
            self.session.returns[rec.task] = result.value
        self._running.pop(rec.id, None)
        closed = RunRecord(rec.id, rec.task, rec.trigger, start, end, result.outcome,
                           result.error, result.traceback, summary, run_end.output_tail,
                           rec.attempt)
        self.bus.publish(RunFinished(end, closed))
        task = active.task
        if outcome is Outcome.SUCCESS:
            state = self._states.get(rec.task)
            if state is not None:
                state.succeeded()
                self._tidy(rec.task, state)
        elif self.session._lookup(task.name) is task:  # (not a replaced version's run)
            if (outcome is Outcome.FAIL and rec.attempt <= task.options.retries
                    and self._stop_request is None):
                wait = task.options.retry_wait(rec.attempt, self._rng.random())
                self._state_of(rec.task).retry = (end + wait, rec.attempt + 1)
            elif outcome is Outcome.CRASH:
                self._back_off(task, closed, end)
        if inline:
            if rec.task in self._dependents:  # (most tasks have none: no call)
                self._mark_dependents(rec.task)  # the task itself: see _reconsider
                if self._eval_ctx is not None:
                    self._ended_deps.extend(self._dependents[rec.task])
        else:
            self._mark_dirty(rec.task)

    def _finish_direct(self, active: ActiveRun, result: JobResult, end: float | None) -> None:
        """``_finish`` for a run started directly (thread): its future, which shutdown
        waits on, is resolved even if recording the end fails."""
        try:
            self._finish(active, result, end=end)
        finally:
            future = active.future
            if future is not None and not future.done():
                future.set_result(None)

    def _reindex(self) -> None:
        """The session's task list changed: rebuild the dependents index and the stored
        task list, and load the past runs a new count condition counts."""
        deps = dependents_of(self.session.tasks)
        with self._lock:
            self._dependents = deps
        self.store.save_tasks(task_infos(self.session.tasks))
        self.status.count_runs_for(self.store, self.session.tasks)

    def _may_prune(self, now: float) -> bool:
        """Whether to prune now: in a gap with nothing due for ``FLUSH_GAP`` (a prune
        waits for the store's writer, which may be committing), or once pruning has
        waited ``_PRUNE_DEFER_MAX`` for such a gap."""
        next_wake = self._wakeups.next_at()
        if next_wake is None or next_wake - now >= FLUSH_GAP:
            return True
        return now - self._retention.queued_since >= _PRUNE_DEFER_MAX

    def _prune(self, now: float) -> None:
        try:
            self._retention.step(now)
        except Exception as exc:
            self._report(f"pruning the history failed: {exc}")

    def _report_problem(self, message: str) -> None:
        self.bus.publish(EngineError(self.clock.time(), message))

    def _report(self, message: str) -> None:
        self.bus.publish(EngineError(self.clock.time(), message, traceback.format_exc()))

    # == shutdown ======================================================================
    async def _shutdown(self) -> None:
        assert self._wake is not None and self._stop_request is not None
        restart, force = self._stop_request
        self.restart_requested = restart
        self._state = "restarting" if restart else "stopping"
        self.bus.publish(SchedulerStopping(self.clock.time(), restart, len(self._running)))
        if not force:
            await shutdown.wait_for_runs(self._running, self._wake, self.config.shutdown_timeout,
                                         self._stop_forced, self.store.flush)
        self._apply_changes(self.clock.time(), set())
        await shutdown.terminate_runs(self._running, "terminated at shutdown")
        await shutdown.close_executors(self._dispatch.executors.values(), self._report)
        self._apply_changes(self.clock.time(), set())
        self._heartbeat.beat(self.clock.time())
        self.store.flush()
        self.bus.publish(SchedulerStopped(self.clock.time(), restart))

    def _stop_forced(self) -> bool:
        """(While waiting for runs at shutdown.) Re-arm the wake-up, then: has a second
        stop request forced the stop?"""
        assert self._wake is not None and self._stop_request is not None
        with self._lock:
            self._wake_requested = False
        self._wake.clear()
        with self._lock:
            return self._stop_request[1]
