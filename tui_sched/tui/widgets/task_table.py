"""The task table: one row per task, filtered and sorted, updated cell by cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from tui_sched.tui.model import (
    Snapshot,
    Status,
    TaskRow,
    last_text,
    matches,
    next_text,
    strip_text,
)

Cell = tuple[str, str | None]
"""A cell as text plus the component class that styles it (compared before redrawing)."""

_STATUS_CLASS = {
    Status.SUCCEEDED: "ok", Status.FAILED: "bad", Status.CRASHED: "bad",
    Status.RUNNING: "running", Status.QUEUED: "warn", Status.TERMINATED: "warn",
    Status.MISSED: "warn", Status.DISABLED: "muted", Status.IDLE: "muted",
}

#: Sort orders, cycled by ``s``: key functions over rows (smaller first).
_STATUS_ORDER = {s: i for i, s in enumerate([
    Status.RUNNING, Status.FAILED, Status.CRASHED, Status.TERMINATED, Status.QUEUED,
    Status.MISSED, Status.SUCCEEDED, Status.IDLE, Status.DISABLED])}
SORTS: dict[str, Callable[[TaskRow], Any]] = {
    "name": lambda r: r.name.lower(),
    "status": lambda r: (_STATUS_ORDER[r.status], r.name.lower()),
    "last run": lambda r: (-(r.last_end or 0.0), r.name.lower()),
    "next": lambda r: (r.next_wake is None, r.next_wake or 0.0, r.name.lower()),
}

#: (key, label, width) per column; the compact set fits 80 columns.
_COLUMNS = {
    "status": ("Status", 12), "name": ("Task", 15), "last": ("Last run", 16),
    "next": ("Next", 14), "recent": ("Recent", 10), "exec": ("Exec", 7),
    "cond": ("Condition", 36),
}
_WIDE_WIDTHS = {"name": 22, "next": 13}
_COMPACT = ("status", "name", "last", "next", "recent")
_WIDE = ("status", "name", "last", "next", "recent", "exec", "cond")
_SORT_OF_COLUMN = {"status": "status", "name": "name", "last": "last run", "next": "next"}


class TaskTable(DataTable[Text]):
    """Every task with its status (symbol and word), last run, next check and recent runs.

    | Key | Action |
    | :- | :- |
    | `enter` | Open the selected task's detail screen. |
    | `s` | Cycle the sort order (name, status, last run, next). |
    | `up`/`down`/`pageup`/`pagedown` | Move the selection. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_detail", "Detail", id="detail", tooltip="Open the task's detail"),
        Binding("s", "cycle_sort", "Sort", id="sort", show=False, tooltip="Cycle the sort order"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--ok", "task-table--bad", "task-table--running", "task-table--warn",
        "task-table--muted",
    }
    """Status styles (theme variables only)."""

    DEFAULT_CSS = """
    TaskTable { scrollbar-size-vertical: 1; }
    TaskTable > .task-table--ok { color: $text-success; }
    TaskTable > .task-table--bad { color: $text-error; text-style: bold; }
    TaskTable > .task-table--running { color: $text-accent; text-style: bold; }
    TaskTable > .task-table--warn { color: $text-warning; }
    TaskTable > .task-table--muted { color: $text-muted; }
    """

    filter_text: reactive[str] = reactive("")
    """Filter: every word must occur in the name, status or condition."""
    sort_by: reactive[str] = reactive("name")
    """The current sort order (a key of ``SORTS``)."""
    wide: reactive[bool] = reactive(False)
    """Show the execution and condition columns (set from the width)."""

    class DetailRequested(Message):
        """The user asked for a task's detail screen."""

        def __init__(self, task: str) -> None:
            super().__init__()
            self.task = task
            """The task name."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._last_snapshot: Snapshot | None = None
        self._shown_order: list[str] = []
        self._cell_cache: dict[str, tuple[Cell, ...]] = {}
        self._style_cache: dict[str, Style] = {}
        self._col_keys: tuple[str, ...] = ()
        self._layout: tuple[tuple[str, ...], int] = ((), 0)
        self.shown = 0
        """Rows shown after filtering."""

    # -- data ------------------------------------------------------------------------
    @property
    def selected(self) -> str | None:
        """The task under the cursor."""
        if not self._shown_order or not 0 <= self.cursor_row < len(self._shown_order):
            return None
        return self._shown_order[self.cursor_row]

    def show(self, snapshot: Snapshot | None) -> None:
        """Show ``snapshot``, redrawing only cells that changed (or everything when the
        set or order of rows changed)."""
        self._last_snapshot = snapshot
        if snapshot is None:
            return
        query = self.filter_text
        rows = [r for r in snapshot.rows if matches(r, query)] if query else list(snapshot.rows)
        rows.sort(key=SORTS[self.sort_by])
        cells = {r.name: self._row_cells(r, snapshot) for r in rows}
        order = [r.name for r in rows]
        if order != self._shown_order or not self.columns:
            self._rebuild(order, cells)
        else:
            keys = self._col_keys
            for name in order:
                old, new = self._cell_cache.get(name), cells[name]
                if old == new or old is None:
                    continue
                for key, a, b in zip(keys, old, new, strict=True):
                    if a != b:
                        self.update_cell(name, key, self._text(b))
        self._cell_cache = cells
        self.shown = len(order)
        self._retitle()

    def mark(self, task: str, status: Status) -> None:
        """Show ``status`` for ``task`` at once, before the engine confirms it."""
        if task in self._cell_cache and "status" in self._col_keys:
            cell: Cell = (f"{status.symbol} {status.value}", _STATUS_CLASS[status])
            self.update_cell(task, "status", self._text(cell))

    def _row_cells(self, row: TaskRow, snap: Snapshot) -> tuple[Cell, ...]:
        status = row.status
        values: dict[str, Cell] = {
            "status": (f"{status.symbol} {status.value}", _STATUS_CLASS[status]),
            "name": (row.name, None),
            "last": (last_text(row, snap.at, snap.tz), None),
            "next": (next_text(row, snap.at, snap.tz), "running" if row.running_since else None),
            "recent": (strip_text(row), None),
            "exec": (row.execution, "muted"),
            "cond": (row.condition or "(forced only)", "muted" if not row.condition else None),
        }
        return tuple(values[k] for k in self._wanted_columns())

    def _wanted_columns(self) -> tuple[str, ...]:
        return _WIDE if self.wide else _COMPACT

    def _text(self, cell: Cell) -> Text:
        text, cls = cell
        if cls is None:
            return Text(text, no_wrap=True, overflow="ellipsis")
        style = self._style_cache.get(cls)
        if style is None:
            style = self._style_cache[cls] = self.get_component_rich_style(f"task-table--{cls}")
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")

    def _cond_width(self) -> int:
        """The condition column takes what the others leave (wide layout only)."""
        others = sum(_WIDE_WIDTHS.get(k, _COLUMNS[k][1]) for k in _WIDE if k != "cond")
        padding = 2 * self.cell_padding * len(_WIDE) + 1  # + the vertical scrollbar
        return max(16, self.scrollable_content_region.width - others - padding)

    def _rebuild(self, order: list[str], cells: dict[str, tuple[Cell, ...]]) -> None:
        keep = self.selected
        wanted = self._wanted_columns()
        layout = (wanted, self._cond_width() if self.wide else 0)
        if layout != self._layout:
            self._layout = layout
            self.clear(columns=True)
            for key in wanted:
                label, width = _COLUMNS[key]
                if self.wide:
                    width = _WIDE_WIDTHS.get(key, width)
                if key == "cond":
                    width = self._cond_width()
                self.add_column(label, width=width, key=key)
            self._col_keys = wanted
        else:
            self.clear()
        text = self._text
        for name in order:
            self.add_row(*(text(c) for c in cells[name]), key=name)
        self._shown_order = order
        if keep in cells:
            self.move_cursor(row=order.index(keep), animate=False)

    def _retitle(self) -> None:
        total = len(self._last_snapshot.rows) if self._last_snapshot else 0
        title = f"Tasks {self.shown}/{total} · sort: {self.sort_by}"
        if self.filter_text:
            title += f" · filter: {self.filter_text}"
        self.border_title = title

    # -- reactives, actions, events ----------------------------------------------------
    def watch_filter_text(self) -> None:
        self.show(self._last_snapshot)

    def watch_sort_by(self) -> None:
        self.show(self._last_snapshot)

    def watch_wide(self) -> None:
        self._shown_order = []  # force a rebuild with the other column set
        self.show(self._last_snapshot)

    def action_cycle_sort(self) -> None:
        """Next sort order."""
        names = list(SORTS)
        self.sort_by = names[(names.index(self.sort_by) + 1) % len(names)]

    def action_open_detail(self) -> None:
        """Ask the screen for the selected task's detail."""
        if self.selected is not None:
            self.post_message(self.DetailRequested(self.selected))

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= 110
        if wide != self.wide:
            self.wide = wide
        elif wide and self._cond_width() != self._layout[1]:
            self._shown_order = []  # the condition column takes the new width
            self.show(self._last_snapshot)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        sort = _SORT_OF_COLUMN.get(str(event.column_key.value))
        if sort is not None:
            self.sort_by = sort

    def _on_theme_changed(self) -> None:
        self._style_cache.clear()
        self._cell_cache = {}
        self._shown_order = []
        self.show(self._last_snapshot)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _: self._on_theme_changed(), init=False)
