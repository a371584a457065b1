"""Know whether this interpreter is a process-pool worker."""

from __future__ import annotations

import os

WORKER_ENV = "TUI_SCHED_WORKER"


def in_worker() -> bool:
    """True inside a ``process`` execution worker."""
    return os.environ.get(WORKER_ENV) == "1"
