"""``Rocketry``: ``App`` under Rocketry's name, taking Rocketry's session options.

>>> from tui_sched import Rocketry
>>> app = Rocketry(execution="thread", state_dir=None)
>>> app.session.default_execution
'thread'
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import ValidationError

from tui_sched.app import _DEFAULT_STATE, App
from tui_sched.conditions.base import Condition
from tui_sched.errors import ConfigError
from tui_sched.rocketry.config import ALREADY, RENAMED, translate

#: Rocketry's task logger.
ROCKETRY_TASK_LOGGER = "rocketry.task"


class Rocketry(App):
    """An ``App`` that speaks Rocketry: ``Rocketry(config={"execution": "async"})``,
    ``Rocketry(execution="async", timeout="5 minutes")``.

    Rocketry's session options are translated (``rocketry.config.translate``); the task
    logger is ``logging.getLogger("rocketry.task")``, as in Rocketry. Unlike Rocketry,
    history is kept in ``.tui-sched/`` (``state_dir=None``: in memory only).

    Args:
        config: Rocketry's (or tui-sched's) session options as a dict.
        state_dir: As for ``App``.
        **kwargs: Session options as keyword arguments.

    Raises:
        ConfigError: An option tui-sched does not support or does not know, saying what
            to write instead.
    """

    def __init__(self, config: dict[str, Any] | None = None, *,
                 state_dir: str | os.PathLike[str] | None = _DEFAULT_STATE,
                 **kwargs: Any) -> None:
        if config is not None and not isinstance(config, dict):
            raise ConfigError(f"Rocketry(config=...) takes a dict of options, not {config!r}")
        clash = set(config or {}) & set(kwargs)
        if clash:
            raise ConfigError(f"option(s) {', '.join(sorted(clash))} given twice: in config= "
                              "and as a keyword argument")
        translated = translate({**(config or {}), **kwargs})
        try:
            super().__init__(state_dir, **translated.settings)
        except ValidationError as exc:
            err = exc.errors()[0]
            ours = str(err["loc"][0]) if err["loc"] else "?"
            theirs = next((k for k in (*(config or {}), *kwargs)
                           if RENAMED.get(k, k) == ours), ours)
            raise ConfigError(f"session option {theirs}: {err['msg']} "
                              f"(got {err.get('input')!r})") from None
        self._task_defaults.update(translated.task_defaults)
        link = self.session.rocketry_link()
        link.logger_name = translated.logger_name or ROCKETRY_TASK_LOGGER
        if translated.shut_cond is not None:
            link.shut_cond = as_condition_value(translated.shut_cond)
        for key, value in {**(config or {}), **kwargs}.items():
            if key in ALREADY:  # readable back from session.config
                setattr(link.config, key, value)


def as_condition_value(value: Any) -> Condition:
    """A condition object or string (as Rocketry's ``shut_cond`` took either)."""
    from tui_sched.conditions import parse_condition
    from tui_sched.conditions.operands import as_condition

    if isinstance(value, str):
        return parse_condition(value)
    return as_condition(value)
