"""The condition pane: the selected task's condition as a tree of truths."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui_sched.conditions.explain import Explanation
from tui_sched.engine.why import DependencyFact, Why
from tui_sched.tui.model import fmt_clock


class ConditionPane(Tree[None]):
    """Each node of the condition with ✓ (true) or ✗ (false), coloured, and for time
    conditions when its truth may next change: "why didn't it run?" at a glance.

    A disabled task says so above its condition (which is not checked meanwhile); an
    ``after task 'x'`` node says when ``x`` last reached the outcome and when this task
    last started (it holds once the first is the later), and whether ``x`` is disabled.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"condition-pane--true", "condition-pane--false",
                                             "condition-pane--note"}
    """Styles of true and false nodes and of the next-change note."""

    DEFAULT_CSS = """
    ConditionPane {
        border: round $foreground 30%;
        border-title-color: $text-muted;
        scrollbar-size-vertical: 1;
    }
    ConditionPane:focus { border: round $accent; }
    ConditionPane > .condition-pane--true { color: $text-success; }
    ConditionPane > .condition-pane--false { color: $text-error; }
    ConditionPane > .condition-pane--note { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("(no task selected)", id=id)
        self.show_root = True
        self.guide_depth = 2
        self._shown: tuple[str | None, Explanation | None, Why] | None = None
        self.border_title = "Condition"
        self._why: dict[str, DependencyFact] = {}

    def show(self, task: str | None, explanation: Explanation | None, condition: str,
             now: float, tz: tzinfo, why: Why | None = None) -> None:
        """Show ``task``'s explained condition (redrawn only when it changed)."""
        why = why or Why()
        key = (task, explanation, why)
        if key == self._shown:
            return
        self._shown = key
        self._why = {fact.text: fact for fact in why.dependencies}
        self.border_title = f"Condition: {task}" if task else "Condition"
        self.clear()
        parent = self.root
        if why.disabled and task:
            note = self.get_component_rich_style("condition-pane--false")
            self.root.set_label(Text("⊘ disabled: not checked until enabled (d)", style=note))
            if explanation is None:
                self.root.add_leaf(Text(condition or "(forced runs only)"))
                return
            parent = self.root.add(self._label(explanation, now, tz), expand=True)
        elif explanation is None:
            self.root.set_label(Text("(forced runs only)" if task and not condition
                                     else condition or "(no task selected)"))
            return
        else:
            self.root.set_label(self._label(explanation, now, tz))
        self._add(parent, explanation, now, tz)
        self.root.expand_all()

    def _add(self, node: TreeNode[None], exp: Explanation, now: float, tz: tzinfo) -> None:
        self._add_facts(node, exp, now, tz)
        for child in exp.children:
            sub = node.add(self._label(child, now, tz),
                           allow_expand=bool(child.children) or child.text in self._why)
            self._add(sub, child, now, tz)

    def _label(self, exp: Explanation, now: float, tz: tzinfo) -> Text:
        mark, cls = ("✓", "true") if exp.truth else ("✗", "false")
        text = Text(f"{mark} {exp.text}", style=self.get_component_rich_style(f"condition-pane--{cls}"))
        note = self.get_component_rich_style("condition-pane--note")
        if exp.error:
            text.append(f"  error: {exp.error}", style=note)
        elif exp.next_change is not None:
            text.append(f"  next {fmt_clock(exp.next_change, now, tz)}", style=note)
        return text

    def _add_facts(self, node: TreeNode[None], exp: Explanation, now: float, tz: tzinfo) -> None:
        fact = self._why.get(exp.text)
        if fact is not None:
            note = self.get_component_rich_style("condition-pane--note")
            for line in dependency_notes(fact, now, tz):
                node.add_leaf(Text(line, style=note))


def dependency_notes(fact: DependencyFact, now: float, tz: tzinfo) -> list[str]:
    """``x succeeded 10:02:03`` and ``this task started 10:05:00`` (and ``x`` disabled)."""
    if fact.upstream_missing:
        return [f"no task {fact.task!r} is loaded"]
    lines = [f"{fact.task} {fact.verb} {fmt_clock(fact.reached, now, tz)}" if fact.reached is not None
             else f"{fact.task} never {fact.verb}",
             f"this task started {fmt_clock(fact.started, now, tz)}" if fact.started is not None
             else "this task never started"]
    if fact.upstream_disabled:
        lines.append(f"⊘ {fact.task} is disabled: it runs only when forced")
    return lines
