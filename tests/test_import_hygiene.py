"""The headless core never imports Textual (harlequin's check, as a subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from cli_process import Headless


def test_importing_the_package_does_not_load_textual() -> None:
    code = ("import sys, tui_sched, tui_sched.cli, tui_sched.engine.scheduler, "
            "tui_sched.reload.loader; print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_importing_the_package_creates_nothing(tmp_path: Path) -> None:
    code = "import tui_sched, os; print(sorted(os.listdir('.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert out.stdout.strip() == "[]"


def test_headless_run_never_loads_textual(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "probe.py").write_text(textwrap.dedent('''
        import sys
        from tui_sched import App
        from tui_sched.args import Session
        app = App()

        @app.task("true", execution="main")
        def probe(session=Session()):
            print(f"textual loaded: {'textual' in sys.modules}")
            session.shutdown()
    '''))
    proc = Headless("tasks", cwd=tmp_path)
    try:
        line = proc.expect("textual loaded:")
        assert line.endswith("textual loaded: False")
        assert proc.wait() == 0
    finally:
        proc.kill()
