"""Engine events as log-pane lines (pure; no Textual)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from tui_sched.engine import events as ev
from tui_sched.store.base import Outcome, RunRecord
from tui_sched.tui.model import OUTCOME_SYMBOLS

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

    def line(self, tz: tzinfo | None, width: int = TASK_WIDTH) -> str:
        """``HH:MM:SS task │ text`` with the task in ``width`` cells (cut with ``…``); the
        level is in the text, never colour alone."""
        stamp = datetime.fromtimestamp(self.at, tz).strftime("%H:%M:%S")
        who = self.task or "scheduler"
        if len(who) > width:
            who = who[: width - 1] + "…"
        return f"{stamp} {who:<{width}} │ {self.text}"


def _first_line(text: str | None) -> str:
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _names(kind: str, names: tuple[str, ...]) -> str:
    return f"{kind} {', '.join(names)}" if names else ""


def _finished(r: RunRecord, at: float) -> LogEntry:
    # The same symbol as the table's strip and status (``■`` terminate, ``!`` crash).
    ok = r.outcome in (Outcome.SUCCESS, Outcome.INACTION)
    symbol = OUTCOME_SYMBOLS.get(r.outcome, "✗") if r.outcome is not None else "✗"
    text = f"{symbol} {r.outcome} in {r.duration or 0:.2f}s"
    if r.error:
        text += f": {_first_line(r.error)}"
    return LogEntry(at, r.task, text, "info" if ok else "error")


def _recorded(r: RunRecord, at: float) -> LogEntry:
    symbol = OUTCOME_SYMBOLS.get(r.outcome, "~") if r.outcome is not None else "~"
    # The error already says "missed: ..." or "skipped: ...".
    return LogEntry(at, r.task, f"{symbol} {_first_line(r.error) or r.outcome}", "warn")


#: Output lines of each earlier run shown when the pane is filled from the history.
HISTORY_OUTPUT_LINES = 20


def history_entries(runs: list[RunRecord]) -> list[LogEntry]:
    """Log lines for finished runs from the history (any order), oldest first: what the
    pane would have shown had it been open, so a restart does not start it empty. Output
    (only its tail is stored) is placed at the run's end."""
    out: list[LogEntry] = []
    for r in runs:
        if r.end is None or r.outcome is None:
            continue
        if r.outcome in (Outcome.MISSED, Outcome.SKIPPED):
            out.append(_recorded(r, r.end))
            continue
        out.append(LogEntry(r.start, r.task, f"▶ started ({r.trigger}, run {r.id})"))
        tail = [ln for ln in (r.output_tail or "").splitlines() if ln.strip()]
        out.extend(LogEntry(r.end, r.task, ln, "out") for ln in tail[-HISTORY_OUTPUT_LINES:])
        out.append(_finished(r, r.end))
    out.sort(key=lambda e: e.at)  # stable: a run's own lines keep their order
    if out:
        out.insert(0, LogEntry(out[0].at, None, f"── {len(runs)} earlier run(s) from the history ──"))
    return out


def entry_for(e: ev.Event) -> LogEntry | None:
    """The log line for an engine event (``None``: not shown)."""
    if isinstance(e, ev.LogLine):
        prefix = "! " if e.stream == "stderr" else ""
        return LogEntry(e.at, e.task, prefix + e.text, "out")
    if isinstance(e, ev.RunStarted):
        return LogEntry(e.at, e.run.task, f"▶ started ({e.run.trigger}, run {e.run.id})")
    if isinstance(e, ev.RunFinished):
        return _finished(e.run, e.at)
    if isinstance(e, ev.RunTerminating):
        return LogEntry(e.at, e.run.task, f"◼ terminating: {_first_line(e.reason)}", "warn")
    if isinstance(e, ev.RunRecorded):
        return _recorded(e.run, e.at)
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
        return entries_for(e)[0]
    return None


#: Lines of a load error shown in the log and the toast (the message, the condition
#: with its caret, the suggestion; a long message is cut).
ERROR_LINES = 6


def error_lines(error: str) -> list[str]:
    """The helpful part of a load error: its non-empty lines, at most ``ERROR_LINES``."""
    lines = [ln.rstrip() for ln in error.splitlines() if ln.strip()]
    if len(lines) > ERROR_LINES:
        lines = [*lines[: ERROR_LINES - 1], f"… ({len(lines) - ERROR_LINES + 1} more lines: press e)"]
    return lines


def entries_for(e: ev.Event) -> list[LogEntry]:
    """Every log line for an event: a load failure keeps the lines after its first (the
    condition, the caret under the mistake, "did you mean ...?"), aligned."""
    if isinstance(e, ev.ModuleFailed):
        where = Path(e.path).name + (f":{e.line}" if e.line else "")
        lines = error_lines(e.error) or [""]
        first = LogEntry(e.at, None, f"✗ {where} failed to load: {lines[0]}", "error")
        return [first, *(LogEntry(e.at, None, f"  {ln}", "error") for ln in lines[1:])]
    entry = entry_for(e)
    return [] if entry is None else [entry]
