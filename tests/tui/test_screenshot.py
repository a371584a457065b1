"""The README's picture: the UI on the example tasks, saved by Textual's own
``save_screenshot``. ``make screenshot`` writes it to ``docs/screenshot.svg``
(``TUI_SCHED_SCREENSHOT=path``); the test suite makes it in a temporary folder, so the
picture can always be made again."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot
from tuikit import make_host, ready, run_app, select, until

from tui_sched.engine.clock import SystemClock
from tui_sched.tui.app import SchedulerApp
from tui_sched.tui.widgets.log_pane import LogPane

ROOT = Path(__file__).resolve().parents[2]
SIZE = (100, 30)


@pytest.mark.slow
def test_the_readme_screenshot_of_the_example_tasks(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    shutil.copytree(ROOT / "tasks", tasks, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (tasks, *tasks.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    target = Path(os.environ.get("TUI_SCHED_SCREENSHOT") or tmp_path / "screenshot.svg").resolve()
    random.seed(21)  # the examples' random numbers and failures, in this process

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 11)
        log = app.main.query_one(LogPane)

        def finished(task: str) -> bool:
            return any(f" {task} " in ln and " in " in ln and "│ ▶" not in ln for ln in log.lines)

        for task in ("fetch_numbers", "summarise", "heartbeat", "hello_shell", "hello_code",
                     "count_primes", "flaky"):
            await until(pilot, lambda task=task: finished(task), f"{task} ran", timeout=30)
        await select(pilot, app, "summarise")
        await until(pilot, lambda: "fetch_numbers succeeded" in str(app.main.query_one("#condition").root
                                                                    .children[0].label)
                    if app.main.query_one("#condition").root.children else False,
                    "the condition pane", timeout=10)
        await pilot.pause(0.3)
        target.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(filename=target.name, path=str(target.parent))

    # The real clock: task output is stamped with it, so a fake one would show two times.
    run_app(make_host(tasks, tmp_path / "state", SystemClock()), scenario, size=SIZE,
            store_path=".tui-sched/history.sqlite3")
    svg = target.read_text()
    assert svg.startswith("<svg") and "fetch_numbers" in svg and "summarise" in svg
