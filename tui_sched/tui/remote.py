"""An attached UI: the main screen fed from a scheduler's control socket.

``RemoteFeed`` stands where the embedded UI has its ``Bridge``: it posts the same
``EventBatch`` and ``SnapshotReady`` messages, built from what the socket carries (the
scheduler's own events and snapshots), plus ``Attached``/``Detached`` as the connection
comes and goes; it reconnects by itself. ``RemoteControl`` stands where the embedded UI
has its ``Control``: the same commands, sent over the socket. Both run on the app's
event loop; nothing here blocks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Literal, Protocol

from textual.message import Message

from tui_sched.control import protocol as p
from tui_sched.control.client import ControlClient, ControlRefused, SchedulerNotRunning
from tui_sched.control.live import LiveTable
from tui_sched.engine.snapshot import TaskDetail, TaskRow
from tui_sched.errors import TaskNotFound, TuiSchedError
from tui_sched.store.base import RunRecord
from tui_sched.tui.control import EngineGone
from tui_sched.tui.messages import Attached, Detached, EventBatch, SnapshotReady

#: Seconds between two attempts to reach a scheduler that went away.
RETRY = 1.0
#: Least seconds between two condition explanations asked for the selected task.
EXPLAIN_EVERY = 1.0


class Target(Protocol):
    """The screen: receives messages, shows notifications."""

    def post_message(self, message: Message) -> bool: ...

    def notify(self, message: str, *, title: str = "",
               severity: Literal["information", "warning", "error"] = "information",
               timeout: float | None = None, markup: bool = True) -> None: ...


class RemoteFeed:
    """Keeps a subscribed connection to the scheduler on ``state_dir`` and feeds ``target``.

    Args:
        state_dir: The scheduler's state folder (its ``control.sock``).
        target: The main screen.
    """

    def __init__(self, state_dir: Path, target: Target) -> None:
        self.state_dir = state_dir
        self.target = target
        self.selected: str | None = None
        """The task whose condition is explained (set by the screen)."""
        self.client: ControlClient | None = None
        self.pid: int | None = None
        self.rows: dict[str, TaskRow] = {}
        """The tasks of the latest snapshot (what ``RemoteControl`` checks names against)."""
        self._table = LiveTable()
        self._explained: tuple[str | None, p.WireExplanation | None] = (None, None)
        self._explain_at = 0.0
        self._seen: tuple[int, int] = (0, 0)
        """(scheduler pid, number of the last event shown in the log)."""
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the Feed protocol ---------------------------------------------------------------
    def start(self) -> None:
        """Connect (on the running loop) and keep connected."""
        self._runner = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        """Disconnect."""
        if self._runner is not None:
            self._runner.cancel()
        client = self.client
        if client is not None:
            self.spawn(client.close())

    def refresh(self) -> None:
        """A snapshot with the selected task explained, now."""
        self.spawn(self._fresh_snapshot())

    # -- helpers for RemoteControl -------------------------------------------------------
    def spawn(self, coro: object) -> None:
        """Run a coroutine on the loop, keeping a reference until it ends."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def request(self, command: p.Command) -> p.Reply:
        """Send ``command``; a failure is also shown as a notification.

        Raises:
            EngineGone: Not connected, or the scheduler refused (error in the reply).
        """
        client = self.client
        if client is None:
            raise EngineGone("not connected to the scheduler")
        try:
            reply = await client.request(command, timeout=15)
        except (TuiSchedError, OSError, TimeoutError) as exc:
            raise EngineGone(str(exc) or "the scheduler did not answer") from None
        if not reply.ok:
            raise EngineGone(reply.error or "the scheduler refused")
        return reply

    # -- the connection ------------------------------------------------------------------
    async def _run(self) -> None:
        said_gone = False
        while True:
            try:
                client = await ControlClient.connect(self.state_dir, client="attach", subscribe=True)
            except SchedulerNotRunning as exc:
                if not said_gone:
                    self.target.post_message(Detached(str(exc), retrying=True))
                    said_gone = True
                await asyncio.sleep(RETRY)
                continue
            except ControlRefused as exc:
                self.target.post_message(Detached(str(exc), retrying=False))
                return
            said_gone = False
            self.client, self.pid = client, client.welcome.pid
            self._table = LiveTable()  # the scheduler sends a snapshot: start from it
            self.target.post_message(Attached(client.welcome.pid))
            self.refresh()
            try:
                await self._receive(client)
            finally:
                self.client = None
                with contextlib.suppress(Exception):
                    await client.close()
            self.target.post_message(Detached(client.closed or "the scheduler went away", retrying=True))
            said_gone = True
            await asyncio.sleep(RETRY)

    async def _receive(self, client: ControlClient) -> None:
        pid = client.welcome.pid
        while (msg := await client.receive()) is not None:
            if isinstance(msg, p.Events):
                events = [p.event_of(w) for w in msg.events]
                # After a reconnect the scheduler replays its recent events: skip those
                # this UI has shown already (numbered anew by a new scheduler process).
                shown = self._seen[1] if self._seen[0] == pid else 0
                fresh = [e for i, e in enumerate(events, msg.seq) if i > shown and e is not None]
                self._seen = (pid, max(shown, msg.seq + len(events) - 1))
                if fresh:
                    self.target.post_message(EventBatch(fresh))
                if self._table.add_events(msg.seq, events):
                    self._show()
            elif isinstance(msg, p.SnapshotPush):
                self._table.rebase(p.snapshot_of(msg.snapshot), msg.snapshot.seq)
                self._show()
            elif isinstance(msg, p.Progress):
                if self._table.progress(msg.at, msg.wakes) is not None:
                    self._show()
                if self.selected is not None and time.monotonic() - self._explain_at > EXPLAIN_EVERY:
                    self.spawn(self._explain(self.selected))

    def _show(self) -> None:
        """Post the table with the selected task's latest explanation."""
        snap = self._table.snapshot
        if snap is None:
            return
        name, wire = self._explained
        if self.selected is not None and name == self.selected:  # the latest explanation
            snap = dataclasses.replace(snap, selected=name,
                                       explanation=None if wire is None else p.explanation_of(wire))
        self.rows = {r.name: r for r in snap.rows}
        self.target.post_message(SnapshotReady(snap))

    async def _explain(self, name: str) -> None:
        self._explain_at = time.monotonic()
        with contextlib.suppress(EngineGone):
            reply = await self.request(p.Explain(name))
            if isinstance(reply.result, p.WireExplanation | None):
                self._explained = (name, reply.result)
                if self.selected == name:
                    self._show()

    async def _fresh_snapshot(self) -> None:
        selected = self.selected
        with contextlib.suppress(EngineGone):
            reply = await self.request(p.GetSnapshot(selected if selected in self.rows else None))
            if isinstance(reply.result, p.WireSnapshot):
                wire = reply.result
                self._explained = (wire.selected, wire.explanation)
                self._explain_at = time.monotonic()
                self._table.rebase(p.snapshot_of(wire), wire.seq)
                self._show()


