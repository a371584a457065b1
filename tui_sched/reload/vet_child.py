"""The child side of ``vetting``: import the modules it is sent, one by one, and say how
each went. Run as ``python -c '...main(OUT_FD)'``; the request arrives on stdin."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tui_sched.executors.worker import die_with_parent, read_frame, write_frame
from tui_sched.executors.worker_env import WORKER_ENV
from tui_sched.reload.importer import describe, import_guarded
from tui_sched.tasks import trust
from tui_sched.tasks.modules import Source, fresh_module_name, guard_imports


def main(out_fd: int) -> None:
    """Import each module of the request; ``("start", i)`` before and ``("done", i,
    failure)`` after each, on ``out_fd``. Ends with ``os._exit`` (threads a module started
    must not keep it alive, nor its ``atexit`` handlers run)."""
    # As in a process worker: a module calling app.run() unguarded starts no scheduler.
    os.environ[WORKER_ENV] = "1"
    die_with_parent()
    try:
        request = read_frame(sys.stdin.buffer)
    except EOFError:  # a spare that was never needed
        os._exit(0)
    sys.path[:] = request["sys_path"]
    os.chdir(request["cwd"])
    trust.adopt(request["roots"])
    guard_imports()
    root = Path(request["root"])
    out = os.fdopen(out_fd, "wb")
    for index, (path, data) in enumerate(request["items"]):
        write_frame(out, ("start", index))
        try:
            import_guarded(Source.of(path, data), fresh_module_name(Path(path), "vet"), root,
                           None)
            failure = None
        except BaseException as exc:  # exactly what in-process loading must not meet
            failure = describe(exc, Path(path))
        write_frame(out, ("done", index, failure))
    os._exit(0)
