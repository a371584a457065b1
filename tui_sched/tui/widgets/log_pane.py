"""The log pane: task output and scheduler events, tailing, filterable to one task,
searchable, scrollable both ways."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import tzinfo
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.scrollbar import ScrollTo
from textual.strip import Strip
from textual.widgets import Log

from tui_sched.tui.logfmt import TASK_WIDTH, LogEntry

#: Lines kept (the pane and its backing buffer are both bounded by this).
MAX_LINES = 5000
_SCROLL = "Scroll the log (scrolling up pauses the tail; back at the end, it follows)"

#: Most cells the task column takes, however long the names (the rest is the message).
MAX_TASK_WIDTH = 32


class LogPane(Log):
    """A bounded log that follows new lines (``TAIL``) until the user scrolls up.

    Following is one explicit state, changed only by the user: scrolling up (keys,
    wheel, scrollbar, a search jump) pauses it; ``l``, ``end`` or scrolling back to the
    last line resumes it. A resize, a new header line or the filter box never pauses
    it: while following, the pane sticks to the last line whatever its height.

    | Key | Action |
    | :- | :- |
    | `up`/`down`/`pageup`/`pagedown`/`home` | Scroll (up pauses the tail). |
    | `end` | Jump to the end and follow again. |
    | `left`/`right` | Scroll long lines sideways. |
    | `/` | Search the log; `n` older match, `N` newer match. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_by(-1)", "Up", show=False, tooltip=_SCROLL),
        Binding("down", "scroll_by(1)", "Down", show=False, tooltip=_SCROLL),
        Binding("pageup", "page_by(-1)", "Page up", show=False, tooltip=_SCROLL),
        Binding("pagedown", "page_by(1)", "Page down", show=False, tooltip=_SCROLL),
        Binding("home", "top", "Top", show=False, id="log_top", tooltip="Oldest log line (pauses)"),
        Binding("end", "tail", "Tail", show=False, id="log_tail",
                tooltip="Jump to the newest log line and follow"),
        Binding("left", "sideways(-8)", "Left", show=False, id="log_left",
                tooltip="Scroll long log lines left"),
        Binding("right", "sideways(8)", "Right", show=False, id="log_right",
                tooltip="Scroll long log lines right"),
        Binding("slash", "search", "Search", id="log_search", tooltip="Search the log"),
        Binding("n", "next_match(-1)", "Older match", show=False, id="log_next",
                tooltip="Log search: the next older match"),
        Binding("N", "next_match(1)", "Newer match", show=False, id="log_prev",
                tooltip="Log search: the next newer match"),
    ]

    DEFAULT_CSS = """
    LogPane {
        border: round $foreground 30%;
        border-title-color: $text-muted;
        border-subtitle-color: $text-accent;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
        overflow-x: auto;
    }
    LogPane:focus { border: round $accent; }
    LogPane.-paused { border-subtitle-color: $text-warning; }
    LogPane > .log-pane--match { background: $accent-muted; text-style: bold; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log-pane--match"}
    """The line of the current search match."""

    follow: reactive[bool] = reactive(True)
    """Stick to the newest line (``TAIL``); off is ``PAUSED``."""
    only: reactive[str | None] = reactive(None)
    """Show only this task's lines (``None``: everything)."""
    search: reactive[str] = reactive("")
    """The search text (case-insensitive); ``n``/``N`` move between its matches."""

    class SearchRequested(Message):
        """The user pressed ``/`` in the pane: the screen shows a search box."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, auto_scroll=False, id=id)
        self._entries: deque[LogEntry] = deque(maxlen=MAX_LINES)
        self._tz: tzinfo | None = None
        self._unseen = 0
        self._task_width = TASK_WIDTH
        self._longest = 0
        self._match: int | None = None  # line index of the current match
        self.border_title = "Log"

    @property
    def tailing(self) -> bool:
        """Whether new lines scroll into view (the ``TAIL`` state)."""
        return self.follow

    def set_timezone(self, tz: tzinfo) -> None:
        """Times are shown in the session's time zone."""
        self._tz = tz

    # -- content -------------------------------------------------------------------------
    def _shown(self, entry: LogEntry) -> bool:
        return self.only is None or entry.task == self.only

    def _fit_task_width(self, batch: Iterable[LogEntry] = ()) -> bool:
        """Size the task column to the longest name, within a quarter of the pane's width
        (extra width goes to the names); whether it changed."""
        self._longest = max(self._longest, max((len(e.task or "") for e in batch), default=0))
        room = max(TASK_WIDTH, min(MAX_TASK_WIDTH, self.size.width // 4))
        wanted = max(TASK_WIDTH, min(room, self._longest))
        if wanted != self._task_width:
            self._task_width = wanted
            return True
        return False

    def add(self, entries: Iterable[LogEntry]) -> None:
        """Append entries (the shown ones are those passing the task filter)."""
        batch = list(entries)
        self._entries.extend(batch)
        if self._fit_task_width(batch):
            self._redraw()
            return
        tz, width = self._tz, self._task_width
        lines = [e.line(tz, width) for e in batch if self._shown(e)]
        if lines:
            self.write_lines(lines, scroll_end=False)
            if self.follow:
                self._stick()
            else:
                self._unseen += len(lines)
        self._indicate()

    def prepend(self, entries: Iterable[LogEntry]) -> None:
        """Put older entries (from the history, at start-up) before the current ones."""
        batch = list(entries)
        if not batch:
            return
        merged = [*batch, *self._entries][-MAX_LINES:]
        self._entries.clear()
        self._entries.extend(merged)
        self._fit_task_width(batch)
        self._redraw()

    def _redraw(self) -> None:
        tz, width = self._tz, self._task_width
        y = self.scroll_y
        self.clear()
        self.write_lines([e.line(tz, width) for e in self._entries if self._shown(e)], scroll_end=False)
        self._match = None
        if self.follow:
            self._unseen = 0
            self._stick()
        else:
            self.scroll_to(y=y, animate=False, immediate=True)
        self._indicate()

    def _stick(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        # Once more after the next layout: a horizontal scrollbar appearing for a long
        # line (or a resize) shortens the viewport without a scroll of ours.
        self.call_after_refresh(self._stick_again)

    def _stick_again(self) -> None:
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _indicate(self) -> None:
        if self.follow:
            self._unseen = 0
            state = "TAIL"
        else:
            state = (f"PAUSED +{self._unseen}" if self._unseen else "PAUSED") + " (l: follow)"
        if self.search:
            found = self._matches()
            if self._match is not None and self._match in found:
                state = f"/{self.search} {found.index(self._match) + 1}/{len(found)} (n/N) · {state}"
            else:
                state = f"/{self.search} {len(found)} match(es) · {state}"
        self.border_subtitle = state
        self.set_class(not self.follow, "-paused")
        self.border_title = "Log" if self.only is None else f"Log: {self.only}"

    # -- search ----------------------------------------------------------------------------
    def _matches(self) -> list[int]:
        needle = self.search.lower()
        if not needle:
            return []
        return [i for i, line in enumerate(self.lines) if needle in line.lower()]

    def _bottom(self) -> int:
        return int(self.scroll_y) + max(1, self.scrollable_content_region.height) - 1

    def find(self, direction: int) -> bool:
        """Go to the next match older (``-1``) or newer (``1``) than the current one (or
        than the last line in view); whether there was one. Jumping pauses the tail."""
        found = self._matches()
        if not found:
            self._match = None
            self._indicate()
            return False
        origin = self._match if self._match is not None else self._bottom() + (1 if direction < 0 else 0)
        if direction < 0:
            older = [i for i in found if i < origin]
            target = older[-1] if older else found[-1]  # wrap to the newest
        else:
            newer = [i for i in found if i > origin]
            target = newer[0] if newer else found[0]  # wrap to the oldest
        self._match = target
        height = max(1, self.scrollable_content_region.height)
        y = max(0, min(target - height // 2, self.max_scroll_y))
        self.follow = False
        self.scroll_to(y=y, animate=False, immediate=True)
        self.refresh()
        self._indicate()
        return True

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if self._match is not None and int(self.scroll_y) + y == self._match and self.search:
            # Over the line's own style (apply_style would let it win).
            mark = self.get_component_rich_style("log-pane--match")
            strip = Strip([Segment(text, (style or Style()) + mark, control)
                           for text, style, control in strip], strip.cell_length)
        return strip

    # -- the user's scrolling ----------------------------------------------------------
    def _user_scrolled(self, target_y: float) -> None:
        """After a scroll the user asked for: at the end follows, anywhere else pauses."""
        self.follow = target_y >= self.max_scroll_y

    def _scroll_user(self, y: float) -> None:
        y = max(0.0, min(y, float(self.max_scroll_y)))
        self.scroll_to(y=y, animate=False, immediate=True)
        self._user_scrolled(y)

    def action_scroll_by(self, lines: int) -> None:
        """Scroll by ``lines`` (negative: up, which pauses)."""
        self._scroll_user(self.scroll_y + lines)

    def action_page_by(self, pages: int) -> None:
        """Scroll by whole pages."""
        self._scroll_user(self.scroll_y + pages * max(1, self.scrollable_content_region.height - 1))

    def action_top(self) -> None:
        """The oldest line (pauses)."""
        self._scroll_user(0)

    def action_sideways(self, cells: int) -> None:
        """Scroll long lines left or right (does not change following)."""
        self.scroll_to(x=max(0.0, self.scroll_x + cells), animate=False, immediate=True)

    def action_tail(self) -> None:
        """Jump to the newest line and follow."""
        self.follow = True

    def action_search(self) -> None:
        """Ask the screen for the search box."""
        self.post_message(self.SearchRequested())

    def action_next_match(self, direction: int) -> None:
        """The next search match, older (``-1``) or newer (``1``)."""
        if not self.search:
            self.post_message(self.SearchRequested())
            return
        self.find(direction)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        super()._on_mouse_scroll_up(event)
        if not (event.ctrl or event.shift):
            self._user_scrolled(self.scroll_target_y)

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        super()._on_mouse_scroll_down(event)
        if not (event.ctrl or event.shift):
            self._user_scrolled(self.scroll_target_y)

    def _on_scroll_to(self, message: ScrollTo) -> None:
        super()._on_scroll_to(message)  # the scrollbar dragged
        if message.y is not None:
            self._user_scrolled(message.y)

    def on_resize(self, event: events.Resize) -> None:
        # A taller header, the filter box, a resized terminal: never a reason to pause.
        if self._fit_task_width():
            self._redraw()
        if self.follow:
            self._stick()

    # -- reactives -----------------------------------------------------------------------
    def watch_show_horizontal_scrollbar(self, shown: bool) -> None:
        # The scrollbar for a long line takes a row from the viewport, later than the
        # write that caused it: the last line must stay in view.
        if self.follow:
            self.call_after_refresh(self._stick_again)

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._match = None
            self._stick()
            self.refresh()
        self._indicate()

    def watch_only(self) -> None:
        self._redraw()

    def watch_search(self) -> None:
        self._match = None
        self.refresh()
        self._indicate()
