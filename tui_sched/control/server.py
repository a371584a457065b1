"""The control socket's server: every running scheduler serves ``<state>/control.sock``.

It runs on a thread of its own with its own asyncio loop, and reaches the engine only
through the thread-safe API (``Control``: session flags, ``Engine.call``,
``EngineHost.shutdown``) and the ``EventBus``. So nothing it does (a slow client, a large
snapshot to encode) runs on the engine's loop, except building a snapshot, which the
in-process UI asks for the same way.

Subscribers keep their task table themselves (``control.live``): they get a whole snapshot
when they subscribe, after a resync, soon after anything but runs changed (``min_snapshot``)
and every ``full_every`` seconds; in between, the run events they receive and a
``Progress`` each second (the time, and the next wake-ups of the tasks that ran, a lookup
per task) keep it current. A snapshot for every change instead cost the engine thread a
look at every task and a new row for each that ran, and this thread the encoding of the
whole table: with 1,000 tasks running every second, one attached client made the
scheduler use half as much CPU again.

Wake-ups: waking a Python thread costs a few hundred microseconds on a small shared host
(its caches have gone cold), whatever it then does, so the server counts them.
Subscribers get events in batches (``batch``, 0.1 s): the first event after a quiet spell
wakes the loop, which flushes it ``batch`` later; while events keep coming, each flush
arms the next one, so publishers do not wake the loop again and a stream of log lines
costs one wake-up per batch (a wake-up for each batch's first event and another for its
flush made this thread's share of one client's cost under 500 log lines/s half as much
again). Snapshots and ``Progress`` built on the engine thread ride on the same flushes.
What a client's command caused (the runs a ``force`` started, a ``disable``) is flushed
at once instead, as the embedded UI's bridge does after a key: an operator waits for it.

Back-pressure: every message for subscribers is encoded once and queued per client; a
client's queue of events is bounded in bytes, and only the latest snapshot waits for it
(a newer one replaces it). A client whose queue overflows is resynchronised: its queued
events are dropped, it gets a ``Resync`` and a fresh snapshot. A client that has not read
anything for ``drop_after`` seconds is dropped. Neither ever waits for another client or
the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from tui_sched.control import protocol as p
from tui_sched.control.commands import Control, EngineGone
from tui_sched.control.live import ROW_EVENTS
from tui_sched.control.peer import Peer
from tui_sched.control.unix import bind_private, peer_allowed, peer_credentials, remove_stale
from tui_sched.engine import events as ev
from tui_sched.engine.host import EngineHost
from tui_sched.engine.scheduler import Engine
from tui_sched.engine.snapshot import RowMemo, RunTuple, Snapshot, build_snapshot, seed_runs
from tui_sched.errors import TaskNotFound

T = TypeVar("T")

_HELLO_TIMEOUT = 10.0
#: Events that end what a command started (then no longer flushed at once).
_SETTLING = (ev.RunFinished, ev.RunRecorded, ev.RunTerminating, ev.TaskChanged)


class ControlServer:
    """Serves the control protocol for ``host`` on ``<state_dir>/control.sock``.

    Start it only while holding the state folder's instance lock: a socket file found
    there then is a stale one from a killed scheduler, and is replaced.

    Args:
        host: The engine host (``host.engine`` is read per command: it changes on restart).
        state_dir: The state folder (0700; the socket is made 0600 in it).
        max_queued: Bytes of events queued for one subscriber before it is resynchronised.
        drop_after: Seconds a subscriber may go without reading before it is dropped.
        batch: Seconds events are collected before one ``Events`` message is sent.
        min_snapshot: Least seconds between two pushed snapshots while tasks change (a
            key press gets one at once, by ``GetSnapshot``).
        progress_every: Seconds between two ``Progress`` messages.
        full_every: Most seconds between two pushed snapshots (what events do not say
            changes too: a failure leaves the last hour's count, a condition's next
            change moves).
        recent: Events kept for a new subscriber (so its log pane starts with them).
        request_timeout: Seconds a command waits for the engine.
    """

    def __init__(self, host: EngineHost, state_dir: Path, *, max_queued: int = 8 << 20,
                 drop_after: float = 30.0, batch: float = 0.1, min_snapshot: float = 1.0,
                 progress_every: float = 1.0, full_every: float = 10.0, recent: int = 500,
                 request_timeout: float = 10.0) -> None:
        self.host = host
        self.state_dir = state_dir
        self.path = state_dir / p.SOCKET_FILE
        self.control = Control(host)
        self.max_queued = max_queued
        self.drop_after = drop_after
        self.batch = batch
        self.min_snapshot = min_snapshot
        self.progress_every = progress_every
        self.full_every = full_every
        self.request_timeout = request_timeout
        self._lock = threading.Lock()  # guards the fields below (publisher threads)
        self._recent: deque[tuple[int, ev.Event]] = deque(maxlen=recent)
        self._pending: list[tuple[int, ev.Event]] = []
        self._built: list[Future[Any]] = []  # snapshots and progress from the engine, unsent
        self._seq = 0
        self._dirty = True  # something besides runs changed: a whole snapshot is due
        self._ran: set[str] = set()  # tasks that started or ended runs since the last push
        self._armed = False  # a flush is scheduled: publishers need not wake the loop
        self._awaited: set[str] = set()  # tasks a client's command acted on: flush at once
        self._listening = False  # any subscriber: publishers queue events for it
        # Server-loop state.
        self._peers: set[Peer] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None  # the next flush
        self._stopping: asyncio.Event | None = None
        self._asked = False
        self._in_flight = False
        self._last_snapshot = 0.0
        self._last_push = 0.0
        self._ran_before: set[str] = set()
        # Engine-thread state (for build_snapshot), per engine.
        self._engine: Engine | None = None
        self._seed: dict[str, list[RunTuple]] | None = None
        self._rows: RowMemo = {}
        self._unsubscribe: Callable[[], None] = lambda: None
        self._thread: threading.Thread | None = None
        self._inode: tuple[int, int] | None = None

    # == any thread ======================================================================
    def start(self) -> bool:
        """Bind the socket and start serving. A failure is reported on the bus (the
        scheduler runs on without a control socket); returns whether it serves."""
        try:
            if remove_stale(self.path):
                self._report(f"removed a stale control socket left by a stopped scheduler: {self.path}")
            sock = bind_private(self.path)
            st = os.stat(self.path)
            self._inode = (st.st_dev, st.st_ino)
        except OSError as exc:
            self._report(f"control socket unavailable ({exc}); `tui-sched attach` and "
                         "`tui-sched ctl` cannot reach this scheduler")
            return False
        self._unsubscribe = self.host.bus.subscribe(self._on_event)
        started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(sock, started),
                                        name="tui-sched-control", daemon=True)
        self._thread.start()
        started.wait(5)
        return True

    def stop(self) -> None:
        """Say goodbye to every client, close the socket and remove its file."""
        self._unsubscribe()
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(5)
        self._remove_socket()

    def _remove_socket(self) -> None:
        # Only our own: a scheduler started after us (we lost the lock?) keeps its socket.
        try:
            st = os.stat(self.path)
            if (st.st_dev, st.st_ino) == self._inode:
                self.path.unlink()
        except OSError:
            pass

    def _report(self, message: str) -> None:
        self.host.bus.publish(ev.EngineError(time.time(), f"control socket: {message}"))

    def _on_event(self, event: ev.Event) -> None:
        # A bus subscriber (engine and worker threads): only append, and wake the loop
        # for the first event after a quiet spell (see the module docstring).
        with self._lock:
            self._seq += 1
            item = (self._seq, event)
            self._recent.append(item)
            if not self._listening:
                return
            self._pending.append(item)
            if isinstance(event, ROW_EVENTS):
                self._ran.add(event.run.task)
            elif not isinstance(event, ev.LogLine | ev.EngineError):
                self._dirty = True
            task = _task_of(event)
            urgent = task is not None and task in self._awaited
            if urgent and isinstance(event, _SETTLING):
                self._awaited.discard(task)
            if self._armed and not urgent:
                return
            self._armed = True
        if urgent:
            self._call_soon(self._hurry, isinstance(event, ev.TaskChanged))
        else:
            self._call_soon(self._flush_in, self.batch)

    def _on_built(self, fut: Future[Any], *, at_once: bool = False) -> None:
        # Engine thread: a snapshot or progress is ready. Progress goes out with the next
        # flush; a whole snapshot (rare: a change, a new subscriber) at once.
        with self._lock:
            self._built.append(fut)
            if self._armed and not at_once:
                return
            self._armed = True
        self._call_soon(self._flush_in, 0.0)

    def _call_soon(self, fn: Callable[[Any], None], arg: object) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(fn, arg)

    def _await_effect(self, task: str) -> None:
        """A client's command acts on ``task``: flush its next events at once (when
        anyone subscribes: ``ctl`` alone waits for no event)."""
        with self._lock:
            if self._listening:
                self._awaited.add(task)

    # == server thread ===================================================================
    def _run(self, sock: Any, started: threading.Event) -> None:
        asyncio.run(self._main(sock, started))

    async def _main(self, sock: Any, started: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_unix_server(self._accept, sock=sock, limit=p.MAX_LINE)
        started.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            if self._timer is not None:
                self._timer.cancel()
            peers = list(self._peers)
            for peer in peers:
                peer.close("the scheduler stopped")
            if peers:
                await asyncio.wait([asyncio.ensure_future(x.finished.wait()) for x in peers], timeout=2)
            for peer in peers:
                peer.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            pid, uid, _gid = peer_credentials(writer.get_extra_info("socket"))
        except OSError:
            writer.close()
            return
        peer = Peer(self, reader, writer, pid)
        if not peer_allowed(uid):
            self._report(f"refused a connection from uid {uid} (pid {pid}): only uid "
                         f"{os.geteuid()} and root may control this scheduler")
            await peer.reject(f"refused: uid {uid} may not control this scheduler "
                              f"(it runs as uid {os.geteuid()})")
            return
        try:
            line = await asyncio.wait_for(reader.readline(), _HELLO_TIMEOUT)
            hello = p.decode_client(line)
        except (TimeoutError, ValueError, msgspec.MsgspecError, OSError):
            await peer.reject("expected a hello line first")
            return
        if not isinstance(hello, p.Hello) or hello.version != p.PROTOCOL_VERSION:
            theirs = hello.version if isinstance(hello, p.Hello) else "?"
            await peer.reject(
                f"control protocol mismatch: the scheduler (pid {os.getpid()}) speaks "
                f"version {p.PROTOCOL_VERSION}, the client version {theirs}; use the same "
                "tui-sched version for both (restart the scheduler after an upgrade)")
            return
        engine = self.host.engine
        peer.send_reply(p.Welcome(p.PROTOCOL_VERSION, os.getpid(), str(self.state_dir),
                                  "starting" if engine is None else engine.state))
        self._peers.add(peer)
        if hello.subscribe:
            self._subscribe(peer)
        try:
            await peer.serve()
        finally:
            self._peers.discard(peer)
            self._update_listening()

    def _subscribe(self, peer: Peer) -> None:
        with self._lock:
            recent = list(self._recent)
            self._listening = True
        peer.subscribed = True
        peer.since = recent[-1][0] if recent else 0
        if recent:
            peer.push_events(self._encode_events(recent[0][0], [e for _, e in recent]))
        self.ask_snapshot()

    def _update_listening(self) -> None:
        listening = any(x.subscribed for x in self._peers)
        with self._lock:
            self._listening = listening
            if not listening:
                self._pending.clear()
                self._awaited.clear()

    def _hurry(self, changed: bool) -> None:
        """Flush now what a client's command caused (``changed``: with a snapshot, the
        task changed)."""
        if changed:
            self._asked = True
        self._flush_in(0.0)

    def _flush_in(self, delay: float) -> None:
        """Flush within ``delay`` seconds (keeps an earlier flush already scheduled)."""
        loop = self._loop
        assert loop is not None
        when = loop.time() + delay
        if self._timer is not None:
            if self._timer.when() <= when:
                return
            self._timer.cancel()
        self._timer = loop.call_at(when, self._flush)

    def _flush(self) -> None:
        """Send what was queued for subscribers, push a snapshot or progress when due,
        and schedule the next flush."""
        self._timer = None
        with self._lock:
            batch, self._pending = self._pending, []
            built, self._built = self._built, []
            # Events came in this batch: more will likely follow, so this loop flushes
            # again in ``batch`` and publishers need not wake it.
            self._armed = bool(batch)
        if batch:
            self._fan_out(batch)
        for fut in built:
            self._deliver(fut)
        if self._listening and self._snapshot_in() <= 0:
            self._push()
        self._drop_stalled()
        if batch:
            self._flush_in(self.batch)
        elif self._listening:
            self._flush_in(self._snapshot_in())

    def _fan_out(self, batch: list[tuple[int, ev.Event]]) -> None:
        subscribers = [x for x in self._peers if x.subscribed]
        whole = self._encode_events(batch[0][0], [e for _, e in batch])
        for peer in subscribers:
            if peer.since < batch[0][0]:
                peer.push_events(whole)
            else:  # it got some of these with the recent ones when it subscribed
                fresh = [e for seq, e in batch if seq > peer.since]
                if fresh:
                    peer.push_events(self._encode_events(peer.since + 1, fresh))

    def _encode_events(self, seq: int, events: list[ev.Event]) -> bytes:
        """``events``, numbered from ``seq`` on, as one ``Events`` line."""
        try:
            return p.encode(p.Events([p.wire_event(e) for e in events], seq))
        except (TypeError, msgspec.MsgspecError):
            pass
        # Find the event the wire cannot carry; send a nameless one in its place (the
        # client skips it), so that the numbers of the others stay right.
        wire: list[p.WireEvent] = []
        for e in events:
            try:
                p.encode(p.Events([p.wire_event(e)]))
                wire.append(p.wire_event(e))
            except (TypeError, msgspec.MsgspecError):
                wire.append(p.WireEvent("", None))
        return p.encode(p.Events(wire, seq))

    def ask_snapshot(self) -> None:
        """Push a fresh snapshot soon (a client was resynchronised or subscribed; on the
        server's loop)."""
        self._asked = True
        self._flush_in(0.0)

    def _snapshot_in(self) -> float:
        """Seconds until the next push (a snapshot or ``Progress``)."""
        if self._in_flight:
            return self.progress_every
        if self._asked:
            return 0.0
        now = time.monotonic()
        if self._dirty:
            return max(0.0, self.min_snapshot - (now - self._last_snapshot))
        return max(0.0, min(self.progress_every - (now - self._last_push),
                            self.full_every - (now - self._last_snapshot)))

    def _push(self) -> None:
        """Ask the engine for a snapshot, or only for ``Progress`` when nothing but runs
        changed lately (see the module docstring)."""
        now = time.monotonic()
        whole = self._asked or self._dirty or now - self._last_snapshot >= self.full_every
        self._asked = False
        self._last_push = now
        engine = self.host.engine
        ready = engine is not None and engine.ready.is_set() and not engine.done.is_set()
        with self._lock:
            ran, self._ran = self._ran, set()
            if whole:
                # No engine (restarting, stopping): try again after ``min_snapshot``.
                self._dirty = not ready
        # A run's end is decided on at the engine's next tick: its new wake-up may come
        # after this ``Progress``, so the tasks of the last one are asked for again.
        ran, self._ran_before = ran | self._ran_before, ran
        if engine is None or not ready:
            return
        self._in_flight = True
        # Built on the engine thread, encoded on this one at the next flush.
        if whole:
            self._last_snapshot = now
            self._snapshot(engine, None).add_done_callback(partial(self._on_built, at_once=True))
        else:
            engine.call(lambda: p.Progress(engine.clock.time(), {
                name: engine.next_wake(name) for name in ran})).add_done_callback(self._on_built)

    def _deliver(self, fut: Future[tuple[Snapshot, int] | p.Progress]) -> None:
        self._in_flight = False
        if fut.cancelled() or fut.exception() is not None:
            with self._lock:
                self._dirty = True
            return
        built = fut.result()
        subscribers = [x for x in self._peers if x.subscribed]
        if isinstance(built, p.Progress):  # in the stream, after the events it follows
            data = p.encode(built)
            for peer in subscribers:
                peer.push_events(data)
            return
        data = p.encode(p.SnapshotPush(p.wire_snapshot(*built)))
        for peer in subscribers:
            peer.push_snapshot(data)

    def _snapshot(self, engine: Engine, selected: str | None) -> Future[tuple[Snapshot, int]]:
        """A snapshot and the number of the last event it shows."""
        restarts = self.host.restarts

        def build() -> tuple[Snapshot, int]:  # engine thread: the memo and seed are only used here
            if engine is not self._engine:
                self._engine, self._seed, self._rows = engine, None, {}
            if self._seed is None:
                self._seed = seed_runs(engine)
            with self._lock:
                # Run events are published on this thread: all before this one are in
                # the rows built now, and none after.
                seq = self._seq
            return build_snapshot(engine, selected, self._seed, restarts, self._rows), seq

        return engine.call(build)

    def _drop_stalled(self) -> None:
        now = time.monotonic()
        for peer in list(self._peers):
            if peer.blocked_since is not None and now - peer.blocked_since > self.drop_after:
                self._report(f"dropped a client (pid {peer.pid}) that read nothing for "
                             f"{self.drop_after:.0f} s")
                peer.abort()

    # -- commands ------------------------------------------------------------------------
    async def answer(self, peer: Peer, req: p.Request) -> None:
        """Run one command and send its ``Reply``."""
        try:
            result = await self._execute(req.command)
            reply = p.Reply(req.id, True, result)
        except TaskNotFound as exc:
            reply = p.Reply(req.id, False, error=str(exc), error_kind="unknown_task",
                            suggestions=list(exc.suggestions))
        except EngineGone as exc:
            reply = p.Reply(req.id, False, error=str(exc), error_kind="not_running")
        except TimeoutError:
            reply = p.Reply(req.id, False, error="the scheduler did not answer in time "
                            "(busy with a main task, or stopping)", error_kind="timeout")
        except Exception as exc:  # a broken command never takes the server down
            reply = p.Reply(req.id, False, error=f"{type(exc).__name__}: {exc}", error_kind="error")
        peer.send_reply(reply)

    async def _wait(self, fut: Future[T]) -> T:
        return await asyncio.wait_for(asyncio.wrap_future(fut), self.request_timeout)

    async def _execute(self, cmd: p.Command) -> p.Result | None:
        c = self.control
        if isinstance(cmd, p.Force | p.Disable | p.Enable | p.Terminate):
            c.check_task(cmd.task)
            self._await_effect(cmd.task)
        if isinstance(cmd, p.Force):
            c.force_run(cmd.task)
        elif isinstance(cmd, p.Disable | p.Enable):
            c.set_disabled(cmd.task, isinstance(cmd, p.Disable))
        elif isinstance(cmd, p.Terminate):
            c.terminate(cmd.task)
        elif isinstance(cmd, p.Restart):
            c.restart()
        elif isinstance(cmd, p.Shutdown):
            if self.host.engine is None and not self.host.alive:
                raise EngineGone("the scheduler is not running")
            self.host.shutdown(force=cmd.force)
        elif isinstance(cmd, p.GetSnapshot):
            engine = c.engine()
            if cmd.selected is not None:
                c.check_task(cmd.selected)
            return p.wire_snapshot(*await self._wait(self._snapshot(engine, cmd.selected)))
        elif isinstance(cmd, p.GetHistory):
            runs = await self._wait(c.history(cmd.task, cmd.limit, cmd.before_id))
            return p.HistoryPage(list(runs))
        elif isinstance(cmd, p.GetDetail):
            detail = await self._wait(c.detail(cmd.task))
            if detail is None:
                raise TaskNotFound(cmd.task)
            return p.wire_detail(detail)
        elif isinstance(cmd, p.Explain):
            c.check_task(cmd.task)
            return await self._wait(c.call(lambda e: _explain(e, cmd.task)))
        return None


def _task_of(event: ev.Event) -> str | None:
    """The task an event is about (``None``: none, or log lines)."""
    if isinstance(event, ev.TaskChanged):
        return event.task
    if isinstance(event, (*ROW_EVENTS, ev.RunRecorded)):
        return event.run.task
    return None


def _explain(engine: Engine, task: str) -> p.WireExplanation | None:
    from tui_sched.conditions.explain import explain

    cond = engine.session[task].start_cond
    if cond is None:
        return None
    ctx = engine.context()
    ctx.task = task
    return p.wire_explanation(explain(cond, ctx))


@contextlib.contextmanager
def serving(host: EngineHost, state_dir: Path | None) -> Iterator[ControlServer | None]:
    """Serve the control socket for ``host`` while the block runs (nothing when there is
    no state folder: an in-memory ``App(state_dir=None)``). The caller holds the state
    folder's instance lock."""
    if state_dir is None:
        yield None
        return
    server = ControlServer(host, state_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
