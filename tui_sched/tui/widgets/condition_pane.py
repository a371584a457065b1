"""The condition pane: the selected task's condition as a tree of truths."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui_sched.conditions.explain import Explanation
from tui_sched.tui.model import fmt_clock


class ConditionPane(Tree[None]):
    """Each node of the condition with ✓ (true) or ✗ (false), coloured, and for time
    conditions when its truth may next change: "why didn't it run?" at a glance."""

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
        self._shown: tuple[str | None, Explanation | None] | None = None
        self.border_title = "Condition"

    def show(self, task: str | None, explanation: Explanation | None, condition: str,
             now: float, tz: tzinfo) -> None:
        """Show ``task``'s explained condition (redrawn only when it changed)."""
        key = (task, explanation)
        if key == self._shown:
            return
        self._shown = key
        self.border_title = f"Condition: {task}" if task else "Condition"
        self.clear()
        if explanation is None:
            self.root.set_label(Text("(forced runs only)" if task and not condition
                                     else condition or "(no task selected)"))
            return
        self.root.set_label(self._label(explanation, now, tz))
        self._add(self.root, explanation, now, tz)
        self.root.expand_all()

    def _add(self, node: TreeNode[None], exp: Explanation, now: float, tz: tzinfo) -> None:
        for child in exp.children:
            sub = node.add(self._label(child, now, tz), allow_expand=bool(child.children))
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
