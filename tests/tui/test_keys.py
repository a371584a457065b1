"""Every key of the main screen, driven with Pilot against a real engine (fake clock)."""

from __future__ import annotations

from pathlib import Path

from harness import START
from textual.pilot import Pilot
from textual.widgets import Log
from tuikit import (
    make_host,
    ready,
    resolved,
    row_text,
    run_app,
    select,
    table,
    until,
    write_tasks,
)

from tui_sched.engine.host import EngineHost
from tui_sched.store.base import Outcome, Trigger
from tui_sched.store.sqlite import SqliteRunStore
from tui_sched.tui.app import SchedulerApp
from tui_sched.tui.screens.confirm import ConfirmScreen
from tui_sched.tui.screens.detail import DetailScreen
from tui_sched.tui.screens.help import HelpScreen
from tui_sched.tui.widgets.condition_pane import ConditionPane
from tui_sched.tui.widgets.log_pane import LogPane

ROWS = 4


def host_for(tmp_path: Path) -> EngineHost:
    write_tasks(tmp_path / "tasks")
    return make_host(tmp_path / "tasks", tmp_path / "state")


def test_f_force_runs_the_selected_task_and_the_store_records_it(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        engine = await ready(pilot, app, ROWS)
        await select(pilot, app, "hello")
        assert "never" in row_text(app, "hello")
        await pilot.press("f")
        await until(pilot, lambda: "✓ succeeded" in row_text(app, "hello"), "hello succeeded")
        [run] = await resolved(engine.history("hello"))
        assert (run.trigger, run.outcome, run.return_summary) == (Trigger.FORCED, Outcome.SUCCESS, "42")

    run_app(host_for(tmp_path), scenario)


def test_d_disable_persists_across_an_engine_restart(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        engine = await ready(pilot, app, ROWS)
        await select(pilot, app, "hourly")
        await pilot.press("d")
        await until(pilot, lambda: "⊘ disabled" in row_text(app, "hourly"), "disabled shown")
        assert engine.session["hourly"].disabled
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the restart question")
        await pilot.press("y")
        await until(pilot, lambda: app.host.restarts == 1 and app.host.engine is not engine
                    and app.host.engine is not None and app.host.engine.ready.is_set(), "a restart")
        new = app.host.engine
        assert new is not None and new.session["hourly"].disabled
        await until(pilot, lambda: table(app).row_count == ROWS
                    and "⊘ disabled" in row_text(app, "hourly"), "disabled after restart")
        await pilot.press("d")
        await until(pilot, lambda: not new.session["hourly"].disabled, "enabled again")

    run_app(host_for(tmp_path), scenario)


def test_R_restart_asks_first_and_reloads_modules(tmp_path: Path) -> None:
    host = host_for(tmp_path)

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        engine = await ready(pilot, app, ROWS)
        write_tasks(tmp_path / "tasks", "@app.task()\ndef newcomer():\n    pass\n", "extra.py")
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the restart question")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "dialog closed")
        assert app.host.engine is engine and app.host.restarts == 0
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the restart question")
        await pilot.press("y")
        await until(pilot, lambda: table(app).row_count == ROWS + 1, "the new module's task")
        assert app.host.restarts == 1
        assert "newcomer" in row_text(app, "newcomer")

    run_app(host, scenario)


def test_q_asks_and_cancel_keeps_running_confirm_shuts_down_cleanly(tmp_path: Path) -> None:
    host = host_for(tmp_path)

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        engine = await ready(pilot, app, ROWS)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the shutdown question")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "dialog closed")
        assert engine.state == "running" and host.alive
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the shutdown question")
        await pilot.press("y")
        await until(pilot, lambda: not host.alive, "the engine to stop")
        await until(pilot, lambda: app.return_code == 0, "the app to exit with 0")

    app = run_app(host, scenario)
    assert app.return_code == 0 and host.error is None


def test_q_again_while_shutting_down_terminates_running_runs(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks")
    host = make_host(tmp_path / "tasks", tmp_path / "state", shutdown_timeout=30.0)

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await select(pilot, app, "sleeper")
        await pilot.press("f")
        await until(pilot, lambda: "▶ running" in row_text(app, "sleeper"), "sleeper running")
        await pilot.press("q", "y")
        await until(pilot, lambda: "shutting down" in str(app.main.query_one("#status").render()),
                    "the shutting-down state")
        assert host.alive, "the run keeps the engine up (30 s shutdown_timeout)"
        await pilot.press("q")
        await until(pilot, lambda: not host.alive, "forced stop")
        await until(pilot, lambda: app.return_code == 0, "the app to exit with 0")

    run_app(host, scenario)
    store = SqliteRunStore.open_readonly(tmp_path / "state" / "history.sqlite3")
    try:
        [run] = store.history("sleeper")
    finally:
        store.close()
    assert run.outcome is Outcome.TERMINATE


def test_t_terminates_the_selected_run_after_confirmation(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        engine = await ready(pilot, app, ROWS)
        await select(pilot, app, "sleeper")
        await pilot.press("t")  # not running: a warning, no dialog
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("f")
        await until(pilot, lambda: "▶ running" in row_text(app, "sleeper"), "sleeper running")
        await until(pilot, lambda: bool(engine.running_runs()), "the run registered")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the terminate question")
        await pilot.press("y")
        await until(pilot, lambda: "■ terminated" in row_text(app, "sleeper"), "terminated shown")
        [run] = await resolved(engine.history("sleeper"))
        assert run.outcome is Outcome.TERMINATE

    run_app(host_for(tmp_path), scenario)


def test_slash_filters_by_name_status_and_condition(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await until(pilot, lambda: "✓ succeeded" in row_text(app, "hourly"), "hourly ran")
        await pilot.press("slash", *"hou")
        await until(pilot, lambda: table(app).row_count == 1, "filter by name")
        assert table(app).selected == "hourly"
        await pilot.press("escape")
        await until(pilot, lambda: table(app).row_count == ROWS, "filter cleared")
        await pilot.press("slash", *"1 hour")  # condition text
        await until(pilot, lambda: table(app).row_count == 1, "filter by condition")
        await pilot.press("enter")  # keeps the filter, back to the table
        assert app.focused is table(app) and table(app).row_count == 1
        await pilot.press("escape", "slash", *"succeeded")  # status word
        await until(pilot, lambda: table(app).row_count == 1, "filter by status")
        assert "Tasks 1/4" in str(table(app).border_title)

    run_app(host_for(tmp_path), scenario)


def test_enter_opens_the_detail_with_a_failed_runs_traceback(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await select(pilot, app, "boom")
        await pilot.press("f")
        await until(pilot, lambda: "✗ failed" in row_text(app, "boom"), "boom failed")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail screen")
        output = app.screen.query_one("#output", Log)
        await until(pilot, lambda: "Traceback" in "\n".join(output.lines), "the traceback")
        text = "\n".join(output.lines)
        assert "ValueError: boom: the upstream is down" in text
        assert "forced" in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DetailScreen), "back")

    run_app(host_for(tmp_path), scenario)


def test_l_toggles_follow_and_tab_cycles_panes(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        log = app.main.query_one(LogPane)
        await until(pilot, lambda: log.border_subtitle == "TAIL", "TAIL shown")
        await pilot.press("l")
        assert not log.follow and str(log.border_subtitle).startswith("PAUSED")
        await pilot.press("l")
        assert log.follow and log.border_subtitle == "TAIL"
        assert app.focused is table(app)
        await pilot.press("tab")
        assert app.focused is log
        await pilot.press("tab")
        assert app.focused is app.main.query_one(ConditionPane)
        await pilot.press("tab")
        assert app.focused is table(app)

    run_app(host_for(tmp_path), scenario)


def test_L_limits_the_log_to_the_selected_task(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        log = app.main.query_one(LogPane)
        await until(pilot, lambda: any("hourly" in ln for ln in log.lines), "hourly's lines")
        await select(pilot, app, "hello")
        await pilot.press("f")
        await until(pilot, lambda: any("hello" in ln and "success" in ln for ln in log.lines),
                    "hello's lines")
        await pilot.press("L")
        assert log.only == "hello" and log.lines
        assert all(" hello " in ln for ln in log.lines)
        await pilot.press("L")
        assert any("hourly" in ln for ln in log.lines)

    run_app(host_for(tmp_path), scenario)


def test_question_mark_lists_every_key_with_its_keymap_id(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        assert isinstance(app.screen, HelpScreen)
        ids = {i for row in app.screen.keys for i in row[2].split(", ")}
        assert {"force_run", "toggle_disabled", "restart", "shutdown", "terminate", "detail",
                "filter", "follow_log", "help", "sort"} <= ids
        keys = {i: row[0] for row in app.screen.keys for i in row[2].split(", ")}
        assert keys["force_run"] == "F"  # remapped by the keymap below
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "closed")

    run_app(host_for(tmp_path), scenario, keymap={"force_run": "F"})


def test_keymap_remaps_a_binding_by_id(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        engine = await ready(pilot, app, ROWS)
        await select(pilot, app, "hello")
        await pilot.press("F")
        await until(pilot, lambda: "✓ succeeded" in row_text(app, "hello"), "hello ran")
        assert len(await resolved(engine.history("hello"))) == 1

    run_app(host_for(tmp_path), scenario, keymap={"force_run": "F"})


def test_command_palette_offers_every_action(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Force-run the selected task", "Disable or enable the selected task (persisted)",
                "Restart the scheduler and reload every module", "Terminate the selected task's run",
                "Filter tasks by name, status or condition", "Follow or pause the log",
                "Open the task's detail", "Shut down"} <= titles

    run_app(host_for(tmp_path), scenario)


def test_s_cycles_the_sort_order(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        t = table(app)
        assert t.sort_by == "name"
        assert [str(t.get_row_at(i)[1]) for i in range(ROWS)] == ["boom", "hello", "hourly", "sleeper"]
        await pilot.press("s")
        assert t.sort_by == "status"
        await until(pilot, lambda: str(t.get_row_at(0)[1]) == "hourly", "succeeded first")

    run_app(host_for(tmp_path), scenario)


def test_detail_pages_through_history_and_draws_the_duration_trend(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from tui_sched.store.base import RunEnd, RunRecord
    from tui_sched.tui.widgets.trend import DurationTrend

    base = START.timestamp() - 86400  # inside the retention window
    (tmp_path / "state").mkdir()
    seed = SqliteRunStore(tmp_path / "state" / "history.sqlite3")
    for i in range(25):
        seed.start_run(RunRecord(i + 1, "hello", Trigger.SCHEDULED, base + i * 60))
        seed.finish_run(i + 1, RunEnd(base + i * 60 + i, Outcome.SUCCESS))
    seed.close()

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await select(pilot, app, "hello")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail screen")
        runs = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: runs.row_count == 20, "the first page")
        assert str(runs.get_row_at(0)[0]) == "25"
        trend = app.screen.query_one(DurationTrend)
        assert list(trend.data or []) == [float(i) for i in range(5, 25)]
        await pilot.press("n")
        await until(pilot, lambda: runs.row_count == 5, "the second page")
        assert str(runs.get_row_at(0)[0]) == "5"
        await pilot.press("p")
        await until(pilot, lambda: runs.row_count == 20 and str(runs.get_row_at(0)[0]) == "25",
                    "back to the first page")

    run_app(host_for(tmp_path), scenario)


def test_help_fits_and_scrolls_at_80x24_with_every_key(tmp_path: Path) -> None:
    from textual.containers import VerticalScroll

    from tui_sched.tui.screens.main import MainScreen
    from tui_sched.tui.widgets.task_table import TaskTable

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        body = screen.query_one(VerticalScroll)
        await pilot.pause()
        assert body.region.right <= 80 and body.region.bottom <= 24, "inside the terminal"
        assert body.max_scroll_x == 0, "nothing is cut on the right: descriptions wrap"
        rows = {what: keys for keys, what, _ in screen.keys}
        ids = {i for *_, id_ in screen.keys for i in id_.split(", ") if i}
        for cls in (MainScreen, TaskTable, LogPane, DetailScreen):
            assert {b.id for b in cls.BINDINGS if b.id} <= ids  # type: ignore[union-attr]
        assert rows["Select the previous / next task"] == "↑ ↓"
        assert rows["Older page of runs"] == "n" and rows["Newer page of runs"] == "p"
        assert rows["Log search: the next older match"] == "n"
        assert body.max_scroll_y > 0, "more than a screenful at 80x24: it scrolls"
        legend = screen.query_one("#legend")
        assert not body.region.contains_region(legend.region)
        await pilot.press("end")
        await until(pilot, lambda: body.scroll_y == body.max_scroll_y, "scrolled to the end")
        assert body.region.contains_region(legend.region), "the closing note is reachable"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "closed")

    run_app(host_for(tmp_path), scenario, size=(80, 24))


def seed_runs(tmp_path: Path, count: int, duration: float = 0.0) -> None:
    from tui_sched.store.base import RunEnd, RunRecord

    base = START.timestamp() - 86400  # inside the retention window
    (tmp_path / "state").mkdir()
    seed = SqliteRunStore(tmp_path / "state" / "history.sqlite3")
    for i in range(count):
        seed.start_run(RunRecord(i + 1, "boom", Trigger.SCHEDULED, base + i * 60))
        seed.finish_run(i + 1, RunEnd(base + i * 60 + duration, Outcome.FAIL, error="ValueError: no",
                                      traceback="Traceback (most recent call last):\n" * 30))
    seed.close()


BLOCKER = """
import time
from pathlib import Path

@app.task()
def boom():
    raise ValueError("no")

@app.task(execution="main")
def blocker():
    # Holds the scheduler loop (so history pages wait) until the test lets it go.
    release = Path(__file__).with_name("release")
    deadline = time.monotonic() + 20
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
"""


def test_detail_paging_keeps_the_page_number_with_its_rows_under_fast_keys(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    seed_runs(tmp_path, 25)
    write_tasks(tmp_path / "tasks", BLOCKER)

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        engine = await ready(pilot, app, 2)
        await select(pilot, app, "boom")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail screen")
        runs = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: runs.row_count == 20, "the first page")
        engine.session["blocker"].force_run = True
        await until(pilot, lambda: bool(engine.running_runs()), "the loop held")
        await pilot.press(*"nnnnnn")  # while the first of them waits for its page
        (tmp_path / "tasks" / "release").touch()
        await until(pilot, lambda: runs.row_count == 5, "the second page")
        await pilot.pause(0.2)
        assert "page 2 " in str(runs.border_title) and str(runs.get_row_at(0)[0]) == "5"
        await pilot.press(*"pppp")
        await until(pilot, lambda: runs.row_count == 20, "the first page again")
        await pilot.pause(0.2)
        assert "page 1 " in str(runs.border_title) and str(runs.get_row_at(0)[0]) == "25"

    run_app(make_host(tmp_path / "tasks", tmp_path / "state"), scenario)


def test_detail_announces_the_traceback_says_yes_no_and_draws_equal_durations_flat(
        tmp_path: Path) -> None:
    from textual.widgets import Static

    from tui_sched.tui.widgets.trend import DurationTrend

    seed_runs(tmp_path, 4, duration=0.0)

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await select(pilot, app, "boom")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), "the detail screen")
        output = app.screen.query_one("#output", Log)
        await until(pilot, lambda: len(output.lines) > 30, "the run's text")
        assert output.lines[1].startswith("↓ traceback below (30 lines)")
        assert output.scroll_y == 0 and len(output.lines) > output.size.height, "below the fold"
        trend = app.screen.query_one(DurationTrend)
        assert str(trend.render()) == "▁▁▁▁", "four runs of 0.00 s are four equal bars"
        options = str(app.screen.query_one("#options", Static).render())
        assert "disabled   no" in options and "False" not in options

    run_app(host_for(tmp_path), scenario)


def test_ctrl_c_hint_names_ctrl_c_and_a_second_ctrl_c_terminates(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks")
    host = make_host(tmp_path / "tasks", tmp_path / "state", shutdown_timeout=30.0)

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await select(pilot, app, "sleeper")
        await pilot.press("f")
        await until(pilot, lambda: "▶ running" in row_text(app, "sleeper"), "sleeper running")
        await pilot.press("ctrl+c", "y")
        await until(pilot, lambda: "shutting down" in str(app.main.query_one("#status").render()),
                    "the shutting-down state")
        assert "q or ctrl+c again: terminate runs" in str(app.main.query_one("#status").render())
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not host.alive, "forced stop")

    run_app(host, scenario)


def test_the_header_names_the_run_the_last_scheduler_died_during(tmp_path: Path) -> None:
    # What a scheduler killed during a run of `hourly` leaves: the run open in the store.
    (tmp_path / "state").mkdir()
    store = SqliteRunStore(tmp_path / "state" / "history.sqlite3")
    open_run = store.begin_run("hourly", Trigger.SCHEDULED, START.timestamp() - 60)
    store.flush()
    store.close()

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, ROWS)
        await until(pilot, lambda: f"died during hourly (run {open_run.id})"
                    in str(app.main.query_one("#status").render()), "the crash in the header")

    run_app(host_for(tmp_path), scenario)
