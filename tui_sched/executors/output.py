"""Capture what runs print: per-run sinks and a stdout/stderr router.

In-process runs (main, async, thread) print through ``sys.stdout``; while the engine runs,
``sys.stdout``/``sys.stderr`` are routers that send each write to the sink of the run in
the current context (a context variable, so threads and asyncio tasks never mix their
output) and everything else to the real stream.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import TextIO

LineHandler = Callable[[str, str], None]
"""Called with ``(stream, line)`` for each complete output line."""


# One lock for every sink: writes are a few appends, and most runs never print, so a
# lock per run would be allocated for nothing on the hot path.
_SINK_LOCK = threading.Lock()


class OutputSink:
    """Collects one run's output: keeps a bounded tail and forwards whole lines.

    Most runs never print, so a sink holds nothing until the first write.

    Args:
        on_line: Receives ``(stream, line)``; ``None`` to only keep the tail.
        tail_chars: How much of the end of the output to keep for the run record.
        forward_limit: Characters forwarded as lines before the rest is only counted
            (a task that prints megabytes must not flood the log pane).
    """

    __slots__ = ("_forward_limit", "_forwarded", "_on_line", "_partial", "_tail", "_tail_chars",
                 "_tail_len", "_truncated", "closed")

    def __init__(self, on_line: LineHandler | None, tail_chars: int = 4096,
                 forward_limit: int = 1_000_000) -> None:
        self._on_line = on_line
        self._tail: deque[str] | None = None
        self._tail_len = 0
        self._tail_chars = tail_chars
        self._partial: dict[str, str] | None = None
        self._forwarded = 0
        self._forward_limit = forward_limit
        self._truncated = False
        self.closed = False

    def write(self, stream: str, text: str) -> None:
        """Add output text from ``stream`` (``stdout`` or ``stderr``)."""
        if not text or self.closed:
            return
        lines: list[str] = []
        with _SINK_LOCK:
            tail = self._tail
            if tail is None:
                tail = self._tail = deque()
            tail.append(text)
            self._tail_len += len(text)
            while self._tail_len - len(tail[0]) >= self._tail_chars and len(tail) > 1:
                self._tail_len -= len(tail.popleft())
            if self._on_line is None:
                return
            partial = self._partial
            if partial is None:
                partial = self._partial = {}
            buf = partial.get(stream, "") + text
            *complete, rest = buf.split("\n")
            partial[stream] = rest[-65536:]
            for line in complete:
                if self._forwarded >= self._forward_limit:
                    if not self._truncated:
                        self._truncated = True
                        lines.append("[output truncated in the log; the run goes on]")
                    break
                self._forwarded += len(line) + 1
                lines.append(line)
        for line in lines:
            self._on_line(stream, line)

    def close(self) -> None:
        """Forward any unterminated last line; ignore later writes (abandoned threads)."""
        with _SINK_LOCK:
            if self.closed:
                return
            self.closed = True
            partial = self._partial
            if not partial:
                return
            rest = [(s, p) for s, p in partial.items() if p]
            partial.clear()
        if self._on_line is not None:
            for stream, line in rest:
                self._on_line(stream, line)

    def finish(self) -> str | None:
        """``close``, then the tail (``None`` when nothing was printed): what the engine
        does at the end of every run, in one go."""
        if self._tail is None and self._partial is None:
            # Nothing was ever written (most runs): only a write racing this close could
            # change that, and the lock orders the two.
            with _SINK_LOCK:
                if self._tail is None and self._partial is None:
                    self.closed = True
                    return None
        self.close()
        return self.tail() or None

    def tail(self) -> str:
        """The last ``tail_chars`` characters of output."""
        with _SINK_LOCK:
            if not self._tail:
                return ""
            text = "".join(self._tail)
        return text[-self._tail_chars:]


current_sink: contextvars.ContextVar[OutputSink | None] = contextvars.ContextVar(
    "tui_sched_output_sink", default=None
)


class _Router:
    """A text stream that writes to the current run's sink, else to the real stream."""

    def __init__(self, stream: str, real: TextIO) -> None:
        self._stream = stream
        self.real = real

    def write(self, text: str) -> int:
        sink = current_sink.get()
        if sink is None:
            return self.real.write(text)
        sink.write(self._stream, text)
        return len(text)

    def flush(self) -> None:
        if current_sink.get() is None:
            self.real.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.real.fileno()

    def __getattr__(self, item: str) -> object:
        return getattr(self.real, item)


class OutputCapture:
    """Install the routers on ``sys.stdout``/``sys.stderr`` (reference counted).

    Whoever else swaps ``sys.stdout`` meanwhile (a test harness, a task module) is
    respected: each install puts a router over whatever stream is there now if it is not
    ours, and the last uninstall takes off only a router of ours.
    """

    _lock = threading.Lock()
    _users = 0

    @classmethod
    def install(cls) -> None:
        with cls._lock:
            cls._users += 1
            if not isinstance(sys.stdout, _Router):
                sys.stdout = _Router("stdout", sys.stdout)  # type: ignore[assignment]
            if not isinstance(sys.stderr, _Router):
                sys.stderr = _Router("stderr", sys.stderr)  # type: ignore[assignment]

    @classmethod
    def uninstall(cls) -> None:
        with cls._lock:
            cls._users = max(0, cls._users - 1)
            if cls._users == 0:
                if isinstance(sys.stdout, _Router):
                    sys.stdout = sys.stdout.real  # type: ignore[assignment]
                if isinstance(sys.stderr, _Router):
                    sys.stderr = sys.stderr.real  # type: ignore[assignment]

    @staticmethod
    def real_stdout() -> TextIO:
        """The stream under the router (for the scheduler's own log lines)."""
        out = sys.stdout
        return out.real if isinstance(out, _Router) else out
