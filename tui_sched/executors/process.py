"""``process`` executor: a warm pool of worker processes.

Each worker runs one job at a time in its own process group. A timed-out or terminated
run kills only its worker (the whole group: SIGTERM, then SIGKILL after the grace), which
is then replaced. A worker that dies mid-run (``os._exit``, segfault) makes that run a
``crash``; the scheduler carries on.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import pickle
import secrets
import signal
import subprocess
import sys
import threading
from collections import deque
from typing import Any

from tui_sched.executors import children
from tui_sched.executors.base import Executor, Job, JobResult, race, stopped_result
from tui_sched.executors.worker import encode_frame, read_frame
from tui_sched.store.base import Outcome
from tui_sched.tasks.targets import CodeTarget, FuncTarget, LazyFuncTarget

# Not `-m`: the package would already have imported the worker module (runpy warns).
_BOOT = ("import sys; from tui_sched.executors.worker import main; "
         "main(int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:4])")

#: How long a finished job waits for the output its process wrote below Python.
_RAW_DRAIN_TIMEOUT = 2.0

_Pending = tuple[Job, asyncio.Future[JobResult], asyncio.AbstractEventLoop]


def describe_exit(code: int | None) -> str:
    """``exited with code 3`` / ``killed by SIGSEGV``."""
    if code is None:
        return "died"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _set_once(fut: asyncio.Future[JobResult], result: JobResult) -> None:
    if not fut.done():
        fut.set_result(result)


class _Worker:
    """One worker process and the two threads that read from it."""

    def __init__(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Written to the raw stdout after each job: output before it belongs to that job.
        self._mark = f"<<tui-sched-end-{secrets.token_hex(8)}>>".encode()
        self._raw_drained = threading.Event()
        self._raw_drained.set()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(to_child_r), str(from_child_w),
             self._mark.decode()],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        children.track(self.proc.pid, "process worker")
        os.close(to_child_r)
        os.close(from_child_w)
        self._to_child = os.fdopen(to_child_w, "wb")
        self._from_child = os.fdopen(from_child_r, "rb")
        self._lock = threading.Lock()
        self.pending: _Pending | None = None
        self.dead = False
        threading.Thread(target=self._read_frames, daemon=True, name="tui-sched-worker-rx").start()
        threading.Thread(target=self._read_raw, daemon=True, name="tui-sched-worker-out").start()

    def send(self, job: Job, fut: asyncio.Future[JobResult], ref: tuple[Any, ...]) -> None:
        # Pickle first: arguments that cannot be sent leave the worker untouched.
        data = encode_frame(("run", job.run_id, ref, job.kwargs))
        with self._lock:
            self.pending = (job, fut, asyncio.get_running_loop())
            self._raw_drained.clear()
        self._to_child.write(data)
        self._to_child.flush()

    def _settle(self, result: JobResult) -> None:
        with self._lock:
            pending, self.pending = self.pending, None
        if pending is None:
            return
        _, fut, loop = pending
        try:
            loop.call_soon_threadsafe(_set_once, fut, result)
        except RuntimeError:
            pass

    def _read_frames(self) -> None:
        try:
            while True:
                msg = read_frame(self._from_child)
                pending = self.pending
                if msg[0] == "out":
                    if pending is not None and pending[0].run_id == msg[1]:
                        pending[0].sink.write(msg[2], msg[3])
                elif msg[0] == "done":
                    _, _, outcome, value, error, tb = msg
                    # The worker wrote its end mark to the raw stdout before this frame:
                    # wait until that output has been read, so it lands in this run.
                    self._raw_drained.wait(_RAW_DRAIN_TIMEOUT)
                    # Summarised on this reader thread, not on the scheduler loop.
                    self._settle(JobResult(Outcome(outcome), value, error, tb).with_summary())
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        self.dead = True
        code = self.proc.wait()
        children.release(self.proc.pid)  # what a task left running in its group
        # Its last output (a fatal error message, say) still belongs to the run.
        self._raw_drained.wait(_RAW_DRAIN_TIMEOUT)
        self._settle(JobResult(Outcome.CRASH, None, f"the worker process {describe_exit(code)}"))

    def _read_raw(self) -> None:
        # Output written below Python (C code, child processes) arrives here, followed
        # by the worker's end mark after each job.
        assert self.proc.stdout is not None
        mark = self._mark
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        buf = b""

        def emit(data: bytes, final: bool = False) -> None:
            text = decoder.decode(data, final)
            pending = self.pending
            if text and pending is not None:
                pending[0].sink.write("stdout", text)

        try:
            for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):  # type: ignore[union-attr,attr-defined]
                buf += chunk
                while (i := buf.find(mark)) >= 0:
                    emit(buf[:i], final=True)
                    decoder.reset()
                    buf = buf[i + len(mark):]
                    self._raw_drained.set()
                # Hold back only what could be the start of a mark split across reads.
                keep = next((n for n in range(min(len(mark) - 1, len(buf)), 0, -1)
                             if mark.startswith(buf[-n:])), 0)
                emit(buf[:len(buf) - keep])
                buf = buf[len(buf) - keep:]
        except (OSError, ValueError):
            pass
        self._raw_drained.set()

    def kill(self, grace: float) -> None:
        """Terminate the worker's process group (blocking up to ``grace`` seconds)."""
        self.dead = True
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        children.release(self.proc.pid)  # grandchildren that outlived the leader

    def close(self) -> None:
        """Ask an idle worker to exit (closing its input ends its loop)."""
        self.dead = True
        try:
            self._to_child.close()
        except OSError:
            pass


