"""Coming from Rocketry (DESIGN §6.3): Rocketry's documented API on tui-sched.

``from tui_sched import Rocketry`` is ``App`` under Rocketry's name, taking Rocketry's
session options; ``task.logger`` and ``session.get_repo()`` read the run history as
Rocketry's log records; ``Grouper`` collects tasks to include with a prefix. This
package translates; the engine knows nothing of it. (Its names load on first use: the
task model imports parts of it.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_sched.rocketry.app import Rocketry
    from tui_sched.rocketry.grouper import Grouper
    from tui_sched.rocketry.history import HistoryRepo, ReadOnlyRepo, TaskLogRecord

_WHERE = {
    "Rocketry": "tui_sched.rocketry.app",
    "Grouper": "tui_sched.rocketry.grouper",
    "HistoryRepo": "tui_sched.rocketry.history",
    "ReadOnlyRepo": "tui_sched.rocketry.history",
    "TaskLogRecord": "tui_sched.rocketry.history",
}

__all__ = ["Grouper", "HistoryRepo", "ReadOnlyRepo", "Rocketry", "TaskLogRecord"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tui_sched.rocketry' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
