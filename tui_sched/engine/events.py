"""Events the engine publishes: frozen, past tense."""

from __future__ import annotations

from tui_sched.frozen import value
from tui_sched.store.base import RunRecord


@value
class Event:
    """Base of every engine event. ``at`` is epoch seconds."""

    at: float


@value
class SchedulerStarted(Event):
    """The engine started scheduling."""

    tasks: int


@value
class SchedulerStopping(Event):
    """Shutdown or restart began; no new runs start."""

    restart: bool
    running: int


@value
class SchedulerStopped(Event):
    """The engine stopped; ``restart`` says whether it will start again."""

    restart: bool


@value
class RunStarted(Event):
    """A run started. ``due`` is when its condition was due to turn true, if known."""

    run: RunRecord
    due: float | None


@value
class RunTerminating(Event):
    """A run is being terminated (timeout, ``end_cond``, shutdown, operator)."""

    run: RunRecord
    reason: str


@value
class RunFinished(Event):
    """A run ended (``run.outcome`` says how)."""

    run: RunRecord


@value
class RunRecorded(Event):
    """A run that never started was recorded: ``missed`` (downtime) or ``skipped``
    (its previous run was still going)."""

    run: RunRecord


@value
class RunsRecovered(Event):
    """Runs left open by a scheduler that died were closed as ``crash``."""

    runs: tuple[RunRecord, ...]


@value
class TaskChanged(Event):
    """A task was added, changed, removed, disabled or enabled."""

    task: str
    change: str


@value
class LogLine(Event):
    """One line of a run's output."""

    task: str
    run_id: int
    stream: str
    text: str


@value
class EngineError(Event):
    """Something went wrong in the engine itself (it carries on)."""

    message: str
    traceback: str | None = None


@value
class ModuleLoaded(Event):
    """A task module was (re)loaded and its tasks swapped in."""

    path: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]


@value
class ModuleFailed(Event):
    """A task module failed to load; the last good version of it keeps running."""

    path: str
    error: str
    line: int | None
    traceback: str
