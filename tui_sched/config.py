"""Configuration, validated with pydantic: flags, then ``TUI_SCHED_*`` variables, then
``[tool.tui-sched]`` in ``pyproject.toml`` or ``tui-sched.toml`` beside the tasks folder."""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tui_sched.errors import ConfigError
from tui_sched.timespan import parse_span


class DaskSettings(BaseModel):
    """Where ``execution="dask"`` runs go (the ``[dask]`` table, ``TUI_SCHED_DASK_*``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = "local"
    """A dask scheduler (``tcp://host:8786``), or ``local`` for a LocalCluster that the
    scheduler starts at the first dask run and stops when it stops."""
    n_workers: int = Field(default=2, ge=1)
    """Worker processes of the ``local`` cluster."""
    threads_per_worker: int = Field(default=1, ge=1)
    """Threads of each ``local`` worker (runs at once per worker)."""
    connect_timeout: float = Field(default=10.0, gt=0)
    """Seconds to reach the scheduler before the runs waiting for it fail."""
    dashboard_address: str | None = ":0"
    """Where the ``local`` cluster serves its dashboard (``:0``: a free port; needs
    ``bokeh``); ``None`` for none."""


class SchedulerConfig(BaseModel):
    """Settings of one scheduler session."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str | None = None
    """IANA zone conditions are evaluated in (default: the system's)."""
    shutdown_timeout: float = 30.0
    """Seconds running tasks get to finish at shutdown before they are terminated."""
    termination_grace: float = 2.0
    """Seconds a terminated run gets to stop before it is killed or abandoned."""
    poll_interval: float = 1.0
    """How often conditions that cannot predict their next change are re-checked."""
    default_execution: Literal["main", "async", "thread", "process", "dask"] = "thread"
    """Execution of plain functions that do not say (coroutines default to async)."""
    process_workers: int | None = Field(default=None, ge=1)
    """Size of the warm process pool (default: the number of CPUs, at least 2)."""
    env: str | None = None
    """The environment name read by ``env 'prod'`` conditions."""
    keep_runs: int | None = Field(default=10_000, ge=1)
    """Runs kept per task in the history (``None``: all)."""
    keep_days: float | None = Field(default=365.0, gt=0)
    """Days of history kept (``None``: forever)."""
    output_tail: int = Field(default=4096, ge=0)
    """Characters of each run's output kept in its history row."""
    dask: DaskSettings = Field(default_factory=DaskSettings)
    """The cluster of ``execution="dask"`` runs (written as ``[dask]`` in the files)."""

    @field_validator("shutdown_timeout", "termination_grace", "poll_interval", mode="before")
    @classmethod
    def _span(cls, value: Any) -> float:
        try:
            return parse_span(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None


DEFAULT_IMPORT_TIMEOUT = 10.0


class ReloadSettings(BaseModel):
    """How the tasks folder is watched and reloaded."""

    # Built on first use: only the CLI and the UI need it, not a script's start-up.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    watch: bool = True
    """Watch the folder and hot-reload changed modules (``False``: load once at start)."""
    force_polling: bool | None = None
    """Poll instead of using file system notifications (for NFS, SMB, some containers).
    ``None``: poll if ``WATCHFILES_FORCE_POLLING`` says so, else let watchfiles decide."""
    poll_delay_ms: int = Field(default=300, ge=10)
    """Polling interval when polling (a save is seen within one to two intervals)."""
    debounce_ms: int = Field(default=1000, ge=10)
    """Longest time a continuous burst of changes is grouped before a reload runs."""
    step_ms: int = Field(default=50, ge=5)
    """A reload runs once no new change arrived for this long (a burst of saves, such as
    a ``git checkout``, is one reload)."""
    import_timeout: float = Field(default=DEFAULT_IMPORT_TIMEOUT, gt=0)
    """Seconds a module may take to import before it is abandoned and reported."""
    terminate_removed: bool = False
    """Terminate runs in progress of tasks a reload removed (default: let them finish)."""
    missing_poll: float = Field(default=1.0, gt=0)
    """While the tasks folder is missing, how often to look for it (seconds)."""


#: Every binding id a ``[keymap]`` may remap (the TUI's ``?`` screen lists them). Kept
#: here, without Textual, so ``check`` and ``run`` validate a keymap too; a test checks
#: it against the TUI's bindings.
KEYMAP_IDS = frozenset({
    # main screen, task table, log pane
    "help", "force_run", "toggle_disabled", "terminate", "restart", "filter", "clear_filter",
    "follow_log", "log_only", "problems", "cycle_panes", "detail", "sort", "log_top",
    "log_tail", "log_left", "log_right", "log_search", "log_next", "log_prev",
    # the app (any screen)
    "shutdown", "shutdown_ctrl_c", "shutdown_ctrl_q", "stop_scheduler",
    # detail, errors, help and confirm screens
    "detail_back", "detail_older", "detail_newer", "detail_reload", "problems_close", "problems_full",
    "help_close", "confirm_yes", "confirm_no",
})


def _nearest(word: str, choices: Any) -> str:
    near = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


class AppConfig(BaseModel):
    """Everything configurable from files, environment and flags."""

    # Built on first use: only the CLI and the UI need it, not a script's start-up.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    tasks_dir: str = "tasks"
    """The folder of task modules."""
    state_dir: str | None = None
    """Where history and the lock live (default: ``.tui-sched`` beside the tasks folder)."""
    insecure_permissions: bool = False
    """Load task modules even if others can write them (not recommended)."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """TUI key remapping: binding id -> keys (``{"force_run": "F"}``; ids in the ``?`` help)."""
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    reload: ReloadSettings = Field(default_factory=ReloadSettings)

    @model_validator(mode="before")
    @classmethod
    def _dask_table(cls, data: Any) -> Any:
        # ``[dask]`` is a table of its own in the files, but the engine reads it from its
        # scheduler settings: it is moved there before validation.
        if isinstance(data, dict) and "dask" in data:
            data = dict(data)
            scheduler = dict(data.get("scheduler") or {})
            scheduler["dask"] = data.pop("dask")
            data["scheduler"] = scheduler
        return data

    @property
    def dask(self) -> DaskSettings:
        """The ``[dask]`` settings."""
        return self.scheduler.dask

    @field_validator("keymap")
    @classmethod
    def _known_ids(cls, keymap: dict[str, str]) -> dict[str, str]:
        for binding_id in keymap:
            if binding_id not in KEYMAP_IDS:
                raise ValueError(f"unknown binding id {binding_id!r}{_nearest(binding_id, KEYMAP_IDS)} "
                                 "(the ? screen lists every id)")
        return keymap


_ENV_PREFIX = "TUI_SCHED_"


def _from_env() -> dict[str, Any]:
    out: dict[str, Any] = {}
    sched_fields = set(SchedulerConfig.model_fields)
    for key, value in os.environ.items():
        if not key.startswith(_ENV_PREFIX) or key == "TUI_SCHED_WORKER":
            continue
        name = key[len(_ENV_PREFIX):].lower()
        if name.startswith("dask_"):  # TUI_SCHED_DASK_ADDRESS -> [dask] address
            out.setdefault("dask", {})[name[len("dask_"):]] = value
        elif name in sched_fields:
            out.setdefault("scheduler", {})[name] = value
        elif name in AppConfig.model_fields:
            out[name] = value
    return out


def _from_files(folder: Path) -> tuple[dict[str, Any], str | None]:
    for candidate in (folder / "tui-sched.toml", folder / "pyproject.toml"):
        if not candidate.is_file():
            continue
        try:
            data = tomllib.loads(candidate.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{candidate}: {exc}") from None
        if candidate.name == "pyproject.toml":
            data = data.get("tool", {}).get("tui-sched")
            if data is None:
                continue
        return data, str(candidate)
    return {}, None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_config(tasks_dir: str | None, flags: dict[str, Any] | None = None) -> AppConfig:
    """Merge the configuration sources (flags win) and validate.

    Raises:
        ConfigError: Naming the key and where it came from.
    """
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    folder = Path(tasks_dir or flags.get("tasks_dir") or "tasks").resolve().parent
    file_data, source = _from_files(folder)
    merged = _merge(_merge(file_data, _from_env()), flags)
    if tasks_dir is not None:
        merged["tasks_dir"] = tasks_dir
    try:
        return AppConfig(**merged)
    except ValidationError as exc:
        where = source or "environment/flags"
        problems = [_problem(err, where) for err in exc.errors()]
        raise ConfigError("\n".join(problems)) from None


def _problem(err: Any, where: str) -> str:
    """One validation error as ``what, key, file, nearest valid key``."""
    loc = [str(p) for p in err["loc"]]
    # ``[dask]`` is validated inside the scheduler settings: named as the user wrote it.
    shown = loc[1:] if loc[:2] == ["scheduler", "dask"] else loc
    key = ".".join(shown)
    if err["type"] == "extra_forbidden":
        model: type[BaseModel] = AppConfig
        for part in loc[:-1]:
            field = model.model_fields.get(part)
            inner = field.annotation if field is not None else None
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                model = inner
        prefix = ".".join(shown[:-1])
        near = difflib.get_close_matches(loc[-1], sorted(model.model_fields), n=1, cutoff=0.6)
        hint = f"; did you mean {'.'.join([prefix, near[0]]) if prefix else near[0]!r}?" if near else ""
        valid = ", ".join(sorted(model.model_fields))
        return f"unknown configuration key {key!r} ({where}){hint} (valid here: {valid})"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"invalid configuration {key!r} ({where}): {msg}"
