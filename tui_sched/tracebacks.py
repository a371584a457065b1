"""Tracebacks of the user's code without tui-sched's own frames (pure, no Textual).

A one-character typo in a task module raises deep inside the loader: the user needs their
file and line, not 25 frames of tui-sched and importlib. The UI's ``e`` screen and the
headless log both show the short form; the full one stays available (``f`` in the UI,
``TUI_SCHED_FULL_TRACEBACKS=1`` headless).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The folder of tui-sched's own code, whose frames are hidden.
PACKAGE_ROOT = str(Path(__file__).resolve().parent) + os.sep

#: Environment variable that keeps every frame in the headless log.
FULL_ENV = "TUI_SCHED_FULL_TRACEBACKS"


def user_traceback(traceback: str, hidden_roots: tuple[str, ...] = (PACKAGE_ROOT,),
                   how: str = "f: show them") -> tuple[str, int]:
    """``traceback`` without the frames of files under ``hidden_roots`` (tui-sched's own
    code) and Python's ``<frozen ...>`` import machinery: what is left is the user's file
    and line, and a note saying how many frames were hidden and ``how`` to see them.
    Returns the text and that count."""
    out: list[str] = []
    hidden = 0
    skipping = False
    for line in traceback.splitlines():
        if line.startswith('  File "'):
            path = line[len('  File "'):].split('"', 1)[0]
            skipping = path.startswith("<frozen") or path.startswith(hidden_roots)
            hidden += skipping
            if not skipping:
                out.append(line)
        elif skipping and line.startswith("    "):
            continue  # the hidden frame's source line and carets
        else:
            skipping = False
            out.append(line)
    if hidden:
        at = 1 if out and out[0].startswith("Traceback") else 0
        out.insert(at, f"  ({hidden} frame(s) of tui-sched and importlib hidden; {how})")
    return "\n".join(out), hidden
