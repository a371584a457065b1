"""What a ``dask`` run executes on its dask worker (imported there by name).

The task is found by reference, as a ``process`` worker finds it (``worker._resolve``:
the source the scheduler accepted, else the file by path), so an edited module takes
effect at the next run and no function is pickled. Whatever happens becomes data sent
back with the run: a task failure is never a dask error, which keeps dask's own errors
(a dead worker, a lost scheduler) apart from the task's.

Output printed by the task is collected per thread (a worker runs several tasks at once
on its threads) and sent back with the result: it reaches the log pane when the run ends.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
import traceback
from typing import Any, TextIO

from tui_sched.executors.worker_env import WORKER_ENV

_local = threading.local()
_install_lock = threading.Lock()

Chunk = tuple[str, str]
"""``(stream, text)`` as the task wrote it."""


class _PerThreadStream:
    """``sys.stdout``/``sys.stderr`` of the worker process: text written by a thread that
    runs a tui-sched task goes to that run's output, the rest to the real stream."""

    def __init__(self, name: str, real: TextIO) -> None:
        self.name = name
        self._real = real

    def write(self, text: str) -> int:
        chunks: list[Chunk] | None = getattr(_local, "chunks", None)
        if chunks is None:
            return self._real.write(text)
        chunks.append((self.name, text))
        return len(text)

    def flush(self) -> None:
        if getattr(_local, "chunks", None) is None:
            self._real.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, attr: str) -> Any:  # encoding, fileno, ... of the real stream
        return getattr(self._real, attr)


def _install() -> None:
    with _install_lock:
        if not isinstance(sys.stdout, _PerThreadStream):
            sys.stdout = _PerThreadStream("stdout", sys.stdout)  # type: ignore[assignment]
        if not isinstance(sys.stderr, _PerThreadStream):
            sys.stderr = _PerThreadStream("stderr", sys.stderr)  # type: ignore[assignment]


def _tail(chunks: list[Chunk], limit: int) -> list[Chunk]:
    """The last ``limit`` characters of the output, in order (a flood stays bounded)."""
    kept: list[Chunk] = []
    size = 0
    for stream, text in reversed(chunks):
        if size >= limit:
            break
        text = text[-(limit - size):]
        kept.append((stream, text))
        size += len(text)
    kept.reverse()
    return kept


def run_remote(ref: tuple[Any, ...], kwargs: dict[str, Any], tail_chars: int) -> tuple[Any, ...]:
    """Run one tui-sched run here; never raises for what the task does.

    Returns:
        ``(outcome, value, error, traceback, output chunks, ran_for)``: ``ran_for`` is
        the seconds the run took here (the history's start is its end minus that: a
        duration needs no agreement between this machine's clock and the scheduler's).
    """
    began = time.perf_counter()
    from tui_sched.executors.base import Inaction, TaskTerminationException
    from tui_sched.executors.worker import _call, _fill_markers, _resolve

    # A task module that calls ``app.run()`` at import must not start a scheduler here.
    os.environ[WORKER_ENV] = "1"
    _install()
    chunks: list[Chunk] = []
    _local.chunks = chunks
    value: Any = None
    error: str | None = None
    trace: str | None = None
    try:
        func = _resolve(ref)
        value = func() if ref[0] == "code" else _call(func, _fill_markers(func, dict(kwargs)))
        outcome = "success"
        try:
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            error = (f"the return value ({type(value).__name__}) could not be sent back "
                     f"from the dask worker: {exc}")
            outcome, value = "fail", None
    except Inaction:
        outcome = "inaction"
    except TaskTerminationException as exc:
        outcome, error = "terminate", str(exc) or "the task terminated itself"
    except BaseException as exc:  # the task's failure, whatever it raised
        outcome = "fail"
        error = (f"SystemExit: {exc.code}" if isinstance(exc, SystemExit)
                 else f"{type(exc).__name__}: {exc}")
        trace = "".join(traceback.format_exception(exc))
    finally:
        _local.chunks = None
    return outcome, value, error, trace, _tail(chunks, tail_chars), time.perf_counter() - began
