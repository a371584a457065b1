"""Import task modules first in a throw-away process, where they cannot kill the scheduler.

A module that calls ``os._exit`` at import, crashes the interpreter (a segfault in C
code), or hangs, would take down or wedge whoever imports it. So before the scheduler
(or ``tui-sched check``) imports a batch of modules, ``vet`` imports the same bytes, in
the same order, with the same ``sys.path``, working folder and folder policy, in a child
process (``vet_child``). The child reports each module's outcome as it goes; when it dies
or overruns the deadline, the module it was importing is the culprit, and a fresh child
takes the rest.

What it costs: the child imports each module once more, alongside the scheduler's own
import of the modules already vetted (``vet`` yields each verdict as it arrives), and a
spare child, started ahead with ``tui_sched`` already imported, takes the next batch, so
a reload pass does not wait for an interpreter to start.
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, BinaryIO

from tui_sched.executors.worker import encode_frame, read_frame
from tui_sched.reload.importer import Failure, ImportTimedOut, describe
from tui_sched.tasks import trust
from tui_sched.tasks.modules import Source

_BOOT = "import sys; from tui_sched.reload.vet_child import main; main(int(sys.argv[1]))"

#: How long a vetting process may take to get going (or between two modules) on a
#: loaded machine; each module's import then gets the import timeout.
_START_ALLOWANCE = 30.0


class _Child:
    """One vetting process: started ahead, waiting for its request on stdin."""

    def __init__(self) -> None:
        out_r, out_w = os.pipe()
        # Its stderr (last words of a crash); closed in kill().
        self.errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(out_w)], pass_fds=(out_w,),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.errors,
                start_new_session=True)  # so whatever a module starts dies with it
        except BaseException:
            os.close(out_r)
            self.errors.close()
            raise
        finally:
            os.close(out_w)
        self.frames = _read_frames(os.fdopen(out_r, "rb"))

    def send(self, sources: list[Source], root: Path) -> None:
        request = {"sys_path": list(sys.path), "cwd": os.getcwd(), "root": str(root),
                   "roots": trust.registered(), "items": [(s.path, s.data) for s in sources]}
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(encode_frame(request))
            self.proc.stdin.close()
        except OSError:
            pass  # it is dead: the frames say so

    def kill(self) -> None:
        """End the child and whatever a module started at import (its process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self.errors.close()


_spare: _Child | None = None
_holders = 0
_spare_lock = threading.Lock()
_spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tui-sched-vet-spawn")
"""Every child is started from this one thread: a child asks Linux to kill it when its
parent dies, and Linux means the parent *thread* (a spare started by a reload pass's
thread would be killed, mid-import, when that thread ended)."""


def _new_child() -> _Child:
    return _spawner.submit(_Child).result()


def hold_spare() -> None:
    """Keep a spare child ready from the next batch on (a watcher expects more batches);
    ``release_spare`` undoes it."""
    global _holders
    with _spare_lock:
        _holders += 1


def release_spare() -> None:
    """The holder needs no spare any more; the last one out ends it."""
    global _holders, _spare
    with _spare_lock:
        _holders = max(0, _holders - 1)
        spare, _spare = (_spare, None) if _holders == 0 else (None, _spare)
    if spare is not None:
        spare.kill()


def prestart() -> None:
    """Start a vetting process now, so that its start-up overlaps with the caller's
    (``tui-sched run`` calls this first thing; the first batch takes it)."""
    global _spare
    with _spare_lock:
        if _spare is None:
            try:
                _spare = _new_child()
            except OSError:
                pass


def _take_child() -> _Child:
    """The spare child if it is still alive, else a new one; a new spare is started
    while someone holds one."""
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
        if child is not None and child.proc.poll() is not None:
            child.kill()
            child = None
        if child is None:
            child = _new_child()
        if _holders:
            try:
                _spare = _new_child()
            except OSError:
                _spare = None
    return child


def vet(sources: list[Source], root: Path, timeout: float | None
        ) -> Iterator[tuple[Source, Failure | None]]:
    """Import ``sources`` (in order) in child processes; yield each with its failure
    (``None``: it imported cleanly there), as soon as it is known.

    Args:
        sources: The modules' files and accepted bytes.
        root: The tasks folder (its helpers are re-imported for each module).
        timeout: Seconds each import may take (``None``: no limit).
    """
    pending = list(sources)
    while pending:
        try:
            child = _take_child()
        except OSError as exc:
            for source in pending:
                yield source, Failure(
                    f"could not start a process to try the import in ({exc}); the module "
                    "was not loaded", None, "", "error")
            return
        try:
            settled = 0
            for index, failure in _follow(child, pending, root, timeout):
                settled = index + 1
                yield pending[index], failure
        finally:
            child.kill()
        pending = pending[settled:]


def _follow(child: _Child, sources: list[Source], root: Path, timeout: float | None
            ) -> Iterator[tuple[int, Failure | None]]:
    """Verdicts from one child, until it has settled every source or failed."""
    child.send(sources, root)
    current: int | None = None
    settled = 0
    deadline: float | None = time.monotonic() + _START_ALLOWANCE
    while settled < len(sources):
        try:
            arrived, frame = child.frames.get(
                timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except queue.Empty:  # the import overran its deadline
            index = settled if current is None else current
            path = Path(sources[index].path)
            yield index, describe(ImportTimedOut(path, timeout or _START_ALLOWANCE), path)
            return
        if frame is None:  # the child died
            code = child.proc.wait()
            if current is not None:
                yield current, _died(Path(sources[current].path), code, child.errors)
            elif settled == 0:  # it never got going: say why, do not retry for ever
                for index in range(len(sources)):
                    yield index, _broken(Path(sources[index].path), code, child.errors)
            return
        if frame[0] == "start":
            current = frame[1]
            deadline = None if timeout is None else arrived + timeout
        else:
            _, index, failure = frame
            current, settled = None, index + 1
            deadline = arrived + _START_ALLOWANCE
            yield index, failure


def _read_frames(stream: BinaryIO) -> queue.Queue[Any]:
    """Frames from the child, each with its arrival time; ``(t, None)`` at the end."""
    frames: queue.Queue[Any] = queue.Queue()

    def pump() -> None:
        try:
            while True:
                frame = read_frame(stream)
                frames.put((time.monotonic(), frame))
        except Exception:  # EOF, or a frame cut short by the child's death
            frames.put((time.monotonic(), None))
        finally:
            stream.close()

    threading.Thread(target=pump, name="tui-sched-vet-rx", daemon=True).start()
    return frames


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code} (as os._exit({code}) does)"


def _last_words(errors: IO[bytes]) -> list[str]:
    errors.seek(0, os.SEEK_END)
    errors.seek(max(0, errors.tell() - 2000))
    return errors.read().decode("utf-8", "replace").strip().splitlines()[-3:]


def _died(path: Path, code: int, errors: IO[bytes]) -> Failure:
    tail = _last_words(errors)
    said = f" Its last words: {' | '.join(tail)}" if tail else ""
    return Failure(f"importing {path.name} ended the interpreter: it {_how(code)}. A task "
                   "module must not exit or crash at import (move that code into a task); "
                   "the module was not loaded, and its last good version, if any, keeps "
                   f"running.{said}", None, "\n".join(tail), "exit")


def _broken(path: Path, code: int, errors: IO[bytes]) -> Failure:
    tail = _last_words(errors)
    said = f" Its last words: {' | '.join(tail)}" if tail else ""
    return Failure(f"the process that tries task modules before they are loaded {_how(code)} "
                   f"before it reached {path.name}; the module was not loaded.{said}",
                   None, "", "error")
