"""Wait for a task module under test to reach a point of its import.

Task modules are imported first in a separate process (the vetting child), so a module
signals through a file, not a ``threading.Event``.
"""

from __future__ import annotations

import time
from pathlib import Path


def appeared(path: Path, timeout: float = 10.0) -> bool:
    """Whether ``path`` exists within ``timeout`` seconds (another process makes it:
    poll with a deadline)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
