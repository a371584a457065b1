"""Imported by task modules under test (outside the tasks folder, so never reloaded)."""

from __future__ import annotations

import threading

importing = threading.Event()
"""Set by a module that is about to hang at import time."""
