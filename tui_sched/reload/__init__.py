"""Loading task modules (and, later, watching them)."""

from __future__ import annotations

from tui_sched.reload.loader import LoadReport, load_folder

__all__ = ["LoadReport", "load_folder"]
