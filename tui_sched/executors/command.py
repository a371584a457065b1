"""Commands: child processes in their own process group, output streamed line by line."""

from __future__ import annotations

import asyncio
import codecs
import os
import signal
from collections import deque

from tui_sched.executors.base import Executor, Job, JobResult, race, stopped_result
from tui_sched.executors.process import describe_exit
from tui_sched.store.base import Outcome
from tui_sched.tasks.targets import CommandTarget


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class CommandExecutor(Executor):
    """Runs a ``CommandTarget``: a string through the shell, a list without one.

    A non-zero exit is a ``fail`` whose error holds the exit code and the tail of stderr.
    On timeout or termination the whole process group gets SIGTERM, then SIGKILL after
    the grace period, so grandchildren do not outlive the run.
    """

    async def execute(self, job: Job) -> JobResult:
        assert isinstance(job.target, CommandTarget)
        cmd = job.target.command
        pipe = asyncio.subprocess.PIPE
        try:
            if isinstance(cmd, str):
                proc = await asyncio.create_subprocess_shell(
                    cmd, stdin=asyncio.subprocess.DEVNULL, stdout=pipe, stderr=pipe,
                    start_new_session=True)
            else:
                proc = await asyncio.create_subprocess_exec(
                    *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=pipe, stderr=pipe,
                    start_new_session=True)
        except OSError as exc:
            return JobResult(Outcome.FAIL, None, f"could not start the command: {exc}")
        err_tail: deque[str] = deque(maxlen=20)

        async def pump(reader: asyncio.StreamReader | None, stream: str) -> None:
            assert reader is not None
            # Incremental: a character split across two reads is decoded whole.
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            partial = ""

            def take(text: str) -> None:
                nonlocal partial
                job.sink.write(stream, text)
                if stream == "stderr":
                    *lines, partial = (partial + text).split("\n")
                    err_tail.extend(lines)
                    partial = partial[-4096:]

            while chunk := await reader.read(65536):
                take(decoder.decode(chunk))
            take(decoder.decode(b"", final=True))
            if partial:
                err_tail.append(partial)

        pumps = asyncio.gather(pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr"))
        waiter = asyncio.ensure_future(proc.wait())
        how = await race(job, waiter)
        if how != "done":
            _killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), job.grace)
            except TimeoutError:
                _killpg(proc.pid, signal.SIGKILL)
                await waiter
            _killpg(proc.pid, signal.SIGKILL)  # stragglers in the group
            pumps.cancel()
            try:
                await pumps
            except BaseException:
                pass
            return stopped_result(job, how)
        try:
            await asyncio.wait_for(pumps, 5.0)
        except TimeoutError:  # a grandchild holds the pipes open; don't wait for it
            pumps.cancel()
        code = waiter.result()
        if code == 0:
            return JobResult(Outcome.SUCCESS, None)
        tail = " | ".join(line.strip() for line in list(err_tail)[-3:] if line.strip())
        return JobResult(Outcome.FAIL, None, f"command {describe_exit(code)}" + (f": {tail}" if tail else ""))
