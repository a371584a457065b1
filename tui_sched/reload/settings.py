"""Settings of the hot reloader (defined with the rest of the configuration)."""

from __future__ import annotations

from tui_sched.config import DEFAULT_IMPORT_TIMEOUT, ReloadSettings

__all__ = ["DEFAULT_IMPORT_TIMEOUT", "ReloadSettings"]
