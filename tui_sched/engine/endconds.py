"""End conditions: a run in progress is terminated when its task's ``end_cond`` holds."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable

from tui_sched.conditions.context import Context
from tui_sched.executors import Job
from tui_sched.tasks.task import Task


def check_end_conditions(runs: Iterable[tuple[Task, Job]], ctx: Context, poll_interval: float,
                         report: Callable[[str, str], None]) -> float | None:
    """Terminate each run (task, job) whose task's ``end_cond`` holds at ``ctx.now``;
    return when the others' end conditions may next change (``None``: on an event). A
    condition that raises is reported (message, traceback) and polled."""
    deadline: float | None = None
    for task, job in runs:
        cond = task.options.end_cond
        if cond is None or job.stop_reason is not None:
            continue
        ctx.task = task.name
        try:
            if cond.evaluate(ctx):
                job.terminate(f"end condition {cond} became true")
                continue
            change = cond.next_change(ctx)
        except Exception as exc:
            report(f"task {task.name!r}: evaluating end_cond failed: {exc}", traceback.format_exc())
            change = ctx.now + poll_interval
        if change is not None:
            deadline = change if deadline is None else min(deadline, change)
    return deadline
