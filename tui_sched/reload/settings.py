"""Settings of the hot reloader, validated with pydantic (an edge: they come from users)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_IMPORT_TIMEOUT = 10.0


class ReloadSettings(BaseModel):
    """How the tasks folder is watched and reloaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