def reference(job: Job) -> tuple[Any, ...]:
    """How a worker finds the target: by file and name, never by pickling the function."""
    target = job.target
    if isinstance(target, FuncTarget):
        return ("func", target.file, target.qualname, target.source)
    if isinstance(target, LazyFuncTarget):
        return ("lazy", target.path, target.func_name)
    if isinstance(target, CodeTarget):
        return ("code", target.code)
    raise TypeError(f"a process worker cannot run {target!r}")


class ProcessExecutor(Executor):
    """Runs jobs on up to ``size`` warm worker processes.

    Args:
        size: Maximum number of workers (and so of concurrent process runs).
    """

    def __init__(self, size: int | None = None) -> None:
        self.size = size or max(2, os.cpu_count() or 2)
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._free = self.size
        self._queue: deque[asyncio.Future[None]] = deque()
        """Runs waiting for a worker slot, first come first served."""

    async def execute(self, job: Job) -> JobResult:
        if not await self._take_slot(job):
            # Terminated while it waited: it never reached a worker, so none is touched.
            return JobResult.terminated(job.stop_reason or "terminated")
        try:
            return await self._run_on_worker(job)
        finally:
            self._give_slot()

    async def _take_slot(self, job: Job) -> bool:
        """Wait for a free worker slot; ``False`` if the run was terminated first."""
        if job.stop_reason is not None:
            return False
        if self._free > 0 and not self._queue:
            self._free -= 1
            return True
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)

        def terminated() -> None:
            if not turn.done():
                turn.cancel()

        job._on_stop = terminated  # ``Job.terminate`` calls it (then ``race`` takes over)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.cancelled() and job.stop_reason is not None:
                return False  # our turn was withdrawn: the slot was never ours
            if turn.done() and not turn.cancelled():
                self._give_slot()  # the engine itself was cancelled as the slot came
            raise
        finally:
            job._on_stop = None
            if not turn.done():
                turn.cancel()
        return True

    def _give_slot(self) -> None:
        """Hand a finished run's slot to the first run still waiting, or free it."""
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1

    async def _run_on_worker(self, job: Job) -> JobResult:
        loop = asyncio.get_running_loop()
        worker = None
        while self._idle:
            candidate = self._idle.pop()
            if not candidate.dead:
                worker = candidate
                break
            self._all.discard(candidate)
        if worker is None:
            worker = await loop.run_in_executor(None, _Worker)
            self._all.add(worker)
        if job.stop_reason is not None:
            # Terminated while its slot was handed over or its worker started: the run
            # never began, so the worker stays as it is.
            self._idle.append(worker)
            return JobResult.terminated(job.stop_reason)
        fut: asyncio.Future[JobResult] = loop.create_future()
        try:
            worker.send(job, fut, reference(job))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            self._idle.append(worker)
            return JobResult(Outcome.FAIL, None, f"the arguments could not be sent to the process: {exc}")
        except OSError:
            self._all.discard(worker)
            return JobResult(Outcome.CRASH, None, "the worker process was gone")
        how = await race(job, fut)
        if how == "done":
            result = fut.result()
            if worker.dead:
                self._all.discard(worker)
            else:
                self._idle.append(worker)
            return result
        await loop.run_in_executor(None, worker.kill, job.grace)
        self._all.discard(worker)
        return stopped_result(job, how)

    async def aclose(self) -> None:
        for worker in list(self._all):
            worker.close()
        loop = asyncio.get_running_loop()
        for worker in list(self._all):
            try:
                await loop.run_in_executor(None, worker.proc.wait, 2.0)
                children.release(worker.proc.pid)
            except subprocess.TimeoutExpired:
                await loop.run_in_executor(None, worker.kill, 0.5)
        self._all.clear()
        self._idle.clear()
