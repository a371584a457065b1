"""``explain(cond, ctx)``: the condition as a tree of nodes with their current truth, for
the TUI's condition pane and ``tui-sched check --explain``."""

from __future__ import annotations

from datetime import datetime, tzinfo

from tui_sched.conditions.base import All, Any_, Condition, Not
from tui_sched.conditions.context import Context
from tui_sched.frozen import value


@value
class Explanation:
    """One node of an explained condition.

    Attributes:
        text: ``all of`` / ``any of`` / ``not`` for combinators, else the node's string form.
        truth: Its truth now (``False`` when evaluating it raised).
        next_change: When its truth may next change by time alone (epoch seconds).
        children: The explanations of its sub-conditions.
        condition: The node itself.
        error: What evaluating it raised, if anything (e.g. a broken custom function).
    """

    text: str
    truth: bool
    next_change: float | None
    children: tuple[Explanation, ...]
    condition: Condition
    error: str | None = None

    def render(self, tz: tzinfo | None = None, indent: str = "  ") -> str:
        """Plain-text tree: one line per node, ``[x]``/``[ ]`` for truth (never colour
        alone), and the next change as a time in ``tz`` (default: the system's)."""
        lines: list[str] = []
        self._render(lines, 0, indent, tz)
        return "\n".join(lines)

    def _render(self, lines: list[str], depth: int, indent: str, tz: tzinfo | None) -> None:
        mark = "[x]" if self.truth else "[ ]"
        extra = ""
        if self.error:
            extra = f"  (error: {self.error})"
        elif self.next_change is not None:
            when = datetime.fromtimestamp(self.next_change, tz).astimezone(tz)
            extra = f"  (may change at {when.isoformat(timespec='seconds')})"
        lines.append(f"{indent * depth}{mark} {self.text}{extra}")
        for child in self.children:
            child._render(lines, depth + 1, indent, tz)


def explain(cond: Condition, ctx: Context) -> Explanation:
    """Evaluate every node of ``cond`` at ``ctx`` and return the tree.

    Never raises for a failing node: its ``error`` says what went wrong.
    """
    children = tuple(explain(c, ctx) for c in cond.children())
    label = {All: "all of", Any_: "any of", Not: "not"}.get(type(cond), str(cond))
    try:
        truth = cond.evaluate(ctx)
        change = cond.next_change(ctx)
    except Exception as exc:  # a user's custom function: show it, do not unwind the UI
        return Explanation(label, False, None, children, cond, f"{type(exc).__name__}: {exc}")
    return Explanation(label, truth, change, children, cond)
