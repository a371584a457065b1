"""Rocketry's session configuration keys, translated to tui-sched's.

``Rocketry(config={...})`` and ``Rocketry(**kwargs)`` take Rocketry's keys. Each is
mapped to a tui-sched setting, accepted because tui-sched already behaves that way, or
refused with a message that says what to write instead. Unknown keys (a typo such as
``multilanch``) are refused with the nearest key.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tui_sched.errors import ConfigError, suggest
from tui_sched.timespan import parse_span

#: Rocketry key -> tui-sched ``SchedulerConfig`` key (same meaning, values checked there).
RENAMED: dict[str, str] = {
    "execution": "default_execution",
    "task_execution": "default_execution",
    "max_process_count": "process_workers",
    "timezone": "timezone",
}

#: Rocketry session defaults that tui-sched sets per task: Rocketry key -> task option.
TASK_DEFAULTS: dict[str, str] = {
    "timeout": "timeout",
    "multilaunch": "multilaunch",
    "task_priority": "priority",
}

#: Keys accepted as they are: tui-sched always behaves as the reason says.
ALREADY: dict[str, str] = {
    "silence_task_prerun": "a run whose arguments cannot be prepared fails and is recorded; "
                           "the scheduler carries on",
    "silence_task_logging": "a history that cannot be written is reported and kept in memory",
    "silence_cond_check": "a condition that raises is reported; the scheduler carries on",
    "force_status_from_logs": "statuses come from the history, indexed in memory",
    "cycle_sleep": "the scheduler sleeps until the next condition can change, not in cycles",
    "param_materialize": "arguments are resolved when a run starts (before a process run)",
    "tasks_as_daemon": "process workers die with the scheduler",
    "debug": "errors are recorded with their tracebacks",
    "scheduler_logger_basename": "scheduler events are printed by `tui-sched run`",
}

#: Keys accepted with the values tui-sched's behaviour matches, refused otherwise:
#: key -> (accepted values, what to do instead).
ONLY: dict[str, tuple[tuple[Any, ...], str]] = {
    "task_pre_exist": (("raise",), "a task name that is taken is an error; give the task "
                                   "another name="),
    "restarting": (("replace", "recall"), "tui-sched restarts in place: session.restart() "
                                          "reloads every task module (as 'replace' gave "
                                          "fresh code); remove the option"),
    "instant_shutdown": ((False,), "call session.shutdown(force=True) to terminate running "
                                   "runs (a second SIGINT/SIGTERM does too)"),
}

#: Keys refused, with what to do instead.
REFUSED: dict[str, str] = {
    "time_func": "tests inject a clock: tui_sched.engine.clock.FakeClock",
    "cls_lock": "the session locks itself; remove the option",
    "use_instance_naming": "tasks are named after their function; give name= to choose",
    "func_run_id": "runs are identified by their id in the history",
    "logger_repo": "history goes to .tui-sched/history.sqlite3 (App(state_dir=...)) and is "
                   "read with session.get_repo()",
}

_OURS = frozenset({"shutdown_timeout", "termination_grace", "poll_interval",
                   "default_execution", "process_workers", "env", "keep_runs", "keep_days",
                   "output_tail", "timezone"})


@dataclass(frozen=True)
class Translated:
    """Rocketry's configuration in tui-sched's terms.

    Attributes:
        settings: ``SchedulerConfig`` fields.
        task_defaults: Options every task of the app gets unless it gives its own.
        logger_name: The task logger (Rocketry's ``task_logger_basename``), if given.
    """

    settings: dict[str, Any] = field(default_factory=dict)
    task_defaults: dict[str, Any] = field(default_factory=dict)
    logger_name: str | None = None
    shut_cond: Any = None
    """Rocketry's ``shut_cond``, as given (a condition or its string form)."""


def translate(config: Mapping[str, Any]) -> Translated:
    """Translate Rocketry's configuration keys (and tui-sched's own, which pass through).

    Raises:
        ConfigError: A refused or unknown key, saying what to write instead.
    """
    settings: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    logger_name: str | None = None
    shut_cond: Any = None
    for key, val in config.items():
        if key in RENAMED:
            settings[RENAMED[key]] = _timezone(val) if key == "timezone" else val
        elif key in TASK_DEFAULTS:
            if key == "timeout":
                val = _span(val)
            defaults[TASK_DEFAULTS[key]] = val
        elif key == "shut_cond":
            shut_cond = val
        elif key == "task_logger_basename":
            if not isinstance(val, str) or not val:
                raise ConfigError(f"task_logger_basename must be a logger name, not {val!r}")
            logger_name = val
        elif key in ALREADY:
            continue
        elif key in ONLY:
            accepted, instead = ONLY[key]
            if not any(val is a or (isinstance(a, str) and val == a) for a in accepted):
                raise ConfigError(f"Rocketry's option {key}={val!r} is not supported by "
                                  f"tui-sched: {instead}")
        elif key in REFUSED and val is None:
            continue  # Rocketry's default, i.e. not using the feature
        elif key in REFUSED:
            raise ConfigError(f"Rocketry's option {key!r} is not supported by tui-sched: "
                              f"{REFUSED[key]}")
        elif key in _OURS:
            settings[key] = val
        else:
            known = (set(RENAMED) | set(TASK_DEFAULTS) | set(ALREADY) | set(ONLY)
                     | set(REFUSED) | _OURS | {"task_logger_basename", "shut_cond"})
            near = suggest(key, known)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ConfigError(f"unknown session option {key!r}{hint}")
    return Translated(settings, defaults, logger_name, shut_cond)


def _span(val: Any) -> float:
    if isinstance(val, datetime.timedelta):
        return val.total_seconds()
    return parse_span(val)


def _timezone(val: Any) -> Any:
    """A ``tzinfo`` (as Rocketry took) as the zone name tui-sched takes."""
    if val is None or isinstance(val, str):
        return val
    key = getattr(val, "key", None) or getattr(val, "zone", None)  # zoneinfo, pytz
    if isinstance(key, str):
        return key
    if val == datetime.UTC:
        return "UTC"
    raise ConfigError(f"timezone {val!r}: give an IANA zone name such as 'Europe/Berlin' "
                      "or a zoneinfo.ZoneInfo")
