"""Coming from Rocketry (DESIGN §6.3): Rocketry's documented API on tui-sched.

``from tui_sched import Rocketry`` is ``App`` under Rocketry's name, taking Rocketry's
session options; ``task.logger`` and ``session.get_repo()`` read the run history as
Rocketry's log records. This package translates; the engine knows nothing of it.
"""

from __future__ import annotations

from tui_sched.rocketry.app import Rocketry
from tui_sched.rocketry.history import HistoryRepo, ReadOnlyRepo, TaskLogRecord

__all__ = ["HistoryRepo", "ReadOnlyRepo", "Rocketry", "TaskLogRecord"]
