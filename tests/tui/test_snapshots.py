"""Layout snapshots at 80x24 and 120x40 (pytest-textual-snapshot), made deterministic by a
fake clock, ``main`` execution (runs in launch order) and distinct priorities.

Update them with ``pytest tests/tui/test_snapshots.py --snapshot-update`` after an
intended layout change, and look at the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tuikit import make_app, make_host, stop_host, table, until, write_tasks

from tui_sched.engine.host import EngineHost
from tui_sched.tui.app import SchedulerApp
from tui_sched.tui.widgets.log_pane import LogPane

SNAP_TASKS = '''
@app.task("every 10 seconds", execution="main", priority=9)
def fetch():
    return [1, 2, 3]

@app.task("after task 'fetch'", execution="main")
def report():
    return "ok"

@app.task("every 1 hour", execution="main", priority=8)
def broken():
    raise ValueError("upstream said no")

@app.task("daily between 22:00 and 23:00", execution="main", priority=7)
def nightly():
    pass

@app.task("every 5 minutes", execution="main", disabled=True, priority=6)
def paused():
    pass

@app.task(execution="main")
def manual():
    pass
'''


@pytest.fixture
def settled_app(tmp_path: Path) -> Iterator[Callable[[], tuple[SchedulerApp, Any]]]:
    """An app on a fake clock plus a ``run_before`` that waits until it has settled."""
    hosts: list[EngineHost] = []

    def make() -> tuple[SchedulerApp, Any]:
        write_tasks(tmp_path / "tasks", SNAP_TASKS)
        host = make_host(tmp_path / "tasks", tmp_path / "state")
        hosts.append(host)
        app = make_app(host)

        async def settle(pilot: Pilot[object]) -> None:
            def done() -> bool:
                t = table(app)
                if t.row_count != 6:
                    return False
                rows = {str(t.get_row_at(i)[1]): str(t.get_row_at(i)[0]) for i in range(6)}
                log = app.main.query_one(LogPane)
                return (rows.get("report") == "✓ succeeded" and rows.get("broken") == "✗ failed"
                        and sum("success" in ln or "fail" in ln for ln in log.lines) == 3
                        and app.main.bridge.selected == "broken"
                        and "Condition: broken" in str(app.main.query_one("#condition").border_title))

            await until(pilot, done, "the settled screen")
            await pilot.pause()

        return app, settle

    yield make
    for host in hosts:
        stop_host(host)


def test_main_screen_80x24(snap_compare: Any, settled_app: Callable[[], tuple[SchedulerApp, Any]]) -> None:
    app, settle = settled_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_main_screen_120x40(snap_compare: Any, settled_app: Callable[[], tuple[SchedulerApp, Any]]) -> None:
    app, settle = settled_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


def test_filtered_by_status_80x24(snap_compare: Any,
                                  settled_app: Callable[[], tuple[SchedulerApp, Any]]) -> None:
    app, settle = settled_app()

    async def filtered(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("slash", *"fail")
        await until(pilot, lambda: table(app).row_count == 1, "the filter")

    assert snap_compare(app, terminal_size=(80, 24), run_before=filtered)


def test_help_screen_120x40(snap_compare: Any, settled_app: Callable[[], tuple[SchedulerApp, Any]]) -> None:
    app, settle = settled_app()

    async def helped(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=helped)


def test_help_screen_80x24(snap_compare: Any, settled_app: Callable[[], tuple[SchedulerApp, Any]]) -> None:
    app, settle = settled_app()

    async def helped(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("end")  # scrolled to the closing note
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=helped)
