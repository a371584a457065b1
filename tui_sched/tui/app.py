"""The Textual application and ``run_tui``, the entry point ``tui-sched`` calls."""

from __future__ import annotations

import inspect
import os
import signal
import threading
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui_sched.config import AppConfig
from tui_sched.engine.bus import EventBus
from tui_sched.engine.host import Builder, EngineHost
from tui_sched.statedir import HISTORY_FILE, default_state_dir
from tui_sched.tui.screens.main import MainScreen


class SchedulerApp(App[int]):
    """tui-sched's terminal UI around a running ``EngineHost``.

    | Key | Action |
    | :- | :- |
    | `q`, `ctrl+c`, `ctrl+q` | Shut down (confirm); again while stopping: terminate runs. Attached: detach. |
    | `Q` | Stop the scheduler (attached: for everyone; confirm). |
    | `ctrl+p` | Command palette (every action). |

    Args:
        host: The engine host (started when the UI is up, so task output is captured
            inside Textual's own stdout capture, never written over the screen).
        tasks_dir: Shown in the header.
        store_path: Shown in the header.
        keymap: Binding id -> keys, e.g. ``{"force_run": "F"}``.
    """

    TITLE = "tui-sched"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "shutdown", "Quit", id="shutdown", tooltip="Shut down the scheduler"),
        Binding("ctrl+c", "shutdown", "Quit", show=False, priority=True, id="shutdown_ctrl_c"),
        # Textual's own ctrl+q would leave the engine running behind a closed UI.
        Binding("ctrl+q", "shutdown", "Quit", show=False, priority=True, id="shutdown_ctrl_q"),
        Binding("Q", "stop_scheduler", "Stop", show=False, id="stop_scheduler",
                tooltip="Stop the scheduler (attached: for everyone; confirm)"),
    ]

    def __init__(self, host: EngineHost | None, *, tasks_dir: str = "tasks", store_path: str = "",
                 keymap: dict[str, str] | None = None, attach: Path | None = None) -> None:
        super().__init__()
        self.host = host
        self.main = MainScreen(host, tasks_dir, store_path, attach=attach)
        self._user_keymap = keymap or {}

    def on_mount(self) -> None:
        if self._user_keymap:
            self.set_keymap(self._user_keymap)
        self.push_screen(self.main)

    def action_shutdown(self) -> None:
        """Shut down (confirm first); pressed again while stopping: terminate runs.
        Attached to a scheduler in another process: detach (it runs on)."""
        if self.host is None and not self.main.control.shutdown_requested:
            self.exit(return_code=0)
            return
        self.action_stop_scheduler()

    def action_stop_scheduler(self) -> None:
        """Stop the scheduler (confirm first; attached: for everyone)."""
        settled = self.main.control.shutdown_requested or self.main.stopped
        if not isinstance(self.screen, MainScreen) and not settled:
            self.pop_screen()  # back to the task table, then ask
        self.main.request_shutdown()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for title, help_, action in screen.key_commands():
                yield SystemCommand(title, help_, partial(screen.run_action, action))
        yield SystemCommand("Shut down", "Shut down the scheduler (confirm)", self.action_shutdown)


#: Seconds the UI gets to exit after the engine stopped on a signal before the process
#: leaves without it (a vanished terminal can block Textual's last writes).
_UI_EXIT_GRACE = 3.0


def _with_bus(build: Any, bus: EventBus) -> Builder:
    """Load errors go to the bus (shown in the UI), never to stderr under the screen."""
    try:
        accepts_bus = "bus" in inspect.signature(build).parameters
    except (TypeError, ValueError):
        accepts_bus = False
    return partial(build, bus=bus) if accepts_bus else build  # type: ignore[no-any-return]


def run_tui(build: Builder, cfg: AppConfig) -> int:
    """Run the engine on its thread with the UI in front; returns the exit code.

    Builds the ``EngineHost``, runs the app (which starts the host once it is up), then
    shuts the host down and joins it. ``SIGTERM``/``SIGHUP`` shut down gracefully.
    """
    bus = EventBus()
    host = EngineHost(_with_bus(build, bus), config=cfg.scheduler, bus=bus)
    state = Path(cfg.state_dir) if cfg.state_dir else default_state_dir(cfg.tasks_dir)
    app = SchedulerApp(host, tasks_dir=cfg.tasks_dir, store_path=str(state / HISTORY_FILE),
                       keymap=getattr(cfg, "keymap", None))
    count = 0
    ui_done = threading.Event()

    def exit_if_stuck() -> None:
        # After SIGHUP the terminal is gone, and Textual can block for ever writing its
        # goodbye to it. Once the engine has stopped (history closed, consistent), give
        # the UI a moment to exit normally, then leave without it.
        host.join(cfg.scheduler.shutdown_timeout + 10)
        if not ui_done.wait(_UI_EXIT_GRACE):
            os._exit(1 if host.error is not None else 0)

    def on_signal(signum: int, frame: object) -> None:
        nonlocal count
        count += 1
        host.shutdown(force=count > 1)
        if count == 1:
            threading.Thread(target=exit_if_stuck, name="tui-sched-exit", daemon=True).start()

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    from tui_sched.control.server import serving

    try:
        with serving(host, state):  # `tui-sched attach` and `ctl` reach this engine too
            code = app.run()
    finally:
        ui_done.set()
    host.shutdown()
    if not host.join(cfg.scheduler.shutdown_timeout + 10):
        host.shutdown(force=True)
        host.join(10)
    if host.error is not None:
        return 1
    return code if isinstance(code, int) else (app.return_code or 0)


def run_attach(state_dir: Path, cfg: AppConfig) -> int:
    """The UI on the scheduler that serves ``state_dir`` (``tui-sched attach``); ``q``
    detaches and leaves it running. Returns the exit code."""
    app = SchedulerApp(None, tasks_dir=cfg.tasks_dir, store_path=str(state_dir / HISTORY_FILE),
                       keymap=getattr(cfg, "keymap", None), attach=state_dir)
    code = app.run()
    return code if isinstance(code, int) else (app.return_code or 0)
