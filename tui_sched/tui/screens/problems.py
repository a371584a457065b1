"""The ``e`` screen: modules that failed to load and engine errors, with tracebacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Log, OptionList


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that went wrong.

    Attributes:
        title: One line (``tasks/x.py:12: NameError: ...``).
        detail: The traceback or full message.
        path: The module it concerns (cleared when that module loads again).
    """

    title: str
    detail: str
    path: str | None = None


class ProblemsScreen(ModalScreen[None]):
    """Pick a problem to read its traceback.

    | Key | Action |
    | :- | :- |
    | `up`/`down` | Choose a problem. |
    | `escape`, `e` | Close. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,e", "close", "Close", id="problems_close"),
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
        log = self.query_one(Log)
        log.clear()
        log.write(self.problems[index].detail)
        log.scroll_home(animate=False)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def action_close(self) -> None:
        """Back to the main screen."""
        self.dismiss(None)
