"""Loading task modules and hot-reloading them as the folder changes.

``Reloader`` (with ``FolderBuilder`` for an ``EngineHost``) is the API; ``load_folder``
loads a folder once (``tui-sched check``, tests).
"""

from __future__ import annotations

from tui_sched.reload.events import ReloadFinished, ReloadWarning, WatchStatus
from tui_sched.reload.loader import LoadReport, load_folder
from tui_sched.reload.reloader import FolderBuilder, Reloader
from tui_sched.reload.settings import ReloadSettings

__all__ = ["FolderBuilder", "LoadReport", "ReloadFinished", "ReloadSettings", "ReloadWarning",
           "Reloader", "WatchStatus", "load_folder"]
