"""Child processes of a dask worker: ``dask_isolate=True`` runs the call in one, so that
a timeout or termination can stop it (a call on a worker thread cannot be interrupted);
a command task on dask always runs as one.

The worker thread starts the child in its own process group, hands it the run, and
watches the dask task meanwhile: once the scheduler has cancelled it (the run timed out
or was terminated), the group gets SIGTERM, then SIGKILL after the grace period.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import subprocess
import sys
import time
from typing import Any

from tui_sched.executors.children import killpg_quietly
from tui_sched.executors.process import describe_exit

_BOOT = ("import sys; from tui_sched.executors.dask_isolate import child_main; "
         "child_main(int(sys.argv[1]))")

#: How often the worker thread looks whether its dask task was cancelled.
_POLL = 0.05

#: Worker-side states of a task the scheduler no longer wants.
_DROPPED = frozenset({"cancelled", "released", "forgotten"})


def child_main(result_fd: int) -> None:
    """In the child: read the run from stdin, run it, write the result to ``result_fd``."""
    from tui_sched.executors.dask_worker import run_remote

    ref, kwargs, tail_chars = pickle.load(sys.stdin.buffer)
    result = run_remote(ref, kwargs, tail_chars)
    with os.fdopen(result_fd, "wb") as out:
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)


def _still_wanted() -> bool:
    """Whether the scheduler still wants the dask task this thread runs."""
    try:
        from distributed.utils import thread_state  # type: ignore[attr-defined]
        from distributed.worker import get_worker

        task = get_worker().state.tasks.get(thread_state.key)
    except (ValueError, AttributeError):  # not on a dask worker thread (tests, a script)
        return True
    return task is not None and task.state not in _DROPPED


def run_isolated(ref: tuple[Any, ...], kwargs: dict[str, Any], tail_chars: int,
                 grace: float) -> tuple[Any, ...]:
    """``run_remote`` in a child process, stopped if the dask task is cancelled. Its
    ``ran_for`` counts from here: starting the child is part of the run."""
    began = time.perf_counter()
    read_fd, write_fd = os.pipe()
    try:
        child = subprocess.Popen([sys.executable, "-c", _BOOT, str(write_fd)],
                                 stdin=subprocess.PIPE, pass_fds=(write_fd,),
                                 start_new_session=True)
    finally:
        os.close(write_fd)
    try:
        assert child.stdin is not None
        child.stdin.write(pickle.dumps((ref, kwargs, tail_chars), protocol=pickle.HIGHEST_PROTOCOL))
        child.stdin.close()
        data = bytearray()
        # Read as it comes (a large result must not fill the pipe and hold the child),
        # looking meanwhile whether the run is still wanted.
        while True:
            if select.select([read_fd], [], [], _POLL)[0]:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:  # the child has gone
                    break
                data += chunk
            elif not _still_wanted():
                _stop(child, grace)
                return ("terminate", None, "cancelled: the isolated process was killed",
                        None, [], time.perf_counter() - began)
    finally:
        os.close(read_fd)
    code = child.wait()
    try:
        return (*tuple(pickle.loads(data))[:5], time.perf_counter() - began)
    except (EOFError, pickle.UnpicklingError):
        return ("crash", None, f"the isolated process {describe_exit(code)}", None, [],
                time.perf_counter() - began)


def _stop(child: subprocess.Popen[bytes], grace: float) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        killpg_quietly(child.pid, sig)
        try:
            child.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_command(command: str | tuple[str, ...], tail_chars: int, grace: float) -> tuple[Any, ...]:
    """A command task on this worker (a string through the shell), in its own process
    group, stopped once the dask task is cancelled; its output comes back with the run."""
    from tui_sched.executors.dask_worker import _tail

    began = time.perf_counter()
    try:
        child = subprocess.Popen(command, shell=isinstance(command, str),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        return ("fail", None, f"could not start the command: {exc}", None, [],
                time.perf_counter() - began)
    assert child.stdout is not None and child.stderr is not None
    streams = {child.stdout.fileno(): "stdout", child.stderr.fileno(): "stderr"}
    chunks: list[tuple[str, str]] = []
    open_fds = set(streams)
    while open_fds:
        ready = select.select(list(open_fds), [], [], _POLL)[0]
        for fd in ready:
            data = os.read(fd, 1 << 16)
            if data:
                chunks.append((streams[fd], data.decode(errors="replace")))
            else:
                open_fds.discard(fd)
        if not ready and not _still_wanted():
            _stop(child, grace)
            return ("terminate", None, "cancelled: the command was killed", None,
                    _tail(chunks, tail_chars), time.perf_counter() - began)
    code = child.wait()
    killpg_quietly(child.pid, signal.SIGTERM)  # what it left in the background
    child.stdout.close()
    child.stderr.close()
    ran_for = time.perf_counter() - began
    if code == 0:
        return ("success", None, None, None, _tail(chunks, tail_chars), ran_for)
    err = "".join(text for stream, text in chunks if stream == "stderr").strip().splitlines()
    tail = " | ".join(line.strip() for line in err[-3:] if line.strip())
    return ("fail", None, f"command {describe_exit(code)}" + (f": {tail}" if tail else ""),
            None, _tail(chunks, tail_chars), ran_for)
