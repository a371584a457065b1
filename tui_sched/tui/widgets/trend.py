"""The detail screen's duration trend: one bar per run, scaled from zero."""

from __future__ import annotations

from collections.abc import Sequence

from textual.reactive import reactive
from textual.widgets import Static

from tui_sched.tui.model import fmt_duration

#: Bar heights, lowest first.
BARS = "▁▂▃▄▅▆▇█"


def bars(durations: Sequence[float]) -> str:
    """One bar per duration, from zero to the longest: equal durations draw equal bars
    (a sparkline scaled from the minimum draws four runs of 0.00 s from ▁ to █)."""
    top = max(durations, default=0.0)
    if top <= 0:
        return BARS[0] * len(durations)
    return "".join(BARS[min(len(BARS) - 1, int(d / top * (len(BARS) - 1) + 0.5))] for d in durations)


class DurationTrend(Static):
    """Durations of the shown runs, oldest first, with the range in the subtitle."""

    DEFAULT_CSS = """
    DurationTrend {
        height: 3; padding: 0 1; color: $text-accent;
        border: round $foreground 30%; border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
    }
    """

    data: reactive[list[float]] = reactive(list, always_update=True)
    """Durations in seconds, oldest first."""

    def watch_data(self, data: list[float]) -> None:
        width = max(1, self.content_region.width or len(data))
        shown = data[-width:]
        self.update(bars(shown) if shown else "(no finished runs)")
        self.border_subtitle = (f"max {fmt_duration(max(shown))}" if shown else "")
