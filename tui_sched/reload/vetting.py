"""Import task modules first in a throw-away process, where they cannot kill the scheduler.

A module that calls ``os._exit`` at import, crashes the interpreter (a segfault in C
code), or hangs, would take down or wedge whoever imports it. So before the scheduler
(or ``tui-sched check``) imports a batch of modules, ``vet`` imports the same bytes, in
the same order, with the same ``sys.path`` and folder policy, in one child process
(``vet_child``). The child reports each module's outcome; when it dies or overruns the
deadline, the module it was importing is the culprit, and a fresh child takes the rest.

Only modules that import cleanly in the child are then imported in-process. The cost is
one interpreter start per batch plus a second import of each module (measured in the
README's Reliability section).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from tui_sched.executors.worker import encode_frame, read_frame
from tui_sched.reload.importer import Failure, ImportTimedOut, describe
from tui_sched.tasks import trust
from tui_sched.tasks.modules import Source

_BOOT = "import sys; from tui_sched.reload.vet_child import main; main(int(sys.argv[1]))"

#: How long a vetting process may take to start (import tui_sched) on a loaded machine.
_START_ALLOWANCE = 30.0


def vet(sources: list[Source], root: Path, timeout: float | None) -> dict[str, Failure]:
    """Import ``sources`` (in order) in child processes; the failures, by path.

    A module missing from the result imported cleanly in the child.

    Args:
        sources: The modules' files and accepted bytes.
        root: The tasks folder (its helpers are re-imported for each module).
        timeout: Seconds each import may take (``None``: no limit).
    """
    failures: dict[str, Failure] = {}
    pending = list(sources)
    while pending:
        pending = pending[_vet_some(pending, root, timeout, failures):]
    return failures


def _vet_some(sources: list[Source], root: Path, timeout: float | None,
              failures: dict[str, Failure]) -> int:
    """Vet in one child until it finishes or fails; how many ``sources`` it settled."""
    out_r, out_w = os.pipe()
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(out_w)], pass_fds=(out_w,),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors,
                start_new_session=True)  # so a module's own children die with it
        except OSError as exc:
            os.close(out_r)
            os.close(out_w)
            for source in sources:
                failures[source.path] = Failure(
                    f"could not start a process to try the import in ({exc}); the module "
                    "was not loaded", None, "", "error")
            return len(sources)
        os.close(out_w)
        frames = _read_frames(os.fdopen(out_r, "rb"))
        try:
            return _follow(proc, frames, sources, root, timeout, failures, errors)
        finally:
            _kill(proc)


def _follow(proc: subprocess.Popen[bytes], frames: queue.Queue[Any], sources: list[Source],
            root: Path, timeout: float | None, failures: dict[str, Failure],
            errors: IO[bytes]) -> int:
    request = {"sys_path": list(sys.path), "root": str(root), "roots": trust.registered(),
               "items": [(s.path, s.data) for s in sources]}
    try:
        assert proc.stdin is not None
        proc.stdin.write(encode_frame(request))
        proc.stdin.close()
    except OSError:
        pass  # it died at once: the frames say so
    current: int | None = None
    settled = 0
    # Until a module's import starts, the child gets a generous allowance (start-up on a
    # loaded machine); from then on, the module gets ``timeout``.
    deadline: float | None = time.monotonic() + _START_ALLOWANCE
    while settled < len(sources):
        try:
            frame = frames.get(timeout=None if deadline is None
                               else max(0.0, deadline - time.monotonic()))
        except queue.Empty:  # the import overran its deadline
            index = settled if current is None else current
            path = Path(sources[index].path)
            failures[str(path)] = describe(ImportTimedOut(path, timeout or 0.0), path)
            return index + 1
        if frame is None:  # the child died
            code = proc.wait()
            if current is None:
                if settled == 0:  # it never got going: say why, do not retry for ever
                    for source in sources:
                        failures[source.path] = _died(Path(source.path), code, errors, False)
                    return len(sources)
                return settled
            failures[sources[current].path] = _died(Path(sources[current].path), code, errors,
                                                    True)
            return current + 1
        if frame[0] == "start":
            current = frame[1]
            deadline = None if timeout is None else time.monotonic() + timeout
        else:
            _, index, failure = frame
            if failure is not None:
                failures[sources[index].path] = failure
            current, settled = None, index + 1
            deadline = time.monotonic() + _START_ALLOWANCE
    return settled


def _read_frames(stream: IO[bytes]) -> queue.Queue[Any]:
    frames: queue.Queue[Any] = queue.Queue()

    def pump() -> None:
        try:
            while True:
                frames.put(read_frame(stream))
        except Exception:  # EOF, or a frame cut short by the child's death
            frames.put(None)
        finally:
            stream.close()

    threading.Thread(target=pump, name="tui-sched-vet-rx", daemon=True).start()
    return frames


def _died(path: Path, code: int, errors: IO[bytes], importing: bool) -> Failure:
    if code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code} (as os._exit({code}) does)"
    errors.seek(0, os.SEEK_END)
    errors.seek(max(0, errors.tell() - 2000))
    tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-3:]
    said = f" Its last words: {' | '.join(tail)}" if tail else ""
    if not importing:
        return Failure(f"the process that tries task modules before they are loaded {how} "
                       f"before it reached {path.name}; the module was not loaded.{said}",
                       None, "", "error")
    return Failure(f"importing {path.name} ended the interpreter: it {how}. A task module "
                   "must not exit or crash at import (move that code into a task); the "
                   f"module was not loaded, and its last good version, if any, keeps "
                   f"running.{said}", None, "\n".join(tail), "exit")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End the child and whatever a module started at import (its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
