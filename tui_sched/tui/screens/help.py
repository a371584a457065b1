"""The ``?`` help screen: every key of every pane and screen, with its keymap id.

It fits and scrolls at 80x24: descriptions wrap instead of being cut, and the whole
page scrolls with the arrow and page keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KeyRow = tuple[str, str, str]
"""``(keys, what they do, keymap id(s))``."""

Section = tuple[str, list[KeyRow]]
"""A heading (where the keys work) and its rows."""

#: The closing note: every status symbol with its word.
LEGEND = ("Every action is also in the command palette (ctrl+p). Status is always a symbol "
          "and a word: ✓ succeeded, ✗ failed, ▶ running, ◼ terminating, » queued, "
          "■ terminated, ! crashed, ⊘ disabled, ↷ missed, · idle. Remap a key by its id in "
          "the [keymap] table of tui-sched.toml, e.g. force_run = \"F\".")


def key_rows(app: App[object], bindings: Iterable[BindingType]) -> list[KeyRow]:
    """Rows for ``bindings`` as the user has them (keymap applied): keys with the same
    action share a row (``q``, ``ctrl+c``), and so do actions with the same description
    (``up``/``down`` that both "scroll the log")."""
    keymap: dict[str, str] = getattr(app, "_keymap", {}) or {}
    by_action: dict[str, tuple[str, list[str], list[str]]] = {}
    for binding in Binding.make_bindings(bindings):
        what = binding.tooltip or binding.description
        if not what:
            continue
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        shown = [app.get_key_display(Binding(k.strip(), binding.action)) for k in keys.split(",")]
        entry = by_action.setdefault(binding.action, (what, [], []))
        entry[1].extend(k for k in shown if k not in entry[1])
        if binding.id and binding.id not in entry[2]:
            entry[2].append(binding.id)
    by_what: dict[str, tuple[list[str], list[str]]] = {}
    for what, keys_, ids in by_action.values():
        merged = by_what.setdefault(what, ([], []))
        merged[0].extend(k for k in keys_ if k not in merged[0])
        merged[1].extend(i for i in ids if i not in merged[1])
    return [(" ".join(keys_), what, ", ".join(ids)) for what, (keys_, ids) in by_what.items()]


Part = tuple[str, list[KeyRow], Sequence[BindingType], list[KeyRow]]
"""A heading, rows before the bindings, the bindings, rows after them (keys that are not
bindings of their own: a table's arrows, the command palette)."""


def help_sections(app: App[object], parts: Sequence[Part]) -> list[Section]:
    """The help's sections, with each binding as the user has it (keymap applied)."""
    return [(heading, [*before, *key_rows(app, bindings), *after])
            for heading, before, bindings, after in parts]


class HelpScreen(ModalScreen[None]):
    """Every key, by where it works (keymap overrides included).

    | Key | Action |
    | :- | :- |
    | `up`/`down`/`pageup`/`pagedown`/`home`/`end` | Scroll. |
    | `escape`, `?`, `q` | Close. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help_close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; border-title-color: $text-primary;
        border-subtitle-color: $text-muted; background: $surface; padding: 0 1;
        scrollbar-size-vertical: 1; overflow-x: hidden;
    }
    HelpScreen .heading { text-style: bold; color: $text-accent; margin-top: 1; }
    HelpScreen #legend { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, sections: Sequence[Section]) -> None:
        """Args:
            sections: Headings with their rows.
        """
        super().__init__()
        self.sections = list(sections)
        self.keys: list[KeyRow] = [row for _, rows in self.sections for row in rows]
        """Every row (all sections)."""

    @staticmethod
    def _table(rows: list[KeyRow]) -> Table:
        table = Table(box=None, show_header=False, expand=True, padding=(0, 1, 0, 0))
        table.add_column("key", style="bold", width=11, overflow="fold")
        table.add_column("does", ratio=1, overflow="fold")
        table.add_column("id", style="dim", width=18, overflow="fold")
        for keys, what, ids in rows:
            table.add_row(Text(keys), Text(what), Text(ids))
        return table

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            for heading, rows in self.sections:
                yield Label(heading, classes="heading")
                yield Static(self._table(rows))
            yield Static(LEGEND, id="legend", markup=False)

    def on_mount(self) -> None:
        body = self.query_one(VerticalScroll)
        body.border_title = "Keys (key · what it does · keymap id)"
        body.border_subtitle = "↑↓ pgup pgdn: scroll · escape: close"
        body.focus()

    async def action_dismiss(self, result: None = None) -> None:
        """Close the help."""
        self.dismiss(None)
