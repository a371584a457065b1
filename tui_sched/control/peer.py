"""One client of the control socket: its reader, its writer and its outgoing queues.

Replies go out first, then the latest snapshot (a newer one replaces an unsent one), then
events; the events waiting for a client are bounded in bytes (``ControlServer.max_queued``),
and a client that falls behind is resynchronised instead of holding anything up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import TYPE_CHECKING

import msgspec

from tui_sched.control import protocol as p

if TYPE_CHECKING:
    from tui_sched.control.server import ControlServer


class Peer:
    """One connected client: its reader, its writer and its outgoing queues."""

    def __init__(self, server: ControlServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, pid: int) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.pid = pid
        self.subscribed = False
        self.since = 0
        """Sequence number of the last event it got with the recent ones."""
        self.blocked_since: float | None = None
        self.finished = asyncio.Event()
        self._replies: deque[bytes] = deque()
        self._events: deque[bytes] = deque()
        self._queued = 0
        self._snapshot: bytes | None = None
        self._ready = asyncio.Event()
        self._closing = False
        self._requests = asyncio.Semaphore(32)
        self._tasks: set[asyncio.Task[None]] = set()

    def send_reply(self, message: p.Welcome | p.Reply | p.Goodbye) -> None:
        self._replies.append(p.encode(message))
        self._ready.set()

    def push_events(self, data: bytes) -> None:
        if self._queued + len(data) > self.server.max_queued and self._events:
            dropped = len(self._events)
            self._events.clear()
            self._events.append(p.encode(p.Resync(dropped)))
            self._queued = len(self._events[0])
            self.server.ask_snapshot()
        self._events.append(data)
        self._queued += len(data)
        self._ready.set()

    def push_snapshot(self, data: bytes) -> None:
        self._snapshot = data  # replaces an unsent older one
        self._ready.set()

    def close(self, reason: str) -> None:
        self.send_reply(p.Goodbye(reason))
        self._closing = True
        self._ready.set()

    def abort(self) -> None:
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()
        self.finished.set()

    async def reject(self, message: str) -> None:
        with contextlib.suppress(OSError, TimeoutError):
            self.writer.write(p.encode(p.Rejected(p.PROTOCOL_VERSION, message)))
            await asyncio.wait_for(self.writer.drain(), 2)
            # Wait (briefly) for the client to hang up after reading it: a Unix socket
            # closed with the client's unread hello in it resets the connection, and the
            # client would see a reset instead of this message.
            await asyncio.wait_for(self._discard_until_eof(), 2)
        self.abort()

    async def _discard_until_eof(self) -> None:
        while await self.reader.read(1 << 16):
            pass

    async def serve(self) -> None:
        writing = asyncio.create_task(self._write_loop())
        try:
            await self._read_loop()
        finally:
            self._closing = True
            self._ready.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writing, 2)
            self.abort()

    async def _read_loop(self) -> None:
        while not self._closing:
            try:
                line = await self.reader.readline()
            except (ValueError, OSError):  # a line over the limit, a reset connection
                return
            if not line:
                return
            try:
                msg = p.decode_client(line)
            except msgspec.MsgspecError as exc:
                self.send_reply(p.Reply(-1, False, error=f"bad request: {exc}", error_kind="bad_request"))
                continue
            if isinstance(msg, p.Request):
                await self._requests.acquire()  # at most 32 in flight: then stop reading
                task = asyncio.create_task(self._answer(msg))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _answer(self, req: p.Request) -> None:
        try:
            await self.server.answer(self, req)
        finally:
            self._requests.release()

    def _next(self) -> bytes | None:
        if self._replies:
            return self._replies.popleft()
        if self._snapshot is not None:
            data, self._snapshot = self._snapshot, None
            return data
        if self._events:
            data = self._events.popleft()
            self._queued -= len(data)
            return data
        return None

    async def _write_loop(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                while (data := self._next()) is not None:
                    self.writer.write(data)
                    self.blocked_since = time.monotonic()
                    await self.writer.drain()
                    self.blocked_since = None
                if self._closing:
                    with contextlib.suppress(OSError):
                        self.writer.close()
                    return
        except (ConnectionError, OSError):
            return
        finally:
            self.finished.set()
