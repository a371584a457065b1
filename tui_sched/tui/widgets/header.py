"""The header line: scheduler state, uptime, counts, failures, folder and store."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from tui_sched.tui.model import Facts, fmt_duration, state_label


class StatusLine(Static):
    """One or two lines about the scheduler as a whole.

    The state is a word (``running``, ``shutting down``, ``restarting``) with a symbol;
    colour only repeats it.
    """

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    StatusLine.-stopping { background: $warning-muted; }
    StatusLine.-problems { background: $error-muted; }
    """

    facts: reactive[Facts | None] = reactive(None, layout=True)
    """The latest facts (``None`` until the engine is up)."""
    now: reactive[float] = reactive(0.0)
    """The engine's clock at the latest snapshot."""
    override: reactive[str] = reactive("")
    """A state the UI knows before the engine says it (e.g. ``shutting down``)."""
    problems: reactive[int] = reactive(0)
    """Modules that failed to load, plus unread engine errors (``e`` shows them)."""
    mode: reactive[str] = reactive("embedded")
    """``embedded`` (the engine runs in this process) or ``attached to pid N``."""

    def __init__(self, tasks_dir: str, store_path: str, *, id: str | None = None,
                 mode: str = "embedded") -> None:
        super().__init__(id=id)
        self.tasks_dir = tasks_dir
        self.store_path = store_path
        self.set_reactive(StatusLine.mode, mode)

    def render_content(self) -> Content:
        """The line's content."""
        facts = self.facts
        state = self.override or (state_label(facts.state) if facts else "starting")
        symbol = {"running": "●", "starting": "◌"}.get(state, "◐")
        parts = [Content.styled(f"{symbol} {state}", "bold"), Content(self.mode)]
        if facts is not None and facts.died_during:
            parts.append(Content.styled(f"! last scheduler died during {facts.died_during}", "bold"))
        if facts is not None:
            if facts.started_at is not None:
                parts.append(Content(f"up {fmt_duration(max(0.0, self.now - facts.started_at))}"))
            parts.append(Content(f"{facts.tasks} tasks ({facts.disabled} disabled)"))
            parts.append(Content(f"{facts.running} running"))
            parts.append(Content(f"{facts.failures_hour} failed/1h"))
            if facts.restarts:
                parts.append(Content(f"{facts.restarts} restart(s)"))
            if facts.cluster:
                parts.append(Content(facts.cluster))
        if self.problems:
            parts.append(Content.styled(f"⚠ {self.problems} problem(s): press e", "bold"))
        parts.append(Content(f"tasks: {self.tasks_dir}"))
        parts.append(Content(f"store: {self.store_path}"))
        return Content(" │ ").join(parts)

    def _refresh_line(self) -> None:
        self.set_class(bool(self.override) or (self.facts is not None
                                               and self.facts.state in ("stopping", "restarting")),
                       "-stopping")
        self.set_class(self.problems > 0, "-problems")
        self.update(self.render_content())

    def on_mount(self) -> None:
        self._refresh_line()

    def watch_facts(self) -> None:
        self._refresh_line()

    def watch_now(self) -> None:
        self._refresh_line()

    def watch_override(self) -> None:
        self._refresh_line()

    def watch_problems(self) -> None:
        self._refresh_line()

    def watch_mode(self) -> None:
        self._refresh_line()
