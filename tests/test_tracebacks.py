"""A load error shows the user's file and line, not tui-sched's frames, in the headless
log (``TUI_SCHED_FULL_TRACEBACKS=1`` keeps them)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from cli_process import Headless

from tui_sched.reload.loader import load_folder
from tui_sched.tracebacks import PACKAGE_ROOT, user_traceback

TYPO = 'from tui_sched import App\napp = App()\n\n@app.task("every 10 secnds")\ndef typo():\n    pass\n'


def typo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks"
    folder.mkdir(mode=0o755)
    (folder / "typo.py").write_text(TYPO)
    (folder / "typo.py").chmod(0o644)
    return folder


def test_only_the_users_frames_are_left_and_the_count_of_the_rest_is_said(tmp_path: Path) -> None:
    [err] = load_folder(typo_folder(tmp_path)).errors
    assert PACKAGE_ROOT in err.traceback
    short, hidden = user_traceback(err.traceback)
    assert hidden >= 5 and PACKAGE_ROOT not in short and "<frozen" not in short
    assert 'typo.py", line 4, in <module>' in short
    assert '@app.task("every 10 secnds")' in short
    assert short.splitlines()[0] == "Traceback (most recent call last):"
    assert f"({hidden} frame(s) of tui-sched and importlib hidden; f: show them)" in short
    assert short.rstrip().endswith("did you mean 'seconds'?")


@pytest.mark.slow
def test_the_headless_log_shows_the_users_line_and_the_caret_without_our_frames(
        tmp_path: Path) -> None:
    typo_folder(tmp_path)
    run = Headless("tasks", cwd=tmp_path)
    try:
        run.expect("failed to load")
        run.expect("did you mean 'seconds'?")
        run.expect("TUI_SCHED_FULL_TRACEBACKS=1 shows them")
        run.expect("started")
        run.signal(signal.SIGTERM)
        assert run.wait() == 0
    finally:
        run.kill()
    text = "\n".join(run.lines)
    assert 'typo.py", line 4, in <module>' in text
    assert "every 10 secnds" in text and "^" in text
    assert PACKAGE_ROOT not in text, "no frames of tui-sched"
