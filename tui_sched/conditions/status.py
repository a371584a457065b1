"""Conditions on task runs: dependencies (``after task 'x'``), history (``has failed
today``), ``running`` and ``retry(n)``. They change only on run events, except where a
time window or span moves (then ``next_change`` says when)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tui_sched.conditions.base import Condition
from tui_sched.conditions.context import Context, TaskStatus
from tui_sched.conditions.text import quote
from tui_sched.store.base import Outcome

Verb = Literal["succeeded", "failed", "finished", "terminated", "inacted", "crashed"]

#: Outcomes each verb stands for. ``finished`` follows Rocketry: success, fail, terminate.
VERB_OUTCOMES: dict[str, tuple[Outcome, ...]] = {
    "succeeded": (Outcome.SUCCESS,),
    "failed": (Outcome.FAIL,),
    "finished": (Outcome.SUCCESS, Outcome.FAIL, Outcome.TERMINATE),
    "terminated": (Outcome.TERMINATE,),
    "inacted": (Outcome.INACTION,),
    "crashed": (Outcome.CRASH,),
}
DEPEND_VERBS = ("succeeded", "failed", "finished", "terminated")


def last_of(status: TaskStatus, outcomes: tuple[Outcome, ...]) -> float | None:
    """Latest end time of a run with one of ``outcomes``."""
    ends = [t for o in outcomes if (t := status.last(o)) is not None]
    return max(ends, default=None)


@dataclass(frozen=True, slots=True)
class After(Condition):
    """``after task 'x' [succeeded|failed|finished|terminated]``.

    True when ``task`` reached the outcome after this task last started, or at all if
    this task never started.
    """

    task: str
    verb: Verb = "succeeded"

    def __post_init__(self) -> None:
        quote(self.task)  # reject unrepresentable names early
        if self.verb not in DEPEND_VERBS:
            raise ValueError(f"'after task' takes one of {', '.join(DEPEND_VERBS)}")

    def evaluate(self, ctx: Context) -> bool:
        reached = last_of(ctx.status.status(self.task), VERB_OUTCOMES[self.verb])
        if reached is None:
            return False
        mine = ctx.self_status().last_start
        return mine is None or reached > mine

    def task_refs(self) -> frozenset[str]:
        return frozenset({self.task})

    def __str__(self) -> str:
        verb = "" if self.verb == "succeeded" else f" {self.verb}"
        return f"after task {quote(self.task)}{verb}"