class RemoteControl:
    """The keys' commands, sent to an attached scheduler (fits ``tui.control.Commands``).

    Commands return at once; a refusal arrives later as a notification on the screen.
    """

    def __init__(self, feed: RemoteFeed) -> None:
        self.feed = feed
        self.shutdown_requested = False

    def _row(self, task: str) -> TaskRow:
        if self.feed.client is None:
            raise EngineGone("not connected to the scheduler")
        row = self.feed.rows.get(task)
        if row is None:
            raise TaskNotFound(task, self.feed.rows)
        return row

    def _send(self, command: p.Command) -> None:
        async def send() -> None:
            try:
                await self.feed.request(command)
            except EngineGone as exc:
                self.feed.target.notify(str(exc), severity="warning")

        self.feed.spawn(send())

    def force_run(self, task: str) -> None:
        self._row(task)
        self._send(p.Force(task))

    def toggle_disabled(self, task: str) -> bool:
        disabled = not self._row(task).disabled
        self._send(p.Disable(task) if disabled else p.Enable(task))
        return disabled

    def is_running(self, task: str) -> bool:
        return self._row(task).running_since is not None

    def terminate(self, task: str) -> None:
        self._row(task)
        self._send(p.Terminate(task))

    def restart(self) -> None:
        if self.feed.client is None:
            raise EngineGone("not connected to the scheduler")
        self._send(p.Restart())

    def shutdown(self) -> bool:
        """Stop the scheduler for everyone; called again, terminate running runs."""
        force = self.shutdown_requested
        self.shutdown_requested = True
        self._send(p.Shutdown(force=force))
        return force

    def detail(self, task: str) -> asyncio.Future[TaskDetail | None]:
        async def get() -> TaskDetail | None:
            reply = await self.feed.request(p.GetDetail(task))
            return p.detail_of(reply.result) if isinstance(reply.result, p.WireDetail) else None

        return asyncio.ensure_future(get())

    def history(self, task: str | None, limit: int,
                before_id: int | None) -> asyncio.Future[list[RunRecord]]:
        async def get() -> list[RunRecord]:
            reply = await self.feed.request(p.GetHistory(task, limit, before_id))
            return list(reply.result.runs) if isinstance(reply.result, p.HistoryPage) else []

        return asyncio.ensure_future(get())


__all__ = ["RemoteControl", "RemoteFeed"]
