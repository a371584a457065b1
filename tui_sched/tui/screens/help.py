"""The ``?`` help screen: every key of the screen it was opened from."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label


class HelpScreen(ModalScreen[None]):
    """A table of keys and what they do (keymap overrides included).

    | Key | Action |
    | :- | :- |
    | `escape`, `?`, `q` | Close. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help_close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 76; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: auto; max-height: 30; }
    HelpScreen Label { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        """Args:
            keys: ``(key, action, binding id)`` rows.
        """
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical():
            table: DataTable[str] = DataTable(cursor_type="row", id="keys")
            table.add_column("Key", width=8)
            table.add_column("Action", width=44)
            table.add_column("Keymap id", width=16)
            table.add_rows(self.keys)
            yield table
            yield Label("Every action is also in the command palette (ctrl+p). "
                        "Status is shown as a symbol and a word: ✓ succeeded, ✗ failed, "
                        "▶ running, ◼ terminating, » queued, ■ terminated, ! crashed, ⊘ disabled, "
                        "↷ missed, · idle.")

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help."""
        self.dismiss(None)
