"""The log pane: task output and scheduler events, tailing, filterable to one task."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import tzinfo
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import Log

from tui_sched.tui.logfmt import LogEntry

#: Lines kept (the pane and its backing buffer are both bounded by this).
MAX_LINES = 5000


class LogPane(Log):
    """A bounded, tailing log with a TAIL / PAUSED indicator in its border.

    Scrolling up pauses the tail (new lines keep arriving below); scrolling back to the
    end resumes it. ``follow`` off pauses it for good until switched on again.

    | Key | Action |
    | :- | :- |
    | `end` | Jump to the end (resumes the tail). |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end", "tail", "Tail", show=False, id="log_tail"),
    ]

    DEFAULT_CSS = """
    LogPane {
        border: round $foreground 30%;
        border-title-color: $text-muted;
        border-subtitle-color: $text-accent;
        scrollbar-size-vertical: 1;
    }
    LogPane:focus { border: round $accent; }
    LogPane.-paused { border-subtitle-color: $text-warning; }
    """

    follow: reactive[bool] = reactive(True)
    """Tail new lines (``l`` toggles it)."""
    only: reactive[str | None] = reactive(None)
    """Show only this task's lines (``None``: everything)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, auto_scroll=True, id=id)
        self._entries: deque[LogEntry] = deque(maxlen=MAX_LINES)
        self._tz: tzinfo | None = None
        self._unseen = 0
        self.border_title = "Log"

    @property
    def tailing(self) -> bool:
        """Whether new lines scroll into view."""
        return self.follow and self.is_vertical_scroll_end

    def set_timezone(self, tz: tzinfo) -> None:
        """Times are shown in the session's time zone."""
        self._tz = tz

    def add(self, entries: Iterable[LogEntry]) -> None:
        """Append entries (the shown ones are those passing the task filter)."""
        batch = list(entries)
        self._entries.extend(batch)
        only, tz = self.only, self._tz
        lines = [e.line(tz) for e in batch if only is None or e.task == only]
        if lines:
            tailing = self.tailing
            self.write_lines(lines, scroll_end=tailing)
            if not tailing:
                self._unseen += len(lines)
        self._indicate()

    def _redraw(self) -> None:
        only, tz = self.only, self._tz
        self.clear()
        self.write_lines([e.line(tz) for e in self._entries if only is None or e.task == only],
                         scroll_end=self.follow)
        self._unseen = 0
        self._indicate()

    def _indicate(self) -> None:
        tailing = self.tailing
        if tailing:
            self._unseen = 0
        state = "TAIL" if tailing else (f"PAUSED +{self._unseen}" if self._unseen else "PAUSED")
        if not self.follow:
            state += " (l: follow)"
        self.border_subtitle = state
        self.set_class(not tailing, "-paused")
        self.border_title = "Log" if self.only is None else f"Log: {self.only}"

    # -- reactives, actions, events ----------------------------------------------------
    def watch_follow(self, follow: bool) -> None:
        self.auto_scroll = follow
        if follow:
            self.scroll_end(animate=False, immediate=True)
        self._indicate()

    def watch_only(self) -> None:
        self._redraw()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._indicate()

    def action_tail(self) -> None:
        """Resume the tail."""
        self.follow = True
        self.scroll_end(animate=False, immediate=True)
        self._indicate()
