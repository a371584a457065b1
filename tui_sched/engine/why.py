"""Why the selected task runs or not, beyond its condition's truths (pure; engine thread):
whether it is disabled, and for each ``after task 'x'`` node what ``x`` last did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui_sched.conditions.explain import Explanation
from tui_sched.conditions.status import VERB_OUTCOMES, After, last_of

if TYPE_CHECKING:
    from tui_sched.engine.scheduler import Engine


@dataclass(frozen=True, slots=True)
class DependencyFact:
    """What an ``after task 'x'`` node of the selected task's condition waits on: when
    ``x`` last reached the outcome, and when this task last started (the node holds
    once the first is later than the second)."""

    text: str
    """The node's text (``after task 'x'``), which the condition pane labels."""
    task: str
    verb: str
    reached: float | None
    """When ``task`` last reached the outcome (``None``: never)."""
    started: float | None
    """When the selected task last started (``None``: never)."""
    upstream_disabled: bool
    """``task`` is disabled, so it will not get there by itself."""
    upstream_missing: bool = False
    """No task of that name is loaded."""


@dataclass(frozen=True, slots=True)
class Why:
    """Why the selected task runs or not, beyond its condition's truths."""

    disabled: bool = False
    dependencies: tuple[DependencyFact, ...] = ()


def _nodes(exp: Explanation) -> list[Explanation]:
    out = [exp]
    for child in exp.children:
        out.extend(_nodes(child))
    return out


def why_of(engine: Engine, name: str, explanation: Explanation) -> Why:
    """The facts the condition pane adds to ``name``'s explained condition (engine thread)."""
    task = engine.session.get(name)
    status = engine.status.status
    started = status(name).last_start
    facts = []
    for node in _nodes(explanation):
        cond = node.condition
        if isinstance(cond, After):
            upstream = engine.session.get(cond.task)
            facts.append(DependencyFact(
                node.text, cond.task, cond.verb,
                last_of(status(cond.task), VERB_OUTCOMES[cond.verb]), started,
                upstream is not None and upstream.disabled, upstream is None))
    return Why(task is not None and task.disabled, tuple(facts))
