"""The process worker: ``python -m tui_sched.executors.worker IN_FD OUT_FD``.

It receives jobs as pickled frames, imports the task's function by reference (file and
qualified name, re-imported when the file changes, so hot reloads reach warm workers),
runs it and sends back the outcome. ``print`` output is framed into the same channel so
it can never be attributed to the wrong run.
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



def write_frame(out: BinaryIO, obj: Any) -> None:
    """Write one length-prefixed pickle frame."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(data)) + data)
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
    """``sys.stdout`` replacement that frames text for the current job."""

    def __init__(self, name: str, send: Any) -> None:
        self.name = name
        self._send = send
        self.job_id: int | None = None

    def write(self, text: str) -> int:
        if text:
            self._send(("out", self.job_id, self.name, text))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _resolve(ref: tuple[Any, ...]) -> Any:
    from pathlib import Path

    from tui_sched.tasks.modules import load_file

    kind = ref[0]
    if kind == "code":
        from tui_sched.tasks.targets import CodeTarget

        return CodeTarget(ref[1]).run
    path, name = ref[1], ref[2]
    module = load_file(Path(path))
    obj: Any = module
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def main(in_fd: int, out_fd: int) -> None:
    """Serve jobs until the input closes."""
    os.environ[WORKER_ENV] = "1"
    inp = os.fdopen(in_fd, "rb")
    out = os.fdopen(out_fd, "wb")
    lock = threading.Lock()

    def send(msg: Any) -> None:
        with lock:
            write_frame(out, msg)

    stdout, stderr = _FramedStream("stdout", send), _FramedStream("stderr", send)
    sys.stdout, sys.stderr = stdout, stderr  # type: ignore[assignment]
    from tui_sched.executors.base import Inaction
    from tui_sched.tasks.args import Marker

    while True:
        try:
            _, job_id, ref, kwargs = read_frame(inp)
        except EOFError:
            return
        stdout.job_id = stderr.job_id = job_id
        try:
            func = _resolve(ref)
            if ref[0] != "code":
                import inspect

                for pname, p in inspect.signature(func).parameters.items():
                    if isinstance(p.default, Marker) and pname not in kwargs:
                        raise TypeError(
                            f"parameter {pname!r} asks for {type(p.default).__name__}(), "
                            "which a process task cannot have; use execution='thread'"
                        )
            value = func(**kwargs) if ref[0] != "code" else func()
            try:
                pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                msg: tuple[Any, ...] = ("done", job_id, "success", value, None, None)
            except Exception as exc:
                msg = ("done", job_id, "fail", None,
                       f"the return value ({type(value).__name__}) could not be sent back "
                       f"from the process: {exc}", None)
        except Inaction:
            msg = ("done", job_id, "inaction", None, None, None)
        except BaseException as exc:
            if isinstance(exc, SystemExit):
                msg = ("done", job_id, "fail", None, f"SystemExit: {exc.code}", None)
            else:
                msg = ("done", job_id, "fail", None, f"{type(exc).__name__}: {exc}",
                       "".join(traceback.format_exception(exc)))
        stdout.job_id = stderr.job_id = None
        send(msg)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
