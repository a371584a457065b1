"""Every condition example in the README is parsed and evaluated, and the README's task
module example loads: the README cannot drift from the code."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_sched import conds, parse_condition
from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context, TaskStatus
from tui_sched.engine.status import StatusIndex
from tui_sched.store.base import Outcome

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SECTION = README.split("## The condition language", 1)[1].split("\n## ", 1)[0]
ROWS = [line for line in SECTION.splitlines() if line.startswith("| `")]

# Backticked fragments in the first column that are parts of a form, not conditions.
FRAGMENTS = {"10s", "1h 30m", "2 days, 12 hours", "300 ms", "run", "success", "fail",
             "finish", "minute", "hour", "day", "week", "month", "on", "this hour",
             "this week", "this month", "this minute", "after", "before", "starting",
             "past 1 hour", "failed", "finished", "terminated", "inacted", "crashed",
             "started", "succeeded", ">", "<=", "<", "==", "!=", "... failed", "... finished",
             "... terminated", "... less than 1 hour", "less than", "file_exists('x.csv')",
             "this task", "task 'x' has failed today"}
OBJECT_FRAGMENTS = {"same names", '@app.cond("...")', "...", "after_fail", "after_finish",
                    "after_terminate", "after_all_fail", "after_all_finish", "after_all_terminate",
                    "after_any_terminate",
                    "after_any_success(...)", "failed", "`.this_week`", ".this_week",
                    "succeeded", '.after("10:00")', '.before("12:00")', '.starting("10:00")',
                    '.at("10:00")', ".on(...)", '.less_than(...)', "time_of_day.between(...)"}


def cells(row: str) -> list[list[str]]:
    return [re.findall(r"`([^`]+)`", cell) for cell in row.strip("|").split(" | ")]


def examples(column: int, skip: set[str]) -> list[str]:
    out = []
    for row in ROWS:
        for item in cells(row)[column]:
            item = item.strip()
            if item not in skip and not item.startswith("..."):
                out.append(item)
    return out


def context() -> Context:
    index = StatusIndex()
    now = datetime(2026, 3, 4, 11, 0, tzinfo=UTC).timestamp()
    for name in ("x", "a", "b", "fetch"):
        index.started(name, now - 600)
        index.finished(name, now - 600, now - 590, Outcome.SUCCESS)
    st: TaskStatus = index.status("self")
    assert st.last_start is None
    return Context(now, UTC, "self", index, now - 3600, 10, {"k": "v"}, "prod",
                   {"file_exists": lambda path: path == "x.csv"})


STRINGS = examples(0, FRAGMENTS)
OBJECTS = examples(1, OBJECT_FRAGMENTS)


def test_the_reference_table_has_examples() -> None:
    assert len(ROWS) >= 25
    assert len(STRINGS) >= 40 and len(OBJECTS) >= 30


@pytest.mark.parametrize("text", STRINGS)
def test_every_string_example_parses_round_trips_and_evaluates(text: str) -> None:
    cond = parse_condition(text, custom={"file_exists": lambda path: True})
    assert parse_condition(str(cond), custom={"file_exists": lambda path: True}) == cond
    ctx = context()
    assert isinstance(cond.evaluate(ctx), bool)
    nxt = cond.next_change(ctx)
    assert nxt is None or nxt > ctx.now


@pytest.mark.parametrize("expr", OBJECTS)
def test_every_object_example_builds_an_equal_string_form(expr: str) -> None:
    namespace = {name: getattr(conds, name) for name in dir(conds) if not name.startswith("_")}
    cond = eval(expr, namespace)  # the README's own code, nothing from outside
    assert isinstance(cond, Condition)
    assert parse_condition(str(cond)) == cond
    assert isinstance(cond.evaluate(context()), bool)


def test_readme_task_module_example_loads(tmp_path: Path) -> None:
    from tui_sched.reload.loader import load_folder

    block = README.split("## A task module", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    folder = tmp_path / "tasks"
    (folder / "helpers").mkdir(parents=True)
    (folder / "example.py").write_text(block)
    (folder / "helpers" / "report.py").write_text("def main():\n    pass\n")
    report = load_folder(folder)
    assert report.errors == []
    assert {t.name for t in report.session.tasks} == {
        "fetch_numbers", "summarise", "crunch", "backup", report.session.tasks[4].name,
        "helpers/report.py:main", "pause_backups"}


def test_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    import tomllib

    from tui_sched.config import load_config

    block = README.split("## Configuration", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    (tmp_path / "tui-sched.toml").write_text(block)
    data = tomllib.loads(block)
    cfg = load_config(str(tmp_path / "tasks"))
    assert cfg.scheduler.timezone == data["scheduler"]["timezone"]
    assert cfg.keymap == {"force_run": "F"}
    assert cfg.scheduler.shutdown_timeout == 30.0


def test_an_unknown_config_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    from tui_sched.config import load_config
    from tui_sched.errors import ConfigError

    (tmp_path / "tui-sched.toml").write_text('[scheduler]\nshutdown_timout = "5 s"\n')
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "tasks"))
    assert "scheduler.shutdown_timout" in str(info.value)
    assert "tui-sched.toml" in str(info.value)
