"""Engine events as log-pane lines (pure; no Textual)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from tui_sched.engine import events as ev
from tui_sched.store.base import Outcome

#: Width of the task column in a log line.
TASK_WIDTH = 12


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the log pane.

    Attributes:
        at: Epoch seconds.
        task: The task it belongs to (``None``: the scheduler).
        text: The message.
        level: ``out`` (task output), ``info``, ``warn`` or ``error``.
    """

    at: float
    task: str | None
    text: str
    level: str = "info"

    def line(self, tz: tzinfo | None) -> str:
        """``HH:MM:SS task │ text`` (the level is in the text, never colour alone)."""
        stamp = datetime.fromtimestamp(self.at, tz).strftime("%H:%M:%S")
        who = (self.task or "scheduler")[:TASK_WIDTH]
        return f"{stamp} {who:<{TASK_WIDTH}} │ {self.text}"


def _first_line(text: str | None) -> str:
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _names(kind: str, names: tuple[str, ...]) -> str:
    return f"{kind} {', '.join(names)}" if names else ""


def entry_for(e: ev.Event) -> LogEntry | None:
    """The log line for an engine event (``None``: not shown)."""
    if isinstance(e, ev.LogLine):
        prefix = "! " if e.stream == "stderr" else ""
        return LogEntry(e.at, e.task, prefix + e.text, "out")
    if isinstance(e, ev.RunStarted):
        return LogEntry(e.at, e.run.task, f"▶ started ({e.run.trigger}, run {e.run.id})")
    if isinstance(e, ev.RunFinished):
        r = e.run
        ok = r.outcome in (Outcome.SUCCESS, Outcome.INACTION)
        text = f"{'✓' if ok else '✗'} {r.outcome} in {r.duration or 0:.2f}s"
        if r.error:
            text += f": {_first_line(r.error)}"
        return LogEntry(e.at, r.task, text, "info" if ok else "error")
    if isinstance(e, ev.RunTerminating):
        return LogEntry(e.at, e.run.task, f"◼ terminating: {_first_line(e.reason)}", "warn")
    if isinstance(e, ev.RunRecorded):
        r = e.run
        symbol = "↷" if r.outcome is Outcome.MISSED else "~"
        # The error already says "missed: ..." or "skipped: ...".
        return LogEntry(e.at, r.task, f"{symbol} {_first_line(r.error) or r.outcome}", "warn")
    if isinstance(e, ev.SchedulerStarted):
        return LogEntry(e.at, None, f"started with {e.tasks} task(s)")
    if isinstance(e, ev.SchedulerStopping):
        what = "restarting" if e.restart else "shutting down"
        return LogEntry(e.at, None, f"{what}; waiting for {e.running} running run(s)", "warn")
    if isinstance(e, ev.SchedulerStopped):
        return LogEntry(e.at, None, "stopped" + (" (restarting)" if e.restart else ""), "warn")
    if isinstance(e, ev.RunsRecovered):
        names = ", ".join(sorted({r.task for r in e.runs}))
        return LogEntry(e.at, None, f"closed {len(e.runs)} run(s) left open as crash: {names}", "warn")
    if isinstance(e, ev.TaskChanged):
        return LogEntry(e.at, e.task, e.change)
    if isinstance(e, ev.EngineError):
        return LogEntry(e.at, None, f"error: {_first_line(e.message)}", "error")
    if isinstance(e, ev.ModuleLoaded):
        parts = [p for p in (_names("+", e.added), _names("-", e.removed), _names("~", e.changed)) if p]
        detail = "; ".join(parts) or "no task changes"
        return LogEntry(e.at, None, f"reloaded {Path(e.path).name}: {detail}")
    if isinstance(e, ev.ModuleFailed):
        where = Path(e.path).name + (f":{e.line}" if e.line else "")
        return LogEntry(e.at, None, f"✗ {where} failed to load: {_first_line(e.error)}", "error")
    return None
