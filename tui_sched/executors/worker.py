"""The process worker: ``python -m tui_sched.executors.worker IN_FD OUT_FD``.

It receives jobs as pickled frames, imports the task's function by reference (file,
qualified name and the source the task loader accepted for the file, so the worker runs
the version the scheduler runs; every import of task code goes through the permission
check, as in the scheduler), runs it and sends back the outcome. ``print`` output is
framed into the same channel so it can never be attributed to the wrong run.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import threading
import traceback
from typing import Any, BinaryIO

# Set in workers so a task module that calls ``app.run()`` at import time does not start
# a scheduler inside the worker.
from tui_sched.executors.worker_env import WORKER_ENV

_HEADER = struct.Struct("!I")



def encode_frame(obj: Any) -> bytes:
    """One length-prefixed pickle frame (raises if ``obj`` does not pickle)."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def write_frame(out: BinaryIO, obj: Any) -> None:
    """Write one length-prefixed pickle frame."""
    out.write(encode_frame(obj))
    out.flush()


def read_frame(inp: BinaryIO) -> Any:
    """Read one frame; ``EOFError`` at end of stream."""
    header = inp.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = inp.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class _FramedStream:
    """``sys.stdout`` replacement that frames text for the current job, a line at a time.

    Line-buffered, as a terminal is: ``print`` writes its text and its newline in two
    calls, and output the task writes to fd 1 meanwhile (read by the host on another
    pipe) must not land between them. A partial line goes out on ``flush()`` and at the
    job's end.
    """

    def __init__(self, name: str, send: Any) -> None:
        self.name = name
        self._send = send
        self._partial = ""
        self.job_id: int | None = None

    def write(self, text: str) -> int:
        cut = text.rfind("\n") + 1
        if cut:
            self._send(("out", self.job_id, self.name, self._partial + text[:cut]))
            self._partial = text[cut:]
        else:
            self._partial += text
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._send(("out", self.job_id, self.name, self._partial))
            self._partial = ""

    def isatty(self) -> bool:
        return False


def _resolve(ref: tuple[Any, ...]) -> Any:
    """The callable a job reference names.

    ``("func", file, qualname, source)``: a function of a module; with the ``source`` the
    task loader accepted (a ``Pinned``: the module and its folder helpers), that version
    runs (the last good one, whatever the files hold now); without it, the file is
    imported as it is (checked as task code if it lies in a tasks folder).
    ``("lazy", path, name)``: a ``path=`` target, always checked.
    ``("code", text)``: a ``code=`` task.
    """
    from pathlib import Path

    from tui_sched.tasks.modules import load_file, load_pinned

    kind = ref[0]
    if kind == "code":
        from tui_sched.tasks.targets import CodeTarget

        return CodeTarget(ref[1]).run
    path, name = ref[1], ref[2]
    source = ref[3] if len(ref) > 3 else None
    if source is not None:
        module = load_pinned(source)
    else:
        if not Path(path).is_file():
            raise FileNotFoundError(f"task file {path} does not exist")
        module = load_file(Path(path), outside=kind == "lazy")
    obj: Any = module
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError(f"{path} has no function {name!r}") from None
    return obj


def _fill_markers(func: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Resolve the marker defaults the scheduler did not (a lazy task's signature is
    only known here): those that make sense in this process, else a clear error."""
    import inspect

    from tui_sched.tasks.args import EnvArg, FuncArg, Marker

    for pname, p in inspect.signature(func).parameters.items():
        marker = p.default
        if not isinstance(marker, Marker) or pname in kwargs:
            continue
        if isinstance(marker, EnvArg):
            kwargs[pname] = marker.resolve()
        elif isinstance(marker, FuncArg):
            kwargs[pname] = marker.func()
        elif marker.in_process_only:
            raise TypeError(
                f"parameter {pname!r} asks for {type(marker).__name__}(), "
                "which a process task cannot have; use execution='thread'"
            )
        else:
            raise TypeError(
                f"parameter {pname!r} asks for {marker!r}, which the worker process "
                "cannot resolve for a task loaded by func_name=/path=; pass it as "
                f"parameters={{{pname!r}: {marker!r}}} instead"
            )
    return kwargs


def _call(func: Any, kwargs: dict[str, Any]) -> Any:
    """Call the task; a coroutine function runs to completion on a private loop."""
    import asyncio
    import inspect

    value = func(**kwargs)
    if inspect.isawaitable(value):

        async def await_it() -> Any:
            return await value

        value = asyncio.run(await_it())
    return value


def die_with_parent() -> None:
    """Ask Linux to kill this worker when the scheduler dies (even by SIGKILL), so a
    crashed scheduler leaves no worker finishing a job nobody will record."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe closing still ends idle workers
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)


def main(in_fd: int, out_fd: int, raw_mark: str = "") -> None:
    """Serve jobs until the input closes.

    After each job, ``raw_mark`` (if given) is written to the raw stdout so the host
    knows that all output written below Python during the job has been read.
    """
    os.environ[WORKER_ENV] = "1"
    die_with_parent()
    # The scheduler's tasks folders and policy: every import of task code here is checked.
    from tui_sched.tasks import trust
    from tui_sched.tasks.modules import guard_imports

    trust.from_environment()
    guard_imports()
    inp = os.fdopen(in_fd, "rb")
    out = os.fdopen(out_fd, "wb")
    # A private copy of the raw stdout: a task that redirects fd 1 cannot swallow the mark.
    raw_fd = os.dup(1)
    mark = raw_mark.encode()
    lock = threading.Lock()

    def send(msg: Any) -> None:
        with lock:
            write_frame(out, msg)

    stdout, stderr = _FramedStream("stdout", send), _FramedStream("stderr", send)
    sys.stdout, sys.stderr = stdout, stderr  # type: ignore[assignment]
    from tui_sched.executors.base import Inaction, TaskTerminationException

    while True:
        try:
            _, job_id, ref, kwargs = read_frame(inp)
        except EOFError:
            return
        stdout.job_id = stderr.job_id = job_id
        try:
            func = _resolve(ref)
            value = func() if ref[0] == "code" else _call(func, _fill_markers(func, kwargs))
            try:
                pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                msg: tuple[Any, ...] = ("done", job_id, "success", value, None, None)
            except Exception as exc:
                msg = ("done", job_id, "fail", None,
                       f"the return value ({type(value).__name__}) could not be sent back "
                       f"from the process: {exc}", None)
        except Inaction:
            msg = ("done", job_id, "inaction", None, None, None)
        except TaskTerminationException as exc:
            msg = ("done", job_id, "terminate", None, str(exc) or "the task terminated itself",
                   None)
        except BaseException as exc:
            error = (f"SystemExit: {exc.code}" if isinstance(exc, SystemExit)
                     else f"{type(exc).__name__}: {exc}")
            msg = ("done", job_id, "fail", None, error,
                   "".join(traceback.format_exception(exc)))
        stdout.flush()
        stderr.flush()
        stdout.job_id = stderr.job_id = None
        if mark:
            try:
                os.write(raw_fd, mark)
            except OSError:
                pass
        send(msg)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:4])
