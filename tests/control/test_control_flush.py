"""When the control socket sends what it collected: a steady stream of log lines goes out
once per batch window at a cost of one wake-up of the server per batch, and what a
client's command caused goes out at once (real sockets, a real engine on its thread)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from serverkit import manual_and_hourly, serving_app

from tui_sched.control import protocol as p
from tui_sched.control.client import ControlClient
from tui_sched.engine import events as ev

#: Longer than any test here waits: what arrives before it was not held for the window.
LONG = 60.0


async def _first_snapshot(c: ControlClient) -> p.WireSnapshot:
    while True:
        msg = await asyncio.wait_for(c.receive(), 10)
        if isinstance(msg, p.SnapshotPush):
            return msg.snapshot


def test_what_a_command_caused_is_sent_at_once_not_after_the_batch_window(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with serving_app(manual_and_hourly(), state, batch=LONG, min_snapshot=LONG,
                     progress_every=LONG, full_every=LONG):
        async def watch() -> tuple[list[ev.Event], p.WireSnapshot]:
            c = await ControlClient.connect(state, subscribe=True)
            await _first_snapshot(c)
            assert (await c.request(p.Force("manual"))).ok
            seen: list[ev.Event] = []
            while not any(isinstance(e, ev.RunFinished) and e.run.task == "manual" for e in seen):
                msg = await asyncio.wait_for(c.receive(), 10)
                if isinstance(msg, p.Events):
                    seen += [e for w in msg.events if (e := p.event_of(w)) is not None]
            assert (await c.request(p.Disable("hourly"))).ok
            while True:  # the table with the change, pushed without waiting either
                snap = await asyncio.wait_for(_first_snapshot(c), 10)
                if {r.name: r.disabled for r in snap.rows}["hourly"]:
                    break
            await c.close()
            return seen, snap

        seen, snap = asyncio.run(watch())
    mine = [e for e in seen if getattr(getattr(e, "run", e), "task", None) == "manual"]
    # The run's events and its output, whole and in order.
    assert [type(e).__name__ for e in mine] == ["RunStarted", "LogLine", "RunFinished"]
    assert [e.text for e in mine if isinstance(e, ev.LogLine)] == ["manual ran"]
    assert {r.name: r.last_outcome for r in snap.rows}["manual"] == "success"


def _wake_ups(native_id: int) -> int:
    """How often the thread has gone to sleep and been woken (Linux)."""
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return int(status.split("voluntary_ctxt_switches:")[1].split()[0])


def test_a_steady_stream_of_lines_costs_the_server_one_wake_up_per_batch(tmp_path: Path) -> None:
    """A wake-up of the server's thread is its main cost per batch; publishers of a stream
    that keeps coming must not wake it besides the flush that sends each batch."""
    state = tmp_path / "state"
    batches = 40
    with serving_app(manual_and_hourly(), state, batch=0.02, min_snapshot=LONG,
                     progress_every=LONG, full_every=LONG) as (host, _srv, _rec):
        server = next(t for t in threading.enumerate() if t.name == "tui-sched-control")
        assert server.native_id is not None

        def line(i: int) -> None:
            host.bus.publish(ev.LogLine(time.time(), "manual", 1, "stdout", f"line {i}"))

        async def stream() -> tuple[int, list[str]]:
            c = await ControlClient.connect(state, subscribe=True)
            await _first_snapshot(c)
            texts: list[str] = []
            before = _wake_ups(server.native_id)  # type: ignore[arg-type]
            line(0)
            for i in range(1, batches + 1):
                while not isinstance(msg := await asyncio.wait_for(c.receive(), 10), p.Events):
                    pass
                texts += [w.data["text"] for w in msg.events if w.kind == "LogLine"]
                # The next line comes while this batch is on its way, as in a stream.
                line(i)
            wakes = _wake_ups(server.native_id) - before  # type: ignore[arg-type]
            await c.close()
            return wakes, texts

        wakes, texts = asyncio.run(stream())
    assert texts == [f"line {i}" for i in range(batches)]
    # One per batch, and some slack for the odd wait for the interpreter lock (waking
    # for each first line and again for its flush is two per batch).
    assert wakes <= 1.5 * batches, wakes
