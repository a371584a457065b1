"""The task detail screen: options, condition tree, paged run history, a run's output
and traceback, and the duration trend."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Log, Static

from tui_sched.store.base import RunRecord
from tui_sched.tui.control import Commands, EngineGone, wait
from tui_sched.tui.model import OUTCOME_SYMBOLS, TaskDetail, fmt_clock, fmt_duration
from tui_sched.tui.widgets.condition_pane import ConditionPane
from tui_sched.tui.widgets.trend import DurationTrend

#: Runs per history page.
PAGE = 20


def run_text(run: RunRecord) -> str:
    """A run's error, output tail and traceback as plain text for the output pane; a
    traceback (last, often below the fold) is announced in the first lines."""
    parts = [f"run {run.id} · {run.trigger} · attempt {run.attempt} · "
             f"{run.outcome or 'running'} · {fmt_duration(run.duration)}"]
    if run.traceback:
        lines = len(run.traceback.splitlines())
        parts.append(f"↓ traceback below ({lines} lines): focus this pane (tab) and press end")
    if run.error:
        parts += ["", "── error ──", run.error]
    if run.return_summary:
        parts += ["", "── returned ──", run.return_summary]
    parts += ["", "── output (tail) ──", run.output_tail or "(no output)"]
    if run.traceback:
        parts += ["", "── traceback ──", run.traceback]
    return "\n".join(parts)


class DetailScreen(Screen[None]):
    """Everything about one task.

    | Key | Action |
    | :- | :- |
    | `escape` | Back to the task table. |
    | `n` / `p` | Older / newer page of runs. |
    | `r` | Reload. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail_back", tooltip="Back to the task table"),
        Binding("n", "page(1)", "Older runs", id="detail_older", tooltip="Older page of runs"),
        Binding("p", "page(-1)", "Newer runs", id="detail_newer", tooltip="Newer page of runs"),
        Binding("r", "reload", "Reload", id="detail_reload", tooltip="Load the task's detail again"),
    ]

    DEFAULT_CSS = """
    DetailScreen #title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    DetailScreen #top { height: 2fr; }
    DetailScreen #left { width: 2fr; }
    DetailScreen #right { width: 3fr; }
    DetailScreen #options {
        height: auto; max-height: 10; padding: 0 1;
        border: round $foreground 30%; border-title-color: $text-muted;
    }
    DetailScreen #trend {
        height: 3; border: round $foreground 30%; border-title-color: $text-muted;
    }
    DetailScreen #runs {
        height: 1fr; border: round $foreground 30%; border-title-color: $text-muted;
    }
    DetailScreen #runs:focus { border: round $accent; }
    DetailScreen #output {
        height: 1fr; border: round $foreground 30%; border-title-color: $text-muted;
    }
    """

    def __init__(self, task: str, control: Commands) -> None:
        super().__init__()
        self.task_name = task
        self.control = control
        self._before: list[int | None] = [None]
        """The ``before_id`` of each page up to the shown one (changed once it loaded)."""
        self._runs: list[RunRecord] = []
        self._loading = False
        self._detail: TaskDetail | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"Task {self.task_name}", id="title")
        with Horizontal(id="top"):
            with Vertical(id="left"):
                yield Static(id="options")
                yield ConditionPane(id="detail-condition")
            with Vertical(id="right"):
                yield DurationTrend(id="trend")
                runs: DataTable[Text] = DataTable(id="runs", cursor_type="row")
                yield runs
        yield Log(id="output")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#options", Static).border_title = "Options"
        self.query_one("#trend", DurationTrend).border_title = "Duration (oldest → newest)"
        self.query_one("#output", Log).border_title = "Selected run"
        table = self.query_one("#runs", DataTable)
        table.add_column("Run", width=6, key="id")
        table.add_column("Started", width=13, key="start")
        table.add_column("Outcome", width=12, key="outcome")
        table.add_column("Took", width=7, key="took")
        table.add_column("Trigger", width=9, key="trigger")
        table.add_column("Error", width=40, key="error")
        table.focus()
        self.load(with_detail=True)

    # -- loading (workers: the UI never waits on the engine) ----------------------------
    @work(exclusive=True, group="detail")
    async def load(self, with_detail: bool, pages: list[int | None] | None = None) -> None:
        """Fetch the options and condition (``with_detail``) and a page (``pages``: the
        ``before_id`` of each page up to it; default: the shown one)."""
        self._loading = True
        try:
            if with_detail:
                await self._load_detail()
            await self._load_page(pages if pages is not None else self._before)
        finally:
            self._loading = False

    async def _load_detail(self) -> None:
        try:
            detail = await wait(self.control.detail(self.task_name))
        except (EngineGone, TimeoutError) as exc:
            self.query_one("#options", Static).update(f"(unavailable: {exc or 'timed out'})")
            return
        self._detail = detail
        if detail is None:
            self.query_one("#options", Static).update("(this task no longer exists)")
            return
        width = max(len(k) for k, _ in detail.options)
        self.query_one("#options", Static).update(
            Text("\n".join(f"{k:<{width}}  {v}" for k, v in detail.options)))
        cond = next((v for k, v in detail.options if k == "condition"), "")
        self.query_one(ConditionPane).show(self.task_name, detail.explanation, cond,
                                           detail.at, detail.tz, detail.why)

    async def _load_page(self, pages: list[int | None]) -> None:
        table = self.query_one("#runs", DataTable)
        try:
            runs = await wait(self.control.history(self.task_name, PAGE, pages[-1]))
        except (EngineGone, TimeoutError) as exc:
            table.border_title = f"Runs (unavailable: {exc or 'timed out'})"
            return
        # The page number, its rows and the next n/p all change together, here.
        self._before, self._runs = pages, runs
        table.clear()
        tz = self._detail.tz if self._detail else None
        now = self._detail.at if self._detail else 0.0
        for run in runs:
            outcome = run.outcome
            label = "▶ running" if outcome is None else f"{OUTCOME_SYMBOLS[outcome]} {outcome}"
            first = (run.error or "").strip().splitlines()
            table.add_row(str(run.id),
                          fmt_clock(run.start, now, tz) if tz else str(run.start),
                          label, fmt_duration(run.duration), str(run.trigger),
                          first[0] if first else "", key=str(run.id))
        page = len(self._before)
        table.border_title = f"Runs · page {page} · {len(runs)} shown (n older, p newer)"
        durations = [r.duration for r in reversed(runs) if r.duration is not None]
        self.query_one("#trend", DurationTrend).data = durations
        if runs:
            table.move_cursor(row=0)
            self._show_run(0)
        else:
            log = self.query_one("#output", Log)
            log.clear()
            log.write("(no runs on this page)")

    def _show_run(self, index: int) -> None:
        if not 0 <= index < len(self._runs):
            return
        log = self.query_one("#output", Log)
        run = self._runs[index]
        log.clear()
        log.write(run_text(run))
        log.scroll_home(animate=False)
        log.border_subtitle = "↓ traceback at the end" if run.traceback else ""

    # -- actions, events ---------------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_run(event.cursor_row)

    def action_page(self, step: int) -> None:
        """Move to an older (``1``) or newer (``-1``) page.

        Ignored while a page loads: the next page is known only from the rows of the
        shown one, and the page number must always be that of the rows on screen.
        """
        if self._loading:
            return
        if step > 0 and len(self._runs) == PAGE:
            pages = [*self._before, self._runs[-1].id]
        elif step < 0 and len(self._before) > 1:
            pages = self._before[:-1]
        else:
            return
        self._loading = True
        self.load(with_detail=False, pages=pages)

    def action_reload(self) -> None:
        """Fetch everything again."""
        self.load(with_detail=True)

    def action_back(self) -> None:
        """Back to the main screen."""
        self.dismiss(None)
