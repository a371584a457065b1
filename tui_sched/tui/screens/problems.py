"""The ``e`` screen: modules that failed to load and engine errors, with tracebacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Log, OptionList

from tui_sched.tracebacks import user_traceback


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that went wrong.

    Attributes:
        title: One line (``tasks/x.py:12: NameError: ...``).
        detail: The traceback or full message.
        path: The module it concerns (cleared when that module loads again).
        message: The whole error message (a condition, its caret, a suggestion), shown
            above the traceback.
    """

    title: str
    detail: str
    path: str | None = None
    message: str = ""


class ProblemsScreen(ModalScreen[None]):
    """Pick a problem to read its traceback.

    | Key | Action |
    | :- | :- |
    | `up`/`down` | Choose a problem. |
    | `f` | Show / hide tui-sched's own frames in the traceback. |
    | `escape`, `e` | Close. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,e", "close", "Close", id="problems_close", tooltip="Back to the task table"),
        Binding("f", "full", "Full traceback", id="problems_full",
                tooltip="Show or hide tui-sched's own frames in the traceback"),
    ]

    DEFAULT_CSS = """
    ProblemsScreen { align: center middle; }
    ProblemsScreen > Vertical {
        width: 95%; height: 90%; border: thick $error; background: $surface;
    }
    ProblemsScreen OptionList { height: auto; max-height: 8; }
    ProblemsScreen Log { height: 1fr; border-top: solid $error 50%; }
    ProblemsScreen Label { color: $text-muted; }
    """

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.problems = problems
        self.full = False
        """Show tui-sched's own frames too (``f``)."""
        self._index = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            if not self.problems:
                yield Label("No problems: every module loaded.")
            yield OptionList(*(p.title for p in self.problems), id="problem-list")
            yield Log(id="problem-detail")

    def on_mount(self) -> None:
        if self.problems:
            options = self.query_one(OptionList)
            options.highlighted = 0
            options.focus()
            self._show(0)

    def _show(self, index: int) -> None:
        self._index = index
        problem = self.problems[index]
        detail, hidden = problem.detail, 0
        if not self.full:
            detail, hidden = user_traceback(problem.detail)
        log = self.query_one(Log)
        log.clear()
        if problem.message and problem.message not in detail:
            log.write(problem.message + "\n\n")
        log.write(detail)
        log.scroll_home(animate=False)
        log.border_subtitle = ("f: hide tui-sched's frames" if self.full
                               else f"f: show {hidden} hidden frame(s)" if hidden else "")

    def action_full(self) -> None:
        """Show or hide tui-sched's own frames."""
        self.full = not self.full
        if self.problems:
            self._show(self._index)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def action_close(self) -> None:
        """Back to the main screen."""
        self.dismiss(None)
