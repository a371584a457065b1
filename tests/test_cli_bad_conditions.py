"""Bad conditions in one module never keep the good modules of the folder from running
(issue 17 items 11 and 16): the real ``tui-sched check`` and ``tui-sched run``."""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path

import pytest
from cli_process import Headless, cli

MODULES = {
    # A plain function beside `&`: refused where it is written, with what to do.
    "plain_function.py": """
        from tui_sched import App
        from tui_sched.conds import daily
        app = App()

        def is_foo():
            return True

        @app.task(daily & is_foo)
        def uses_plain():
            pass
    """,
    # A cron expression that never fires: refused when the condition is parsed.
    "never_fires.py": """
        from tui_sched import App
        app = App()

        @app.task("cron 0 0 30 2 *")
        def never():
            pass
    """,
    # Loads fine, but its custom condition raises each time it is evaluated.
    "raising.py": """
        from tui_sched import App
        app = App()

        @app.cond("is broken")
        def is_broken():
            raise RuntimeError("the probe is down")

        @app.task("every 1 second & is broken")
        def fragile():
            pass
    """,
    # A registered custom condition used as an operand, as in Rocketry.
    "registered.py": """
        from tui_sched import App
        from tui_sched.conds import daily
        app = App()

        @app.cond()
        def is_ready():
            return True

        @app.task(daily & is_ready)
        def uses_registered():
            print("registered ran")
    """,
    "good.py": """
        from tui_sched import App
        app = App()

        runs = 0

        @app.task("every 1 second")
        def tick():
            global runs
            runs += 1
            print(f"tick number {runs}")
    """,
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for name, source in MODULES.items():
        (tasks / name).write_text(textwrap.dedent(source).lstrip())
    return tmp_path


def test_check_names_each_bad_condition_and_still_lists_the_good_tasks(folder: Path) -> None:
    result = cli("check", "tasks", cwd=folder)
    assert result.returncode == 1
    err = result.stderr
    assert "Traceback" not in err
    assert "plain_function.py:8" in err
    assert "in `daily & is_foo`: is_foo is a plain function, not a condition" in err
    assert "@app.cond()" in err
    assert "never_fires.py:4" in err
    assert "cron expression that fires (day 30 never occurs in February)" in err
    assert "did you mean '0 0 L 2 *'?" in err
    assert "2 error(s)" in result.stdout
    for task in ("fragile", "uses_registered", "tick"):
        assert f"  {task}: " in result.stdout


@pytest.mark.slow
def test_run_reports_bad_conditions_and_keeps_the_good_tasks_going(folder: Path) -> None:
    proc = Headless("tasks", "--state", str(folder / "state"), cwd=folder)
    try:
        proc.expect("plain_function.py:8 failed to load")
        proc.expect("never_fires.py:4 failed to load")
        proc.expect("task 'fragile': evaluating its condition failed: the probe is down")
        proc.expect("registered ran")
        # The engine goes on: the good task runs again a second later.
        proc.expect("tick number 2")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    assert not any("engine stopped" in line for line in proc.lines), proc.lines
    assert not any("fragile: started" in line for line in proc.lines)
