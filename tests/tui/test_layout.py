"""80x24 shows what an operator needs (one-line header, status/task/last/next, Quit and
Help in the footer); at 200x50 the extra width goes to the log's task names and Next."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets._footer import FooterKey
from tuikit import make_host, ready, run_app, table, until, write_tasks

from tui_sched.tui.app import SchedulerApp
from tui_sched.tui.widgets.header import StatusLine
from tui_sched.tui.widgets.log_pane import LogPane

TASKS = "".join(f'''
@app.task("every {i + 1} days", execution="main")
def task_{i:02d}_with_a_long_name():
    pass
''' for i in range(13))


def host(tmp_path: Path) -> object:
    write_tasks(tmp_path / "tasks", TASKS)
    return make_host(tmp_path / "tasks", tmp_path / "state")


def test_80x24_one_header_line_essential_columns_quit_and_help(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 13)
        await pilot.pause()
        status = app.main.query_one(StatusLine)
        assert status.region.height == 1, "the header is one line, however long the store path"
        t = table(app)
        header = " ".join(t.render_line(0).text.split())
        assert header.startswith("Status Task Last run Next")
        assert t.region.right <= 80
        assert t.scrollable_content_region.height - 1 >= 9, "most of 13 tasks show"
        shown = {k.description: k for k in app.screen.query(FooterKey)}
        for what in ("Quit", "Help"):
            assert what in shown and shown[what].region.right <= 80, f"{what} in the footer"

    run_app(host(tmp_path), scenario, size=(80, 24), store_path="/a/rather/long/path/" * 4)


def test_200x50_gives_the_extra_width_to_task_names_and_next(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 13)
        log = app.main.query_one(LogPane)
        await until(pilot, lambda: any("task_01_with_a_long_name " in ln for ln in log.lines),
                    "full task names in the log")
        await pilot.pause()
        line = table(app).render_line(2).text  # the second task: every 2 days
        assert "task_01_with_a_long_name " in line and "04 Mar 09:00 in 2d00h " in line

    run_app(host(tmp_path), scenario, size=(200, 50))
