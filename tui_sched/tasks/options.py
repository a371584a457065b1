"""Task options, validated with pydantic at the edge (``app.task(...)``, ``task.x = v``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from tui_sched.errors import ConfigError, TaskDefinitionError
from tui_sched.timespan import parse_span

Execution = Literal["main", "async", "thread", "process", "dask"]
EXECUTIONS: tuple[str, ...] = ("main", "async", "thread", "process", "dask")


def _span_or_none(value: Any, what: str) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_span(value)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    if seconds < 0:
        raise ValueError(f"{what} must not be negative (got {value!r})")
    return seconds


class TaskOptions(BaseModel):
    """The options of a task. Unknown options are an error naming the option."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    execution: Execution | None = None
    """Where it runs; ``None`` picks the default (thread, or async for coroutines)."""
    timeout: float | None = None
    """Seconds (or a span such as ``"5 minutes"``) after which a run is terminated."""
    priority: int = 0
    """Higher starts first within a tick."""
    parameters: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments passed to the function (markers allowed as values)."""
    end_cond: Any = None
    """A condition that terminates a running run when it becomes true."""
    multilaunch: bool = False
    """Allow a new run to start while one is still running."""
    retries: int = Field(default=0, ge=0)
    """How many times a failed run is retried."""
    retry_delay: float = 0.0
    """Seconds between a failure and its first retry."""
    backoff: float = Field(default=1.0, ge=1.0)
    """Each further retry waits ``backoff`` times longer than the one before."""
    max_delay: float | None = None
    """Upper bound of the retry delay."""
    retry_jitter: float = 0.0
    """Up to this many random seconds added to each retry delay."""
    jitter: float = 0.0
    """Up to this many random seconds of delay before a scheduled start (spreads load)."""
    misfire: Literal["once", "skip"] | None = None
    """After downtime: ``once`` runs one catch-up run for missed periods, ``skip`` only
    records them. Default: ``once`` for calendar and cron conditions, else ``skip``."""
    misfire_grace: float = 60.0
    """A start this late after its period or cron slot began is not a misfire."""
    dask_resources: dict[str, float] | None = None
    """Abstract resources a ``dask`` run needs on its worker (``{"GPU": 1}``)."""
    dask_isolate: bool = False
    """Run a ``dask`` call in a child process of its worker, so a timeout can kill it."""

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> float | None:
        seconds = _span_or_none(value, "timeout")
        if seconds == 0:
            raise ValueError("timeout must be positive (omit it for no timeout)")
        return seconds

    @field_validator("retry_delay", "retry_jitter", "jitter", "misfire_grace", mode="before")
    @classmethod
    def _span(cls, value: Any, info: ValidationInfo) -> float:
        return _span_or_none(value, info.field_name or "span") or 0.0

    @field_validator("max_delay", mode="before")
    @classmethod
    def _max_delay(cls, value: Any) -> float | None:
        return _span_or_none(value, "max_delay")

    def retry_wait(self, attempt: int, rand: float) -> float:
        """Seconds to wait before attempt ``attempt + 1`` after attempt ``attempt`` failed.

        Args:
            attempt: The attempt that failed (1 for the first run).
            rand: A random number in [0, 1) for the jitter.
        """
        wait = self.retry_delay * self.backoff ** (attempt - 1)
        if self.max_delay is not None:
            wait = min(wait, self.max_delay)
        return wait + rand * self.retry_jitter


OPTION_NAMES = frozenset(TaskOptions.model_fields)


def validate_options(task: str | None, values: dict[str, Any]) -> TaskOptions:
    """Validate options, turning pydantic's error into one that names task and option.

    Raises:
        TaskDefinitionError: On the first invalid or unknown option.
    """
    try:
        return TaskOptions(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        option = str(err["loc"][0]) if err["loc"] else None
        if err["type"] == "extra_forbidden":
            from tui_sched.errors import suggest

            near = suggest(option or "", OPTION_NAMES | {"name", "disabled", "force_run"})
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise TaskDefinitionError(task, f"unknown option{hint}", option) from None
        if option == "execution":
            msg = f"unknown execution {values.get('execution')!r}; use one of {', '.join(EXECUTIONS)}"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
        raise TaskDefinitionError(task, msg, option) from None
