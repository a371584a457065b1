"""The task table: a virtual list (only the visible rows are ever rendered, and only
their cells are ever formatted), so 2,000 tasks cost what 40 do. Sorting happens once per
snapshot; a filter key only picks rows from that sorted list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_sched.tui.model import (
    Snapshot,
    Status,
    TaskRow,
    haystack,
    last_text,
    next_text,
    strip_text,
)

Cell = tuple[str, str | None]
"""A cell as text plus the component-class suffix that styles it."""

_STATUS_CLASS = {
    Status.SUCCEEDED: "ok", Status.FAILED: "bad", Status.CRASHED: "bad",
    Status.RUNNING: "running", Status.TERMINATING: "warn", Status.QUEUED: "warn", Status.TERMINATED: "warn",
    Status.MISSED: "warn", Status.DISABLED: "muted", Status.IDLE: "muted",
}

_STATUS_ORDER = {s: i for i, s in enumerate([
    Status.TERMINATING, Status.RUNNING, Status.FAILED, Status.CRASHED, Status.TERMINATED, Status.QUEUED,
    Status.MISSED, Status.SUCCEEDED, Status.IDLE, Status.DISABLED])}
SORTS: dict[str, Callable[[TaskRow], Any]] = {
    "name": lambda r: r.name.lower(),
    "status": lambda r: (_STATUS_ORDER[r.status], r.name.lower()),
    "last run": lambda r: (-(r.last_end or 0.0), r.name.lower()),
    "next": lambda r: (r.next_wake is None, r.next_wake or 0.0, r.name.lower()),
}
"""Sort orders, cycled by ``s`` (smaller first)."""

#: (key, label, width); the name (compact) or condition (wide) column takes the slack.
_COLUMNS = {
    "status": ("Status", 12), "name": ("Task", 13), "last": ("Last run", 16),
    "next": ("Next", 18), "recent": ("Recent", 10), "exec": ("Exec", 7),
    "cond": ("Condition", 16),
}
_COMPACT = ("status", "name", "last", "next", "recent")
_WIDE = ("status", "name", "last", "next", "recent", "exec", "cond")
_SORT_OF_COLUMN = {"status": "status", "name": "name", "last": "last run", "next": "next"}
_LINE_CACHE = 400


class TaskTable(ScrollView, can_focus=True):
    """Every task with its status (symbol and word), last run, next check and recent runs.

    | Key | Action |
    | :- | :- |
    | `enter` | Open the selected task's detail screen. |
    | `s` | Cycle the sort order (name, status, last run, next). |
    | `up`/`down`/`pageup`/`pagedown`/`home`/`end` | Move the selection. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_detail", "Detail", id="detail", tooltip="Open the task's detail"),
        Binding("s", "cycle_sort", "Sort", id="sort", show=False, tooltip="Cycle the sort order"),
        Binding("up", "move(-1)", "Up", show=False, tooltip="Select the previous / next task"),
        Binding("down", "move(1)", "Down", show=False, tooltip="Select the previous / next task"),
        Binding("pageup", "page(-1)", "Page up", show=False, tooltip="Move the selection by a page"),
        Binding("pagedown", "page(1)", "Page down", show=False, tooltip="Move the selection by a page"),
        Binding("home", "move(-1000000)", "First", show=False, tooltip="First / last task"),
        Binding("end", "move(1000000)", "Last", show=False, tooltip="First / last task"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header", "task-table--cursor", "task-table--cursor-blurred",
        "task-table--ok", "task-table--bad", "task-table--running", "task-table--warn",
        "task-table--muted",
    }
    """Header, cursor and status styles (theme variables only)."""

    DEFAULT_CSS = """
    TaskTable { scrollbar-size-vertical: 1; overflow-x: hidden; background: $surface; }
    TaskTable > .task-table--header { color: $text-primary; text-style: bold; background: $panel; }
    TaskTable > .task-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    TaskTable > .task-table--cursor-blurred { background: $block-cursor-blurred-background; }
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
    cursor_row: reactive[int] = reactive(0)
    """Index of the selected row among the shown rows."""

    class Highlighted(Message):
        """The selection moved to another task."""

        def __init__(self, task: str | None) -> None:
            super().__init__()
            self.task = task
            """The selected task (``None``: no rows)."""

    class DetailRequested(Message):
        """The user asked for a task's detail screen."""

        def __init__(self, task: str) -> None:
            super().__init__()
            self.task = task
            """The task name."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._snapshot: Snapshot | None = None
        self._sorted: list[TaskRow] = []
        self._sorted_for: tuple[Snapshot | None, str] = (None, "")
        self._haystacks: list[str] | None = None
        self._rows: list[TaskRow] = []
        self._index: dict[str, int] = {}
        # Formatted cells of the rows drawn so far (any filter), by task, and the row
        # (and time, while it runs) they were made from; ``mark`` overrides a task's
        # cells until the next snapshot.
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._cell_src: dict[str, tuple[TaskRow, float, frozenset[str]]] = {}
        self._disabled: frozenset[str] = frozenset()
        self._marked: set[str] = set()
        self._lines: dict[tuple[Any, ...], Strip] = {}
        self._widths: tuple[tuple[str, int], ...] = ()
        self._last_selected: str | None = None

    # -- data ------------------------------------------------------------------------
    @property
    def selected(self) -> str | None:
        """The task under the cursor."""
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row].name
        return None

    @property
    def row_count(self) -> int:
        """Rows shown after filtering."""
        return len(self._rows)

    shown = row_count

    def get_row_index(self, task: str) -> int:
        """Where ``task`` is among the shown rows (``KeyError`` if filtered out)."""
        return self._index[task]

    def get_row(self, task: str) -> list[str]:
        """The shown cells of ``task``'s row, as text."""
        return [text for text, _ in self._cells_of(self._rows[self._index[task]])]

    def get_row_at(self, index: int) -> list[str]:
        """The shown cells of the row at ``index``."""
        return self.get_row(self._rows[index].name)

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Select the row at ``row``."""
        self.cursor_row = row

    def show(self, snapshot: Snapshot | None) -> None:
        """Show ``snapshot``: filter, sort, and refresh only what is visible.

        A new snapshot is sorted once; a filter key (same snapshot) only picks rows from
        that sorted list. Cells are formatted when a row is drawn, not here.
        """
        self._snapshot = snapshot
        if snapshot is None:
            return
        sorted_snapshot, sorted_by = self._sorted_for
        if sorted_snapshot is not snapshot or sorted_by != self.sort_by:
            if sorted_snapshot is not snapshot:
                self._new_snapshot(snapshot)
            self._sorted = sorted(snapshot.rows, key=SORTS[self.sort_by])
            self._sorted_for = (snapshot, self.sort_by)
            self._haystacks = None
        keep = self._last_selected
        words = self.filter_text.lower().split()
        if words:
            if self._haystacks is None:
                self._haystacks = [haystack(r) for r in self._sorted]
            rows = [r for r, hay in zip(self._sorted, self._haystacks, strict=True)
                    if all(word in hay for word in words)]
        else:
            rows = self._sorted
        self._rows = rows
        self._index = {r.name: i for i, r in enumerate(rows)}
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows) + 1)
        target = self._index.get(keep, min(self.cursor_row, max(0, len(rows) - 1))) if keep else 0
        self._set_cursor(target)
        self._retitle()
        self.refresh()

    def _new_snapshot(self, snapshot: Snapshot) -> None:
        self._disabled = frozenset(r.name for r in snapshot.rows if r.disabled)
        # Optimistic marks last until the engine's next word on the task.
        for name in self._marked:
            self._cells.pop(name, None)
            self._cell_src.pop(name, None)
        self._marked.clear()
        if len(self._cell_src) > len(snapshot.rows) + 100:  # tasks removed since
            names = {r.name for r in snapshot.rows}
            self._cell_src = {k: v for k, v in self._cell_src.items() if k in names}
            self._cells = {k: v for k, v in self._cells.items() if k in names}

    def _cells_of(self, row: TaskRow) -> tuple[Cell, ...]:
        """``row``'s formatted cells (made again only when the row changed, or, while it
        runs, the snapshot's time)."""
        name = row.name
        if name in self._marked:
            return self._cells[name]
        snap = self._snapshot
        assert snap is not None
        # A row's cells depend on the row, on the time while it runs or waits for a
        # known instant (the time left), and on whether a task it waits for is disabled.
        timed = row.running_since is not None or (row.next_wake is not None and not row.waits_for)
        src = (row, snap.at if timed else 0.0, self._disabled.intersection(row.waits_for))
        cells = self._cells.get(name)
        if cells is None or self._cell_src.get(name) != src:
            cells = self._cells[name] = self._row_cells(row, snap)
            self._cell_src[name] = src
        return cells

    def mark(self, task: str, status: Status) -> None:
        """Show ``status`` for ``task`` at once, before the engine confirms it."""
        index = self._index.get(task)
        if index is None:
            return
        cells = self._cells_of(self._rows[index])
        self._cells[task] = ((f"{status.symbol} {status.value}", _STATUS_CLASS[status]), *cells[1:])
        self._marked.add(task)
        self.refresh()

    def _row_cells(self, row: TaskRow, snap: Snapshot) -> tuple[Cell, ...]:
        status = row.status
        return (
            (f"{status.symbol} {status.value}", _STATUS_CLASS[status]),
            (row.name, None),
            (last_text(row, snap.at, snap.tz), None),
            (next_text(row, snap.at, snap.tz, self._disabled), "running" if row.running_since else None),
            (strip_text(row), None),
            (row.execution, "muted"),
            (row.condition or "(forced only)", "muted" if not row.condition else None),
        )

    def _retitle(self) -> None:
        total = len(self._snapshot.rows) if self._snapshot else 0
        title = f"Tasks {len(self._rows)}/{total} · sort: {self.sort_by}"
        if self.filter_text:
            title += f" · filter: {self.filter_text}"
        self.border_title = title

    # -- cursor --------------------------------------------------------------------------
    def _set_cursor(self, row: int) -> None:
        self.cursor_row = max(0, min(row, len(self._rows) - 1))
        self._notify_selection()

    def _notify_selection(self) -> None:
        name = self.selected
        if name != self._last_selected:
            self._last_selected = name
            self.post_message(self.Highlighted(name))

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._rows) - 1))

    def watch_cursor_row(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)
        self._notify_selection()
        self.refresh()

    # -- rendering ---------------------------------------------------------------------
    def _layout(self, width: int) -> tuple[tuple[str, int], ...]:
        keys = _WIDE if width >= 110 else _COMPACT
        fixed = sum(_COLUMNS[k][1] for k in keys) + len(keys) + 1
        extra = max(0, width - fixed)
        # Extra width: to the name first, then (wide) the next column, then the condition.
        if "cond" not in keys:
            grow = {"name": min(extra, 25)}
        else:
            name = min(extra // 3, 15)
            after = min((extra - name) // 3, 10)
            grow = {"name": name, "next": after, "cond": extra - name - after}
        return tuple((k, _COLUMNS[k][1] + grow.get(k, 0)) for k in keys)

    def _style(self, cls: str | None) -> Style:
        return Style() if cls is None else self.get_component_rich_style(f"task-table--{cls}")

    def _line(self, cells: list[Cell], line_style: Style | None, width: int) -> Strip:
        text = Text(no_wrap=True, end="")
        text.append(" ")
        for (_, w), (value, cls) in zip(self._widths, cells, strict=False):
            if cell_len(value) > w:
                value = value[: max(0, w - 1)] + "…"
            text.append(value + " " * max(0, w - cell_len(value)), self._style(cls))
            text.append(" ")
        if line_style is not None:
            text.stylize(line_style)
        base = self.rich_style
        segments = list(text.render(self.app.console))
        return Strip(segments).apply_style(base).crop_extend(0, width, base)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        widths = self._layout(width)
        if widths != self._widths:
            self._widths, self._lines = widths, {}
        if y == 0:
            header: list[Cell] = [(_COLUMNS[k][0], None) for k, _ in widths]
            return self._line(header, self._style("header"), width)
        index = int(self.scroll_y) + y - 1
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, self.rich_style)
        cells = self._cells_of(self._rows[index])
        keys = [k for k, _ in widths]
        picked = [cells[list(_COLUMNS).index(k)] for k in keys]
        cursor = None
        if index == self.cursor_row:
            cursor = "cursor" if self.has_focus else "cursor-blurred"
        key = (tuple(picked), cursor, width)
        strip = self._lines.get(key)
        if strip is None:
            if len(self._lines) > _LINE_CACHE:
                self._lines.clear()
            strip = self._lines[key] = self._line(picked, self._style(cursor) if cursor else None, width)
        return strip

    # -- reactives, actions, events ----------------------------------------------------
    def watch_filter_text(self) -> None:
        self.show(self._snapshot)

    def watch_sort_by(self) -> None:
        self.show(self._snapshot)

    def action_cycle_sort(self) -> None:
        """Next sort order."""
        names = list(SORTS)
        self.sort_by = names[(names.index(self.sort_by) + 1) % len(names)]

    def action_move(self, step: int) -> None:
        """Move the selection by ``step`` rows."""
        self.cursor_row = self.cursor_row + step

    def action_page(self, pages: int) -> None:
        """Move the selection by whole pages."""
        self.cursor_row = self.cursor_row + pages * max(1, self.scrollable_content_region.height - 1)

    def action_open_detail(self) -> None:
        """Ask the screen for the selected task's detail."""
        if self.selected is not None:
            self.post_message(self.DetailRequested(self.selected))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x, edge = event.x, 1
            for key, w in self._widths:
                if x < edge + w + 1:
                    if key in _SORT_OF_COLUMN:
                        self.sort_by = _SORT_OF_COLUMN[key]
                    return
                edge += w + 1
            return
        self.cursor_row = int(self.scroll_y) + event.y - 1
        if event.chain == 2:
            self.action_open_detail()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._rows) + 1)
        self._lines = {}

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def _on_theme_changed(self) -> None:
        self._lines = {}
        self.refresh()

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda _: self._on_theme_changed(), init=False)
