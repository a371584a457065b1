""""Why didn't it run?": the condition pane says a task is disabled, what an ``after
task`` dependency last did, and the Next column shows the run, not a window's edge."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets.tree import TreeNode
from tuikit import make_host, ready, row_text, run_app, select, until, write_tasks

from tui_sched.tui.app import SchedulerApp
from tui_sched.tui.widgets.condition_pane import ConditionPane

TASKS = '''
@app.task("every 1 hour", execution="main")
def upstream():
    pass

@app.task("after task 'upstream'", execution="main")
def downstream():
    pass

@app.task("every 45 seconds", execution="main", disabled=True)
def off():
    pass
'''


def labels(node: TreeNode[None]) -> list[str]:
    out = [str(node.label)]
    for child in node.children:
        out.extend(labels(child))
    return out


def pane_text(app: SchedulerApp) -> str:
    return "\n".join(labels(app.main.query_one(ConditionPane).root))


def test_the_condition_pane_says_disabled_and_what_a_dependency_last_did(tmp_path: Path) -> None:
    write_tasks(tmp_path / "tasks", TASKS)

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 3)
        await until(pilot, lambda: "✓ succeeded" in row_text(app, "downstream"), "the pipeline ran")
        await select(pilot, app, "off")
        await until(pilot, lambda: "disabled" in pane_text(app), "the disabled note")
        text = pane_text(app)
        assert text.startswith("⊘ disabled: not checked until enabled (d)")
        assert "every 45 seconds" in text
        await select(pilot, app, "downstream")
        await until(pilot, lambda: "upstream succeeded" in pane_text(app), "the dependency's facts")
        text = pane_text(app)
        assert "✗ after task 'upstream'" in text  # it ran after upstream: false until upstream runs again
        assert "upstream succeeded 09:00:00" in text and "this task started 09:00:00" in text
        assert row_text(app, "downstream").split("✓ 0.00s ")[1].startswith("after upstream ")
        await select(pilot, app, "upstream")
        await pilot.press("d")
        await until(pilot, lambda: "after upstream ⊘" in row_text(app, "downstream"),
                    "the disabled dependency in Next")
        await select(pilot, app, "downstream")
        await until(pilot, lambda: "⊘ upstream is disabled" in pane_text(app), "the disabled dependency")

    run_app(make_host(tmp_path / "tasks", tmp_path / "state"), scenario)
