"""The control socket's client (for ``tui-sched ctl`` and ``tui-sched attach``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from pathlib import Path

import msgspec

from tui_sched.control import protocol as p
from tui_sched.control.unix import reachable
from tui_sched.errors import TuiSchedError


class SchedulerNotRunning(TuiSchedError):
    """No scheduler serves the state folder."""


class ControlRefused(TuiSchedError):
    """The scheduler refused the connection (protocol mismatch, another user)."""


class ControlClosed(TuiSchedError):
    """The scheduler closed the connection (it stopped, or dropped this client)."""


class ControlClient:
    """One connection to a scheduler's control socket.

    Make it with ``await ControlClient.connect(state_dir)``; ``request`` sends a command
    and returns its ``Reply``; a subscribed client reads the pushed ``Events``,
    ``SnapshotPush``, ``Resync`` and ``Goodbye`` messages with ``receive``.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 welcome: p.Welcome, inbox: int) -> None:
        self.welcome = welcome
        """The server's greeting (its ``pid``, ``state_dir``, engine state)."""
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[p.Reply]] = {}
        # Bounded: a consumer that stops reading stops this reader too, and the
        # server's back-pressure takes over.
        self._inbox: asyncio.Queue[p.ServerMessage | None] = asyncio.Queue(inbox)
        self._closed: str | None = None
        self._reading = asyncio.create_task(self._read_loop())

    @classmethod
    async def connect(cls, state_dir: Path, *, client: str = "ctl", subscribe: bool = False,
                      timeout: float = 5.0, inbox: int = 1000) -> ControlClient:
        """Connect and shake hands.

        Raises:
            SchedulerNotRunning: No socket, or nobody listens on it (a killed scheduler's).
            ControlRefused: The scheduler refused (another protocol version, another user).
        """
        path = state_dir / p.SOCKET_FILE
        try:
            with reachable(path) as name:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(name, limit=p.MAX_LINE), timeout)
        except (FileNotFoundError, NotADirectoryError):
            raise SchedulerNotRunning(f"no scheduler is running on {state_dir} "
                                      f"(no {p.SOCKET_FILE}; start one with `tui-sched run`)") from None
        except ConnectionRefusedError:
            raise SchedulerNotRunning(
                f"no scheduler is running on {state_dir} (its {p.SOCKET_FILE} is left from "
                "a scheduler that was killed; the next start removes it)") from None
        except PermissionError:
            raise ControlRefused(f"permission denied on {path}: only the user running the "
                                 "scheduler, and root, may control it") from None
        try:
            writer.write(p.encode(p.Hello(p.PROTOCOL_VERSION, client, subscribe)))
            line = await asyncio.wait_for(reader.readline(), timeout)
            first = p.decode_server(line) if line else None
        except (TimeoutError, OSError, ValueError, msgspec.MsgspecError) as exc:
            writer.close()
            raise ControlRefused(f"the scheduler on {state_dir} did not complete the "
                                 f"handshake ({type(exc).__name__}: {exc})") from None
        if isinstance(first, p.Rejected):
            writer.close()
            raise ControlRefused(first.message)
        if not isinstance(first, p.Welcome) or first.version != p.PROTOCOL_VERSION:
            writer.close()
            theirs = first.version if isinstance(first, p.Welcome) else "unknown"
            raise ControlRefused(
                f"control protocol mismatch: this tui-sched speaks version "
                f"{p.PROTOCOL_VERSION}, the scheduler on {state_dir} version {theirs}; "
                "use the same tui-sched version for both")
        return cls(reader, writer, first, inbox)

    async def request(self, command: p.Command, timeout: float = 30.0) -> p.Reply:
        """Send ``command`` and wait for its reply.

        Raises:
            ControlClosed: The connection closed first.
            TimeoutError: No reply within ``timeout``.
        """
        if self._closed is not None:
            raise ControlClosed(self._closed)
        rid = next(self._ids)
        fut: asyncio.Future[p.Reply] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        try:
            self._writer.write(p.encode(p.Request(rid, command)))
            await self._writer.drain()
            return await asyncio.wait_for(fut, timeout)
        except (ConnectionError, BrokenPipeError):
            raise ControlClosed(self._closed or "the scheduler closed the connection") from None
        finally:
            self._waiting.pop(rid, None)

    async def receive(self) -> p.ServerMessage | None:
        """The next pushed message (``None``: the connection has closed)."""
        if self._closed is not None and self._inbox.empty():
            return None
        return await self._inbox.get()

    @property
    def closed(self) -> str | None:
        """Why the connection closed (``None`` while open)."""
        return self._closed

    async def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait until the server closes the connection; ``True`` if it did."""
        try:
            await asyncio.wait_for(asyncio.shield(self._reading), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Close the connection."""
        self._reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reading
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    async def _read_loop(self) -> None:
        reason = "the scheduler closed the connection"
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                msg = p.decode_server(line)
                if isinstance(msg, p.Reply):
                    fut = self._waiting.get(msg.id)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                    continue
                if isinstance(msg, p.Goodbye):
                    reason = msg.reason
                await self._inbox.put(msg)
        except (OSError, ValueError, msgspec.MsgspecError) as exc:
            reason = f"the connection to the scheduler broke ({exc})"
        finally:
            self._closed = reason
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(ControlClosed(reason))
            with contextlib.suppress(asyncio.QueueFull):
                self._inbox.put_nowait(None)


def probe(state_dir: Path, timeout: float = 5.0) -> p.Welcome:
    """Connect, shake hands and hang up: who serves ``state_dir``.

    Raises:
        SchedulerNotRunning: Nobody does.
        ControlRefused: The scheduler refused this client.
    """
    async def hello() -> p.Welcome:
        client = await ControlClient.connect(state_dir, client="probe", timeout=timeout)
        await client.close()
        return client.welcome

    return asyncio.run(hello())
