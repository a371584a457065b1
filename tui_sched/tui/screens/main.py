"""The main screen: header line, task table, log pane and condition pane.

Engine events arrive as bridge messages; keys become ``Control`` commands (the same
session operations a metatask uses). Nothing here waits on the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input

from tui_sched.engine import events as ev
from tui_sched.engine.host import EngineHost
from tui_sched.errors import TaskNotFound
from tui_sched.tui.bridge import Bridge
from tui_sched.tui.control import Commands, Control, EngineGone, Feed
from tui_sched.tui.logfmt import entries_for, error_lines
from tui_sched.tui.messages import (
    Attached,
    Detached,
    EventBatch,
    HistoryLoaded,
    HostStopped,
    SnapshotReady,
)
from tui_sched.tui.model import Snapshot, Status
from tui_sched.tui.remote import RemoteControl, RemoteFeed
from tui_sched.tui.screens.confirm import ConfirmScreen
from tui_sched.tui.screens.detail import DetailScreen
from tui_sched.tui.screens.help import HelpScreen, help_sections
from tui_sched.tui.screens.problems import Problem, ProblemsScreen
from tui_sched.tui.widgets.condition_pane import ConditionPane
from tui_sched.tui.widgets.header import StatusLine
from tui_sched.tui.widgets.log_pane import LogPane
from tui_sched.tui.widgets.task_table import TaskTable

#: The header while stopping: either quit key pressed again terminates the runs.
STOPPING = "shutting down (q or ctrl+c again: terminate runs)"

#: Engine errors kept for the problems screen.
MAX_ERRORS = 50


class MainScreen(Screen[None]):
    """The operator's view.

    | Key | Action |
    | :- | :- |
    | `q` | Shut down (confirm; the app's binding, first in the footer). |
    | `f` | Force-run the selected task. |
    | `d` | Disable / enable the selected task (persisted). |
    | `t` | Terminate the selected task's run (confirm). |
    | `R` | Restart the scheduler: reload modules, reopen the store (confirm). |
    | `enter` | The selected task's detail. |
    | `/` | Filter the table by name, status or condition (`escape` clears); in the log
      pane it searches the log instead. |
    | `s` | Cycle the sort order. |
    | `l` | Pause / follow the log (one press either way). |
    | `L` | Log: only the selected task / everything. |
    | `e` | Load errors and engine errors. |
    | `tab` | Next pane. |
    | `?` | Help: every key of every pane and screen. |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # The app's own q, repeated here so the footer shows Quit and Help first: at 80
        # columns the footer has room for about eight keys.
        Binding("q", "app.shutdown", "Quit", id="shutdown",
                tooltip="Shut down (confirm); again while stopping: terminate runs"),
        Binding("question_mark", "help", "Help", id="help", tooltip="All keys"),
        Binding("f", "force_run", "Run", id="force_run", tooltip="Force-run the selected task"),
        Binding("d", "toggle_disabled", "Disable", id="toggle_disabled",
                tooltip="Disable or enable the selected task (persisted)"),
        Binding("t", "terminate", "Terminate", id="terminate",
                tooltip="Terminate the selected task's run"),
        Binding("R", "restart", "Restart", id="restart",
                tooltip="Restart the scheduler and reload every module"),
        Binding("slash", "filter", "Filter", id="filter",
                tooltip="Filter tasks by name, status or condition"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("l", "follow_log", "Follow", id="follow_log", tooltip="Follow or pause the log"),
        Binding("L", "log_only", "Log: task", id="log_only", show=False,
                tooltip="Show only the selected task's log lines, or everything"),
        Binding("e", "problems", "Errors", id="problems", show=False,
                tooltip="Modules that failed to load, engine errors"),
        Binding("tab", "cycle_panes", "Pane", id="cycle_panes", show=False,
                tooltip="Focus the next pane"),
    ]

    DEFAULT_CSS = """
    MainScreen StatusLine {
        height: 1; max-height: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    MainScreen TaskTable {
        height: 3fr; border: round $foreground 30%; border-title-color: $text-muted;
    }
    MainScreen TaskTable:focus { border: round $accent; }
    MainScreen #filter, MainScreen #search { display: none; height: 3; }
    MainScreen #filter.-shown, MainScreen #search.-shown { display: block; }
    MainScreen #bottom { height: 2fr; }
    MainScreen LogPane { width: 3fr; }
    MainScreen ConditionPane { width: 2fr; min-width: 26; }
    """

    def __init__(self, host: EngineHost | None, tasks_dir: str, store_path: str, *,
                 attach: Path | None = None) -> None:
        super().__init__()
        self.host = host
        """The embedded engine's host (``None``: attached to the scheduler on ``attach``)."""
        self.control: Commands
        self.bridge: Feed
        if host is None:
            assert attach is not None, "an attached screen needs the scheduler's state folder"
            feed = RemoteFeed(attach, self)
            self.control, self.bridge = RemoteControl(feed), feed
        else:
            self.control, self.bridge = Control(host), Bridge(host, self)
        self.tasks_dir = tasks_dir
        self.store_path = store_path
        self.snapshot: Snapshot | None = None
        self.failures: dict[str, Problem] = {}
        self.errors: list[Problem] = []
        self.unread_errors = 0
        self.stopped_error: str | None = None
        self.stopped = False

    def compose(self) -> ComposeResult:
        yield StatusLine(self.tasks_dir, self.store_path, id="status",
                         mode="embedded" if self.host is not None else "attaching")
        yield TaskTable(id="tasks")
        yield Input(placeholder="filter: name, status or condition words (enter: keep, escape: clear)",
                    id="filter")
        yield Input(placeholder="search the log (enter: keep, then n older / N newer; escape: clear)",
                    id="search")
        with Horizontal(id="bottom"):
            yield LogPane(id="log")
            yield ConditionPane(id="condition")
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self.bridge.start()
        if self.host is not None and not self.host.alive and self.host.engine is None:
            self.host.start()

    def on_unmount(self) -> None:
        self.bridge.stop()

    # -- parts -------------------------------------------------------------------------
    @property
    def table(self) -> TaskTable:
        """The task table."""
        return self.query_one(TaskTable)

    @property
    def log_pane(self) -> LogPane:
        """The log pane."""
        return self.query_one(LogPane)

    @property
    def selected(self) -> str | None:
        """The task under the table's cursor."""
        return self.table.selected

    def _refresh_problems(self) -> None:
        self.query_one(StatusLine).problems = len(self.failures) + self.unread_errors

    def _with_task(self, fn: Callable[[str], None]) -> None:
        name = self.selected
        if name is None:
            self.notify("No task selected", severity="warning")
            return
        try:
            fn(name)
        except EngineGone as exc:
            self.notify(str(exc), severity="warning")
        except TaskNotFound:
            self.notify(f"{name!r} no longer exists", severity="warning")

    def key_commands(self) -> Iterator[tuple[str, str, str]]:
        """``(title, help, action)`` for the command palette: every key of this screen."""
        for binding in (*self.BINDINGS, *TaskTable.BINDINGS):
            assert isinstance(binding, Binding)
            if binding.id not in ("clear_filter", "shutdown"):  # the app offers "Shut down"
                keys = self.app.get_key_display(binding)
                yield binding.tooltip or binding.description, f"key: {keys}", binding.action

    # -- bridge messages ---------------------------------------------------------------
    def on_event_batch(self, message: EventBatch) -> None:
        entries = []
        status = self.query_one(StatusLine)
        new_errors = 0
        for e in message.events:
            lines = entries_for(e)
            entries.extend(lines)
            if isinstance(e, ev.ModuleFailed):
                where = e.path + (f":{e.line}" if e.line else "")
                first = (e.error.splitlines() or [""])[0]
                self.failures[e.path] = Problem(f"{where}: {first}", e.traceback or e.error, e.path,
                                                e.error)
                # The whole helpful part: the condition, the caret, "did you mean ...?".
                self.notify("\n".join([f"{where} failed to load:", *error_lines(e.error), "(e: details)"]),
                            title="Reload failed", severity="error", timeout=15, markup=False)
            elif isinstance(e, ev.ModuleLoaded):
                self.failures.pop(e.path, None)
                self.notify(lines[0].text if lines else e.path, title="Reloaded")
            elif isinstance(e, ev.EngineError):
                self.errors = [*self.errors, Problem(e.message.splitlines()[0] if e.message else "error",
                                                     e.traceback or e.message)][-MAX_ERRORS:]
                new_errors += 1
            elif isinstance(e, ev.SchedulerStopping):
                status.override = "restarting" if e.restart else STOPPING
            elif isinstance(e, ev.SchedulerStopped) and e.restart:
                self.failures.clear()  # every module is loaded again before the next start
            elif isinstance(e, ev.SchedulerStarted):
                status.override = ""
        if new_errors:
            self.unread_errors += new_errors
            self.notify(f"{new_errors} error(s); press e for details", severity="error", timeout=8)
        self._refresh_problems()
        if entries:
            self.log_pane.add(entries)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        snap = self.snapshot = message.snapshot
        self.table.show(snap)
        status = self.query_one(StatusLine)
        status.facts, status.now = snap.facts, snap.at
        self.log_pane.set_timezone(snap.tz)
        name = self.selected
        if name is not None and snap.selected == name:
            row = next((r for r in snap.rows if r.name == name), None)
            self.query_one(ConditionPane).show(name, snap.explanation, row.condition if row else "",
                                               snap.at, snap.tz, snap.why)
        elif name != self.bridge.selected:
            self._selection_changed(name)

    def on_host_stopped(self, message: HostStopped) -> None:
        self.stopped = True
        if message.error is None or self.control.shutdown_requested:
            self.app.exit(return_code=0 if message.error is None else 1)
            return
        self.stopped_error = message.error
        self.query_one(StatusLine).override = f"engine stopped: {message.error} (q: quit)"
        self.notify(f"The engine stopped: {message.error}", severity="error", timeout=30)

    def on_attached(self, message: Attached) -> None:
        status = self.query_one(StatusLine)
        status.mode, status.override = f"attached to pid {message.pid}", ""

    def on_detached(self, message: Detached) -> None:
        if self.control.shutdown_requested:  # this UI stopped it: nothing left to show
            self.app.exit(return_code=0)
            return
        status = self.query_one(StatusLine)
        status.mode = "detached"
        status.override = ("scheduler gone: reconnecting when it is back" if message.retrying
                           else "not attached (q: quit)")
        self.notify(message.reason, title="Scheduler gone" if message.retrying else "Cannot attach",
                    severity="warning" if message.retrying else "error", timeout=10)

    # -- table events ------------------------------------------------------------------
    def on_task_table_highlighted(self, event: TaskTable.Highlighted) -> None:
        self._selection_changed(event.task)

    def _selection_changed(self, name: str | None) -> None:
        if name == self.bridge.selected:
            return
        self.bridge.selected = name
        self.bridge.refresh()
        if self.log_pane.only is not None and name is not None:
            self.log_pane.only = name

    def on_task_table_detail_requested(self, message: TaskTable.DetailRequested) -> None:
        self.app.push_screen(DetailScreen(message.task, self.control))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.log_pane.search = event.value.strip()
            self.log_pane.find(-1)
        else:
            self.table.filter_text = event.value.strip()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            event.input.remove_class("-shown")
            if not event.value.strip():
                self.log_pane.search = ""
            self.log_pane.focus()
        elif not event.value.strip():
            self.action_clear_filter()
        else:
            self.table.focus()

    def on_log_pane_search_requested(self, message: LogPane.SearchRequested) -> None:
        box = self.query_one("#search", Input)
        box.value = self.log_pane.search
        box.add_class("-shown")
        box.focus()

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.log_pane.prepend(message.entries)

    # -- actions -----------------------------------------------------------------------
    def action_force_run(self) -> None:
        """Force-run the selected task (``session[name].force_run = True``)."""
        def force(name: str) -> None:
            self.control.force_run(name)
            self.table.mark(name, Status.QUEUED)
            # Ask the engine once the mark is on screen: a snapshot built meanwhile
            # would compete with that frame for the interpreter.
            self.call_after_refresh(self.bridge.refresh)

        self._with_task(force)

    def action_toggle_disabled(self) -> None:
        """Disable or enable the selected task (``task.disabled``; persisted)."""
        def toggle(name: str) -> None:
            disabled = self.control.toggle_disabled(name)
            self.table.mark(name, Status.DISABLED if disabled else Status.IDLE)
            self.notify(f"{name} {'disabled' if disabled else 'enabled'}")
            self.call_after_refresh(self.bridge.refresh)

        self._with_task(toggle)

    def action_terminate(self) -> None:
        """Terminate the selected task's run, after confirmation."""
        def ask(name: str) -> None:
            if not self.control.is_running(name):
                self.notify(f"{name} is not running", severity="warning")
                return

            def answer(yes: bool | None) -> None:
                if yes:
                    self._with_task(lambda _: self.control.terminate(name))

            self.app.push_screen(ConfirmScreen(f"Terminate the running run of {name!r}?",
                                               "Terminate"), answer)

        self._with_task(ask)

    def action_restart(self) -> None:
        """Restart the scheduler (``session.restart()``), after confirmation."""
        def answer(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.control.restart()
            except EngineGone as exc:
                self.notify(str(exc), severity="warning")
                return
            self.query_one(StatusLine).override = "restarting"

        self.app.push_screen(ConfirmScreen(
            "Restart the scheduler? Running tasks finish first; every module is reloaded.",
            "Restart"), answer)

    def request_shutdown(self) -> None:
        """``q``: confirm, then ``session.shutdown()``; again while stopping: terminate."""
        if self.stopped:
            self.app.exit(return_code=0 if self.stopped_error is None else 1)
            return
        if self.control.shutdown_requested:
            self.control.shutdown()
            self.notify("Terminating running tasks", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.control.shutdown()
                self.query_one(StatusLine).override = STOPPING

        if self.host is None:
            self.app.push_screen(ConfirmScreen(
                "Stop the scheduler for everyone? It serves other terminals and scripts too; "
                "running tasks get time to finish (Q again while it stops: terminate them). "
                "To leave it running, press q to detach.", "Stop it"), answer)
            return
        timeout = self.host.config.shutdown_timeout
        self.app.push_screen(ConfirmScreen(
            f"Shut down the scheduler? Running tasks get up to {timeout:g}s to finish; "
            "press q or ctrl+c again while it stops to terminate them.", "Shut down"), answer)

    def action_filter(self) -> None:
        """Show and focus the filter box."""
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        box.focus()

    def action_clear_filter(self) -> None:
        """Clear and hide the filter (or, from the log's search box, the search)."""
        search = self.query_one("#search", Input)
        if search.has_focus or (self.log_pane.has_focus and self.log_pane.search):
            search.value = ""
            search.remove_class("-shown")
            self.log_pane.search = ""
            self.log_pane.focus()
            return
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("-shown")
        self.table.filter_text = ""
        self.table.focus()

    def action_follow_log(self) -> None:
        """Toggle following the log."""
        self.log_pane.follow = not self.log_pane.follow

    def action_log_only(self) -> None:
        """Show only the selected task's lines, or everything again."""
        self.log_pane.only = None if self.log_pane.only is not None else self.selected

    def action_problems(self) -> None:
        """Show load failures and engine errors."""
        self.unread_errors = 0
        self._refresh_problems()
        self.app.push_screen(ProblemsScreen([*self.failures.values(), *reversed(self.errors)]))

    def action_cycle_panes(self) -> None:
        """Focus the next pane (table, log, condition)."""
        panes: list[Widget] = [self.table, self.log_pane, self.query_one(ConditionPane)]
        focused = self.focused
        index = panes.index(focused) if focused in panes else -1
        panes[(index + 1) % len(panes)].focus()

    def action_help(self) -> None:
        """Every key of every pane and screen, with its keymap id."""
        self.app.push_screen(HelpScreen(help_sections(self.app, [
            ("Main screen (any pane)", [], self.BINDINGS, []),
            ("Task table", [], TaskTable.BINDINGS, []),
            ("Log pane (tab to focus it)", [], LogPane.BINDINGS, []),
            ("Detail screen (enter)",
             [("↑ ↓", "Select a run: its output and traceback show below it", "")],
             DetailScreen.BINDINGS, []),
            ("Errors screen (e)", [("↑ ↓", "Choose a problem: its traceback shows below", "")],
             ProblemsScreen.BINDINGS, []),
            ("Everywhere", [], type(self.app).BINDINGS,
             [("ctrl+p", "Command palette: every action by name", "")]),
        ])))
