"""Rocketry's ``session.config`` (and the ``Config()`` argument): its options read and
set by Rocketry's names while the app is set up.

Setting an option translates it as ``Rocketry(config=...)`` does: the default
execution, the task defaults (``timeout``, ``multilaunch``, ``task_priority``), the task
logger's name and ``shut_cond`` take effect for what comes after; options tui-sched
always honours are accepted; the settings of the scheduler itself (``timezone``,
``max_process_count``, ...) are fixed once it runs and are refused with that reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui_sched.errors import ConfigError
from tui_sched.rocketry.config import ALREADY, RENAMED, translate
from tui_sched.tasks.options import EXECUTIONS

if TYPE_CHECKING:
    from tui_sched.config import SchedulerConfig
    from tui_sched.engine.session import Session
    from tui_sched.rocketry.link import RocketryLink

_EXECUTION_KEYS = ("execution", "task_execution")


class SessionConfig:
    """Rocketry's session configuration, over a tui-sched session.

    >>> from tui_sched import Rocketry
    >>> app = Rocketry(state_dir=None)
    >>> app.session.config.execution = "main"
    >>> app.session.default_execution
    'main'
    """

    def __init__(self, session: Session, link: RocketryLink) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_accepted", {})
        object.__setattr__(self, "task_defaults", {})
        object.__setattr__(self, "settings", None)

    task_defaults: dict[str, Any]
    """Options every task created from now on gets unless it gives its own."""
    settings: SchedulerConfig | None
    """The app's scheduler settings (read by Rocketry's names: ``max_process_count``)."""

    def use_settings(self, settings: SchedulerConfig) -> None:
        """Read the scheduler settings from ``settings`` (the app's ``config``)."""
        object.__setattr__(self, "settings", settings)

    def __getattr__(self, name: str) -> Any:
        if name in _EXECUTION_KEYS:
            return self._session.default_execution
        if name in ("timeout", "multilaunch", "task_priority"):
            option = "priority" if name == "task_priority" else name
            return self.task_defaults.get(option)
        if name == "shut_cond":
            return self._link.shut_cond
        if name == "task_logger_basename":
            return self._link.logger_name
        if name in ALREADY:
            return self._accepted.get(name)
        ours = RENAMED.get(name, name)
        if self.settings is not None and ours in type(self.settings).model_fields:
            return getattr(self.settings, ours)
        raise AttributeError(f"session config has no option {name!r} tui-sched can show")

    def __setattr__(self, name: str, value: Any) -> None:
        translated = translate({name: value})  # refused and unknown options raise here
        if name in _EXECUTION_KEYS:
            if value not in EXECUTIONS:
                raise ConfigError(f"session option {name}: use one of {', '.join(EXECUTIONS)}, "
                                  f"not {value!r}")
            self._session.default_execution = value
        elif translated.settings:
            raise ConfigError(f"session option {name} is a setting of the scheduler itself; "
                              "give it to Rocketry(...) or App(...) (or the configuration "
                              "file), before the scheduler starts")
        elif translated.task_defaults:
            self.task_defaults.update(translated.task_defaults)
        elif translated.logger_name is not None:
            self._link.logger_name = translated.logger_name
        elif name == "shut_cond":
            from tui_sched.rocketry.app import as_condition_value

            self._link.shut_cond = None if value is None else as_condition_value(value)
        else:
            self._accepted[name] = value
