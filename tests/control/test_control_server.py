"""The control socket in the scheduler: commands, the handshake, the socket file, and a
client that stops reading (real sockets, a real engine on its thread)."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import time
from pathlib import Path

import msgspec
import pytest
from serverkit import manual_and_hourly, serving_app

from tui_sched import App
from tui_sched.control import protocol as p
from tui_sched.control.client import ControlClient, ControlRefused, SchedulerNotRunning
from tui_sched.engine import events as ev


def test_commands_over_the_socket_reach_the_engine(tmp_path: Path) -> None:
    with serving_app(manual_and_hourly(), tmp_path / "state") as (_host, _srv, rec):
        async def session() -> None:
            c = await ControlClient.connect(tmp_path / "state")
            assert c.welcome.pid == os.getpid()
            assert (await c.request(p.Force("manual"))).ok
            await asyncio.to_thread(rec.wait_for, lambda e: isinstance(e, ev.RunFinished))
            deadline = time.monotonic() + 10
            while True:  # the run's end is recorded at the engine's next tick
                page = (await c.request(p.GetHistory("manual", 10))).result
                assert isinstance(page, p.HistoryPage)
                if (page.runs and page.runs[0].outcome is not None) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.02)
            assert [(r.task, r.trigger, r.outcome) for r in page.runs] == [("manual", "forced", "success")]

            assert (await c.request(p.Disable("hourly"))).ok
            snap = (await c.request(p.GetSnapshot("hourly"))).result
            assert isinstance(snap, p.WireSnapshot)
            assert {r.name: r.disabled for r in snap.rows} == {"manual": False, "hourly": True}
            assert snap.explanation is not None and snap.explanation.text == "every 1 hour"
            assert (await c.request(p.Enable("hourly"))).ok

            wrong = await c.request(p.Force("manul"))
            assert (wrong.ok, wrong.error_kind, wrong.suggestions) == (False, "unknown_task", ["manual"])
            assert "Did you mean 'manual'" in (wrong.error or "")
            why = (await c.request(p.Explain("hourly"))).result
            assert isinstance(why, p.WireExplanation) and why.next_change is not None
            await c.close()

        asyncio.run(session())
    assert len(rec.finished("manual")) == 1


def test_a_client_speaking_another_version_gets_a_clear_error(tmp_path: Path) -> None:
    with serving_app(manual_and_hourly(), tmp_path / "state") as (_host, srv, _rec):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(srv.path))
            s.sendall(msgspec.json.encode(p.Hello(p.PROTOCOL_VERSION + 1, "future")) + b"\n")
            answer = p.decode_server(s.makefile("rb").readline())
        assert isinstance(answer, p.Rejected)
        assert "protocol mismatch" in answer.message
        assert f"version {p.PROTOCOL_VERSION}, the client version {p.PROTOCOL_VERSION + 1}" in answer.message


def test_a_server_speaking_another_version_is_a_clear_error_in_the_client(tmp_path: Path) -> None:
    async def run() -> str:
        async def old_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readline()
            writer.write(p.encode(p.Welcome(p.PROTOCOL_VERSION + 7, 1, str(tmp_path))))
            await writer.drain()
            writer.close()

        server = await asyncio.start_unix_server(old_server, str(tmp_path / p.SOCKET_FILE))
        try:
            with pytest.raises(ControlRefused) as info:
                await ControlClient.connect(tmp_path)
            return str(info.value)
        finally:
            server.close()

    message = asyncio.run(run())
    assert "protocol mismatch" in message and f"version {p.PROTOCOL_VERSION + 7}" in message


def test_the_socket_is_private_and_a_stale_one_is_replaced(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(state / p.SOCKET_FILE))
    stale.close()  # as a killed scheduler leaves it: the file, nobody listening
    with pytest.raises(SchedulerNotRunning, match="left from a scheduler that was killed"):
        asyncio.run(ControlClient.connect(state))

    with serving_app(manual_and_hourly(), state) as (_host, srv, rec):
        rec.wait_for(lambda e: isinstance(e, ev.EngineError) and "removed a stale" in e.message)
        mode = os.stat(srv.path).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600

        async def ping() -> bool:
            c = await ControlClient.connect(state)
            ok = (await c.request(p.GetSnapshot())).ok
            await c.close()
            return ok

        assert asyncio.run(ping())
    assert not (state / p.SOCKET_FILE).exists()
    assert [x for x in os.listdir(state) if x.endswith(".tmp")] == []


def test_a_long_state_path_still_gets_a_socket(tmp_path: Path) -> None:
    state = tmp_path / ("x" * 60) / ("y" * 60) / "state"
    with serving_app(manual_and_hourly(), state) as (_host, srv, _rec):
        assert srv.path.exists()

        async def ping() -> int:
            c = await ControlClient.connect(state)
            await c.close()
            return c.welcome.pid

        assert asyncio.run(ping()) == os.getpid()


def test_subscribers_start_with_recent_events_and_get_snapshots(tmp_path: Path) -> None:
    def manual_finished(e: ev.Event) -> bool:
        # Not any run's end: ``hourly`` (never started, so due) runs at the first tick too,
        # and usually ends before ``manual`` has printed.
        return isinstance(e, ev.RunFinished) and e.run.task == "manual"

    with serving_app(manual_and_hourly(), tmp_path / "state") as (host, _srv, rec):
        host.engine.session["manual"].force_run = True  # type: ignore[union-attr]
        rec.wait_for(manual_finished)

        async def watch() -> tuple[list[ev.Event], list[ev.Event], p.WireSnapshot]:
            c = await ControlClient.connect(tmp_path / "state", subscribe=True)
            batches: list[list[ev.Event]] = []
            snapshot = None
            while snapshot is None or not any(manual_finished(e) for b in batches for e in b):
                msg = await asyncio.wait_for(c.receive(), 10)
                if isinstance(msg, p.Events):
                    batches.append([e for w in msg.events if (e := p.event_of(w)) is not None])
                if isinstance(msg, p.SnapshotPush):
                    snapshot = msg.snapshot
            await c.close()
            return batches[0], [e for b in batches for e in b], snapshot

        replayed, seen, snap = asyncio.run(watch())
    assert all(type(e).__qualname__ == type(e).__name__ for e in seen)  # the real, frozen classes
    # The run printed before it ended, so its line is among the recent events the new
    # subscriber gets first (what the attached UI's log pane starts with).
    assert [e.text for e in replayed if isinstance(e, ev.LogLine)] == ["manual ran"]
    assert [e.text for e in seen if isinstance(e, ev.LogLine)] == ["manual ran"]
    assert {r.name: r.last_outcome for r in snap.rows}["manual"] == "success"


def _chatty_app() -> App:
    app = App(state_dir=None)

    @app.task("true")
    def chatty() -> None:
        for i in range(200):
            print(f"line {i} " + "x" * 200)

    return app


def _subscribe_raw(path: Path) -> socket.socket:
    """A subscriber with a tiny receive buffer that reads nothing until told."""
    s = socket.socket(socket.AF_UNIX)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(str(path))
    s.sendall(p.encode(p.Hello(p.PROTOCOL_VERSION, "frozen", subscribe=True)))
    return s


def _kinds(data: bytes) -> list[str]:
    kinds = []
    for line in data.split(b"\n"):
        try:
            kinds.append(type(p.decode_server(line)).__name__)
        except msgspec.DecodeError:  # the line cut off when the connection was dropped
            pass
    return kinds


@pytest.mark.slow
def test_a_client_that_pauses_reading_is_resynchronised_with_a_fresh_snapshot(tmp_path: Path) -> None:
    with serving_app(_chatty_app(), tmp_path / "state", max_queued=256 << 10) as (_h, srv, rec):
        paused = _subscribe_raw(srv.path)
        runs = len(rec.finished("chatty"))
        # While it does not read, some 500 kB of output is published for it.
        rec.wait_for(lambda e: len(rec.finished("chatty")) > runs + 15, timeout=30)
        paused.settimeout(10)
        data = b""
        while b'"resync"' not in data or b'"snapshot_push"' not in data.split(b'"resync"', 1)[1]:
            data += paused.recv(1 << 16)
        paused.close()
    kinds = _kinds(data)
    after = kinds[kinds.index("Resync"):]
    assert "SnapshotPush" in after, after[:10]


@pytest.mark.slow
def test_a_client_that_stops_reading_never_slows_the_engine_or_other_clients(tmp_path: Path) -> None:
    with serving_app(_chatty_app(), tmp_path / "state", max_queued=256 << 10,
                     drop_after=3.0) as (_h, srv, rec):
        frozen = _subscribe_raw(srv.path)

        async def lively() -> tuple[list[float], int]:
            c = await ControlClient.connect(tmp_path / "state", subscribe=True)
            times: list[float] = []
            lines = 0
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                # Answered by the server thread alone: what a stalled peer could block.
                assert (await c.request(p.Enable("chatty"))).ok
                times.append(time.perf_counter() - t0)
                while not c._inbox.empty():  # keep reading what is pushed
                    msg = c._inbox.get_nowait()
                    if isinstance(msg, p.Events):
                        lines += len(msg.events)
                await asyncio.sleep(0.05)
            await c.close()
            return times, lines

        runs_before = len(rec.finished("chatty"))
        times, lines = asyncio.run(lively())
        runs_during = len(rec.finished("chatty")) - runs_before
        rec.wait_for(lambda e: isinstance(e, ev.EngineError) and "dropped a client" in e.message)
        frozen.settimeout(5)
        data = b""
        while chunk := frozen.recv(1 << 16):  # until the server closed it
            data += chunk
        frozen.close()
    assert _kinds(data)[0] == "Welcome"
    assert len(data) < 1 << 20  # what it got before it stopped reading, not all of it
    assert runs_during > 20, runs_during  # the engine ran on
    assert lines > 200 * 20  # and the other client got every line
    # Generous (2 cores shared with other test runs): a stalled peer blocking the
    # server would show as seconds, or as no answer at all.
    assert sorted(times)[int(len(times) * 0.95)] < 1.0, max(times)


def test_the_control_package_imports_neither_textual_nor_the_tui() -> None:
    import subprocess
    import sys

    code = ("import sys, tui_sched.control.server, tui_sched.control.client; "
            "print(sorted(m for m in sys.modules if m.startswith(('textual', 'tui_sched.tui'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_refused_client_always_reads_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # (Another uid is refused in test_ctl.py with a real second user; here every peer
    # is, many times, to catch the connection being reset before the reason is read.)
    import tui_sched.control.server as server_module

    monkeypatch.setattr(server_module, "peer_allowed", lambda uid: False)
    with serving_app(manual_and_hourly(), tmp_path / "state") as (_host, _srv, rec):
        async def knock() -> list[str]:
            reasons = []
            for _ in range(100):
                with pytest.raises(ControlRefused) as info:
                    await ControlClient.connect(tmp_path / "state")
                reasons.append(str(info.value))
            return reasons

        reasons = asyncio.run(knock())
        rec.wait_for(lambda e: isinstance(e, ev.EngineError) and "refused a connection from uid" in e.message)
    assert all("may not control this scheduler" in r for r in reasons), {r for r in reasons}
