"""Task bodies for the crash tests, at module level so that a process worker imports
them."""

from __future__ import annotations

import os
from pathlib import Path


def crash_unless(marker: str) -> str:
    """Kill the worker process (a crash) unless ``marker`` exists."""
    if not Path(marker).exists():
        os._exit(3)
    return "fixed"
