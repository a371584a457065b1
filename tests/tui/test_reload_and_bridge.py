"""Reload visibility, the bridge's batching and snapshots, NO_COLOR and the Textual boundary."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Log
from tuikit import make_host, ready, run_app, until, write_tasks

from tui_sched.engine.events import LogLine, ModuleFailed, ModuleLoaded
from tui_sched.engine.host import EngineHost
from tui_sched.tui.app import SchedulerApp
from tui_sched.tui.bridge import Bridge
from tui_sched.tui.messages import EventBatch, HostStopped, SnapshotReady
from tui_sched.tui.screens.problems import ProblemsScreen
from tui_sched.tui.widgets.header import StatusLine
from tui_sched.tui.widgets.log_pane import LogPane

ROOT = Path(__file__).resolve().parents[2]


def host_for(tmp_path: Path) -> EngineHost:
    write_tasks(tmp_path / "tasks")
    return make_host(tmp_path / "tasks", tmp_path / "state")


def test_a_failed_reload_leaves_a_marker_the_e_key_explains_and_a_good_one_clears(
        tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 4)
        header = app.main.query_one(StatusLine)
        tb = 'Traceback (most recent call last):\n  File "tasks/bad.py", line 3\nNameError: nope\n'
        app.host.bus.publish(ModuleFailed(time.time(), "tasks/bad.py", "NameError: nope", 3, tb))
        await until(pilot, lambda: header.problems == 1, "the error marker")
        assert "⚠ 1 problem(s): press e" in str(header.render())
        await until(pilot, lambda: any("failed to load" in str(n.message) for n in app._notifications),
                    "a notification")
        log = app.main.query_one(LogPane)
        assert any("bad.py:3 failed to load: NameError: nope" in ln for ln in log.lines)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ProblemsScreen), "the problems screen")
        detail = app.screen.query_one("#problem-detail", Log)
        await until(pilot, lambda: "NameError: nope" in "\n".join(detail.lines), "the traceback")
        await pilot.press("escape")
        assert header.problems == 1, "a module failure stays until the module loads"
        app.host.bus.publish(ModuleLoaded(time.time(), "tasks/bad.py", ("fresh",), ("old",), ("keep",)))
        await until(pilot, lambda: header.problems == 0, "the marker cleared")
        await until(pilot, lambda: any("reloaded bad.py: + fresh; - old; ~ keep" in ln
                                       for ln in log.lines), "the reload line")

    run_app(host_for(tmp_path), scenario)


class Collector:
    """A stand-in message target that records what the bridge posts."""

    def __init__(self) -> None:
        self.messages: list[object] = []
        self.cond = threading.Condition()

    def post_message(self, message: object) -> bool:
        with self.cond:
            self.messages.append(message)
            self.cond.notify_all()
        return True

    def wait(self, pred: object, timeout: float = 5.0) -> list[object]:
        with self.cond:
            assert self.cond.wait_for(lambda: [m for m in self.messages if pred(m)],  # type: ignore[operator]
                                      timeout), self.messages[-5:]
            return [m for m in self.messages if pred(m)]  # type: ignore[operator]


def test_the_bridge_batches_log_lines_and_posts_snapshots(tmp_path: Path) -> None:
    host = host_for(tmp_path)
    target = Collector()
    bridge = Bridge(host, target, batch=0.1)  # type: ignore[arg-type]
    bridge.start()
    host.start()
    try:
        assert host.wait_engine(10) is not None
        target.wait(lambda m: isinstance(m, SnapshotReady))
        before = len([m for m in target.messages if isinstance(m, EventBatch)])
        for i in range(300):
            host.bus.publish(LogLine(time.time(), "hello", 1, "stdout", f"line {i}"))
        batches = target.wait(lambda m: isinstance(m, EventBatch)
                              and any(getattr(e, "text", "") == "line 299" for e in m.events))
        lines = [e for m in target.messages if isinstance(m, EventBatch) for e in m.events
                 if isinstance(e, LogLine)]
        assert [e.text for e in lines] == [f"line {i}" for i in range(300)]
        assert len(batches) - before <= 3, "300 lines arrive in a few batches, not 300 messages"
        snap = [m for m in target.messages if isinstance(m, SnapshotReady)][-1]
        assert isinstance(snap, SnapshotReady)
        assert {r.name for r in snap.snapshot.rows} == {"hello", "boom", "hourly", "sleeper"}
        assert snap.can_replace(snap) and not snap.can_replace(batches[0])  # type: ignore[arg-type]
    finally:
        host.shutdown(force=True)
        assert host.join(10)
    target.wait(lambda m: isinstance(m, HostStopped))
    bridge.stop()


def test_no_color_keeps_every_status_readable(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 4)
        assert app.no_color
        table = app.main.query_one("#tasks")
        await until(pilot, lambda: "✓ succeeded" in " ".join(map(str, table.get_row("hourly"))),  # type: ignore[attr-defined]
                    "a status word")

    run_app(host_for(tmp_path), scenario)


def test_textual_is_imported_only_inside_tui() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tui_sched").rglob("*.py")
                 if "tui" not in p.relative_to(ROOT / "tui_sched").parts[:1]
                 and ("import textual" in p.read_text() or "from textual" in p.read_text())]
    assert offenders == []
    code = "import sys, tui_sched.tui.model, tui_sched.tui.control, tui_sched.tui.logfmt; " \
           "print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "the UI's model and commands are Textual-free"


def test_a_module_broken_at_start_is_marked_and_its_fix_hot_reloads(tmp_path: Path) -> None:
    from tui_sched.cli import build_folder
    from tui_sched.config import AppConfig
    from tui_sched.engine.bus import EventBus
    from tui_sched.tui.app import _with_bus

    folder = tmp_path / "tasks"
    write_tasks(folder)
    bad = write_tasks(folder, "undefined_name\n", "bad.py")
    cfg = AppConfig(tasks_dir=str(folder), state_dir=str(tmp_path / "state"))
    builder = build_folder(cfg)
    bus = EventBus()
    host = EngineHost(_with_bus(builder, bus), config=cfg.scheduler, bus=bus)

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 4)
        header = app.main.query_one(StatusLine)
        await until(pilot, lambda: header.problems >= 1, "the marker for bad.py")
        assert "bad.py" in "\n".join(app.main.query_one(LogPane).lines)
        bad.write_text("from tui_sched import App\napp = App()\n\n@app.task()\ndef fixed():\n    pass\n")
        await until(pilot, lambda: app.main.table.row_count == 5, "the fixed module's task", timeout=8)
        await until(pilot, lambda: not app.main.failures, "the marker cleared")

    try:
        run_app(host, scenario)
    finally:
        builder.reloader.stop()


def test_a_load_error_shows_file_line_caret_and_suggestion_everywhere_without_our_frames(
        tmp_path: Path) -> None:
    from tui_sched.reload.loader import load_folder

    bad = tmp_path / "bad"
    write_tasks(bad, '@app.task("every 10 secnds")\ndef typo():\n    pass\n', "typo.py")
    [err] = load_folder(bad).errors  # the real loader's error, as a reload publishes it

    async def scenario(pilot: Pilot[object], app: SchedulerApp) -> None:
        await ready(pilot, app, 4)
        app.host.bus.publish(ModuleFailed(time.time(), err.path, err.message, err.line, err.traceback))
        await until(pilot, lambda: any("failed" in str(n.title).lower() for n in app._notifications),
                    "the toast")
        [toast] = [str(n.message) for n in app._notifications if "failed" in str(n.title).lower()]
        assert "typo.py:5 failed to load:" in toast and "every 10 secnds" in toast
        assert "did you mean 'seconds'?" in toast and "^" in toast
        log = app.main.query_one(LogPane)
        await until(pilot, lambda: any("did you mean 'seconds'?" in ln for ln in log.lines), "the log")
        lines = list(log.lines)
        cond = next(ln for ln in lines if ln.endswith("every 10 secnds"))
        caret = lines[lines.index(cond) + 1]
        assert caret.rstrip().endswith("^") and caret.index("^") == cond.index("secnds"), "aligned"
        assert any("typo.py:5 failed to load: task 'typo'" in ln for ln in lines)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ProblemsScreen), "the problems screen")
        detail = app.screen.query_one("#problem-detail", Log)
        await until(pilot, lambda: "typo.py" in "\n".join(detail.lines), "the traceback")
        text = "\n".join(detail.lines)
        assert 'typo.py", line 5' in text and "did you mean 'seconds'?" in text
        assert "tui_sched" not in text.replace("tui_sched.errors", ""), "no frames of ours"
        assert "hidden; f: show them" in text
        await pilot.press("f")
        assert "tui_sched/reload/" in "\n".join(detail.lines), "our frames, on request"

    run_app(host_for(tmp_path), scenario)
