"""The log pane follows until the user scrolls up, and only then; one ``l`` resumes;
search with ``/``, ``n``/``N``; sideways scrolling; filled from the history at start."""

from __future__ import annotations

from pathlib import Path

from harness import START
from textual.pilot import Pilot
from tuikit import make_host, ready, run_app, select, until, write_tasks

from tui_sched.store.base import Outcome, RunEnd, RunRecord, Trigger
from tui_sched.store.sqlite import SqliteRunStore
from tui_sched.tui.app import SchedulerApp
from tui_sched.tui.widgets.log_pane import LogPane

CHATTY = '''
@app.task()
def chatty():
    for i in range(60):
        print(f"line {i} of chatty's output, long enough to need some width " + "x" * 80)

@app.task()
def quiet():
    pass
'''


def chatty_host(tmp_path: Path) -> object:
    write_tasks(tmp_path / "tasks", CHATTY)
    return make_host(tmp_path / "tasks", tmp_path / "state")


def log_of(app: SchedulerApp) -> LogPane:
    return app.main.query_one(LogPane)


def at_end(log: LogPane) -> bool:
    return log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y


async def run_chatty(pilot: Pilot[object], app: SchedulerApp, times: int = 1) -> None:
    log = log_of(app)
    before = sum("success" in ln for ln in log.lines)
    await pilot.press("f")
    await until(pilot, lambda: sum("success" in ln for ln in log.lines) >= before + times,
                "chatty's run in the log")
    await pilot.pause()


def test_the_log_keeps_following_through_resizes_and_the_filter_box(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 2)
        await select(pilot, app, "chatty")
        log = log_of(app)
        await run_chatty(pilot, app)
        assert at_end(log) and log.border_subtitle == "TAIL"
        for size in ((80, 24), (200, 50), (120, 35)):  # any resize, the header growing
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await until(pilot, lambda: at_end(log), f"the end at {size}")
            assert log.border_subtitle == "TAIL"
        await pilot.press("slash")  # the filter box takes three rows from the log
        await pilot.pause()
        await until(pilot, lambda: at_end(log), "the end with the filter box")
        await pilot.press("escape")
        await pilot.pause()
        await run_chatty(pilot, app)
        await until(pilot, lambda: at_end(log), "the end after the filter")
        assert log.border_subtitle == "TAIL"
        await pilot.press("L")  # only the selected task, and back: still at the end
        await pilot.press("L")
        await until(pilot, lambda: at_end(log), "the end after L, L")
        assert log.border_subtitle == "TAIL"

    run_app(chatty_host(tmp_path), scenario, size=(120, 35))  # type: ignore[arg-type]


def test_scrolling_up_pauses_and_one_l_resumes(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 2)
        await select(pilot, app, "chatty")
        log = log_of(app)
        await run_chatty(pilot, app)
        log.focus()
        await pilot.press("up", "up")
        assert str(log.border_subtitle).startswith("PAUSED") and not at_end(log)
        where = log.scroll_y
        await run_chatty(pilot, app)
        assert log.scroll_y == where, "new lines do not move a paused log"
        assert str(log.border_subtitle).startswith("PAUSED +6")  # 60 lines and 2 events, and more
        await pilot.press("l")  # one press resumes
        assert log.border_subtitle == "TAIL" and at_end(log)
        await pilot.press("l")  # and one pauses, where it is
        assert str(log.border_subtitle).startswith("PAUSED") and at_end(log)
        await pilot.press("l", "pageup", "end")  # end follows again
        assert log.border_subtitle == "TAIL" and at_end(log)
        await pilot.press("pageup", "pagedown", "pagedown", "pagedown")  # back at the end: follows
        assert log.border_subtitle == "TAIL"
        await pilot.press("right", "right")
        assert log.scroll_x == 16 and log.border_subtitle == "TAIL", "sideways keeps following"
        await pilot.press("left")
        assert log.scroll_x == 8

    run_app(chatty_host(tmp_path), scenario, size=(120, 35))  # type: ignore[arg-type]


def test_slash_in_the_log_searches_with_n_and_N(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 2)
        await select(pilot, app, "chatty")
        log = log_of(app)
        await run_chatty(pilot, app)
        log.focus()
        await pilot.press("slash", *"line 5", "enter")
        # line 5 and 50..59: the newest match first, in view, the tail paused
        assert app.focused is log
        assert "11 match" in str(log.border_subtitle) or "1/11" in str(log.border_subtitle)
        current = str(log.border_subtitle)
        assert current.startswith("/line 5 11/11") and "PAUSED" in current
        await pilot.press("n")
        assert str(log.border_subtitle).startswith("/line 5 10/11")
        await pilot.press("N", "N")
        assert str(log.border_subtitle).startswith("/line 5 1/11"), "N wraps to the oldest"
        match = log.lines[int(log.scroll_y) + log.scrollable_content_region.height // 2]
        assert "line 5 of chatty" in match
        await pilot.press("escape")
        assert log.search == "" and "PAUSED" in str(log.border_subtitle)
        await pilot.press("l")
        assert log.border_subtitle == "TAIL" and at_end(log)

    run_app(chatty_host(tmp_path), scenario, size=(120, 35))  # type: ignore[arg-type]


def test_the_log_starts_with_the_runs_from_the_history(tmp_path: Path) -> None:
    base = START.timestamp() - 3600
    (tmp_path / "state").mkdir()
    seed = SqliteRunStore(tmp_path / "state" / "history.sqlite3")
    seed.start_run(RunRecord(1, "chatty", Trigger.FORCED, base))
    seed.finish_run(1, RunEnd(base + 2, Outcome.FAIL, error="ValueError: before the restart",
                              output_tail="hello from before\n"))
    seed.close()

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 2)
        log = log_of(app)
        await until(pilot, lambda: any("earlier run" in ln for ln in log.lines), "the history")
        text = "\n".join(log.lines)
        assert "hello from before" in text
        assert "✗ fail in 2.00s: ValueError: before the restart" in text
        assert text.index("hello from before") < text.index("started with 2 task(s)")

    run_app(chatty_host(tmp_path), scenario)  # type: ignore[arg-type]
