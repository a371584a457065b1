"""Commands: child processes in their own process group, output streamed line by line."""

from __future__ import annotations

import asyncio
import codecs
import signal
from collections import deque
from collections.abc import Callable, Sequence

from tui_sched.executors import children
from tui_sched.executors.base import Executor, Job, JobResult, race, stopped_result
from tui_sched.executors.children import killpg_quietly
from tui_sched.executors.output import OutputSink
from tui_sched.executors.process import describe_exit
from tui_sched.store.base import Outcome
from tui_sched.tasks.targets import CommandTarget

#: How long output is still read once the command has exited and its group is ended.
#: Only a process that left the group (``setsid``, a daemon) can hold the pipes longer.
DRAIN_AFTER_EXIT = 1.0

#: How long a SIGKILLed command may take to be reaped (uninterruptible sleep) before
#: the run is given up on anyway.
_KILL_WAIT = 5.0

_STREAMS = {1: "stdout", 2: "stderr"}


class _CommandPipes(asyncio.SubprocessProtocol):
    """Output of one command into its sink, and the two moments that matter: the
    command exited (``exited``), and every writer of its pipes did (``closed``).

    asyncio's ``Process.wait()`` waits for both, so a grandchild holding the pipes
    open would hold the run open: the executor waits for each on its own terms.
    """

    def __init__(self, sink: OutputSink, loop: asyncio.AbstractEventLoop) -> None:
        self._sink = sink
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        # Incremental: a character split across two reads is decoded whole.
        self._decoders = {fd: codecs.getincrementaldecoder("utf-8")(errors="replace")
                          for fd in _STREAMS}
        self.err_tail: deque[str] = deque(maxlen=20)
        self._partial = ""

    def _take(self, fd: int, text: str) -> None:
        if not text:
            return
        stream = _STREAMS[fd]
        self._sink.write(stream, text)
        if stream == "stderr":
            *lines, self._partial = (self._partial + text).split("\n")
            self.err_tail.extend(lines)
            self._partial = self._partial[-4096:]

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        decoder = self._decoders.get(fd)
        if decoder is not None and isinstance(data, bytes):  # (none once we stopped reading)
            self._take(fd, decoder.decode(data))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self._flush(fd)
        if not self._decoders and not self.closed.done():
            self.closed.set_result(None)

    def _flush(self, fd: int) -> None:
        decoder = self._decoders.pop(fd, None)
        if decoder is not None:
            self._take(fd, decoder.decode(b"", final=True))

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def stop_reading(self) -> None:
        """Keep what was decoded so far; later output is not read."""
        for fd in list(self._decoders):
            self._flush(fd)
        if self._partial:
            self.err_tail.append(self._partial)
            self._partial = ""


async def _wait(fut: asyncio.Future[None], seconds: float) -> bool:
    """Wait up to ``seconds`` for ``fut``, without cancelling it; whether it is done."""
    try:
        await asyncio.wait_for(asyncio.shield(fut), seconds)
    except TimeoutError:
        return False
    return True


async def _spawn(cmd: str | Sequence[str], pipes: Callable[[], _CommandPipes],
                 ) -> tuple[asyncio.SubprocessTransport, _CommandPipes]:
    """Start ``cmd`` (through the shell if it is a string) in a new session."""
    loop = asyncio.get_running_loop()
    pipe, devnull = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
    if isinstance(cmd, str):
        return await loop.subprocess_shell(pipes, cmd, stdin=devnull, stdout=pipe, stderr=pipe,
                                           start_new_session=True)
    return await loop.subprocess_exec(pipes, *cmd, stdin=devnull, stdout=pipe, stderr=pipe,
                                      start_new_session=True)


class CommandExecutor(Executor):
    """Runs a ``CommandTarget``: a string through the shell, a list without one.

    A non-zero exit is a ``fail`` whose error holds the exit code and the tail of stderr.
    The run ends when the command (the shell, for a string) exits. Its process group
    ends with it, as a systemd service's cgroup does: what it left running in the
    background gets SIGTERM then, and SIGKILL ``DRAIN_AFTER_EXIT`` later. On timeout or
    termination the group gets SIGTERM, then SIGKILL after the grace period. Output is
    read until every writer is gone, or for ``DRAIN_AFTER_EXIT`` at most, so a process
    that left the group (``setsid``) cannot hold the run open.
    """

    async def execute(self, job: Job) -> JobResult:
        assert isinstance(job.target, CommandTarget)
        cmd = job.target.command
        loop = asyncio.get_running_loop()
        try:
            transport, pipes = await _spawn(cmd, lambda: _CommandPipes(job.sink, loop))
        except OSError as exc:
            return JobResult(Outcome.FAIL, None, f"could not start the command: {exc}")
        pgid = transport.get_pid()
        shown = cmd if isinstance(cmd, str) else " ".join(cmd)
        children.track(pgid, f"command of task {job.task!r}: {shown}"[:300])
        try:
            how = await race(job, pipes.exited)
            if how != "done":
                killpg_quietly(pgid, signal.SIGTERM)
                if not await _wait(pipes.exited, job.grace):
                    killpg_quietly(pgid, signal.SIGKILL)
                    await _wait(pipes.exited, _KILL_WAIT)
            else:
                killpg_quietly(pgid, signal.SIGTERM)  # what it left in the background
            await _wait(pipes.closed, DRAIN_AFTER_EXIT)
        finally:
            children.release(pgid)
            transport.close()
            pipes.stop_reading()
        if how != "done":
            return stopped_result(job, how)
        code = transport.get_returncode()
        if code == 0:
            return JobResult(Outcome.SUCCESS, None)
        tail = " | ".join(line.strip() for line in list(pipes.err_tail)[-3:] if line.strip())
        return JobResult(Outcome.FAIL, None, f"command {describe_exit(code)}" + (f": {tail}" if tail else ""))
