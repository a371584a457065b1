"""Snapshots show each change, however they are built and however many clients watch:
the row memo of a long-lived builder (the control server's, the UI bridge's) against a
fresh build, on a real engine; and several subscribers of one scheduler seeing the same
table. Performance lives in ``bench/`` (``control_bench.py``, ``snapshot_cost.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import EngineRunner
from serverkit import serving_app

from tui_sched import App
from tui_sched.control import protocol as p
from tui_sched.control.client import ControlClient
from tui_sched.control.live import LiveTable
from tui_sched.engine.session import Session
from tui_sched.engine.snapshot import RowMemo, Snapshot, Status, TaskRow, build_snapshot, seed_runs
from tui_sched.store.base import Outcome


def _beat() -> None:
    pass


def _flaky() -> None:
    raise RuntimeError("broken")


def test_a_snapshot_after_each_change_shows_it_as_a_fresh_one_does() -> None:
    session = Session()
    session.create_task("every 10 seconds", func=_beat, name="beat", execution="main")
    session.create_task(None, func=_flaky, name="flaky", execution="main")
    memo: RowMemo = {}

    with EngineRunner(session) as runner:
        engine = runner.engine
        seed = engine.call(lambda: seed_runs(engine)).result(10)

        def snap() -> Snapshot:
            """The memo's snapshot, checked against one built from nothing."""
            def both() -> tuple[Snapshot, Snapshot]:
                return (build_snapshot(engine, None, seed, memo=memo),
                        build_snapshot(engine, None, seed))
            kept, fresh = engine.call(both).result(10)
            assert kept.rows == fresh.rows and kept.facts == fresh.facts
            return kept

        def row(s: Snapshot, name: str) -> TaskRow:
            return next(r for r in s.rows if r.name == name)

        runner.finished("beat")  # its first run, at start
        first = snap()
        assert row(first, "beat").last_outcome is Outcome.SUCCESS
        assert row(first, "beat").condition == "every 10 seconds"

        runner.advance(10)
        runner.finished("beat", count=2)
        second = snap()
        assert row(second, "beat").strip == (Outcome.SUCCESS, Outcome.SUCCESS)
        assert row(second, "beat").last_start == runner.starts("beat")[-1].start

        session["flaky"].force_run = True
        runner.finished("flaky")
        runner.sync()
        failed = snap()
        assert row(failed, "flaky").status is Status.FAILED
        assert failed.facts.failures_hour == 1

        # A new condition on the same task: the row's text follows it (texts are kept
        # from one snapshot to the next only while the definition is the same).
        session["beat"].start_cond = "every 20 seconds"
        runner.sync()
        assert row(snap(), "beat").condition == "every 20 seconds"

        runner.advance(3601)  # the failure ended over an hour ago
        assert snap().facts.failures_hour == 0


def _app() -> App:
    app = App(state_dir=None)

    @app.task()
    def manual() -> None:
        pass

    @app.task("every 1 hour")
    def hourly() -> None:
        pass

    return app


def test_every_subscriber_sees_the_same_table_with_the_change(tmp_path: Path) -> None:
    clients = 3
    # No whole snapshot is pushed after the first: each subscriber's table follows the
    # run from its events, as the attached UI's does.
    with serving_app(_app(), tmp_path / "state", full_every=3600) as (_host, _srv, _rec):
        async def until_manual_ran(c: ControlClient) -> Snapshot:
            table = LiveTable()
            while True:
                msg = await asyncio.wait_for(c.receive(), 10)
                if isinstance(msg, p.SnapshotPush):
                    table.rebase(p.snapshot_of(msg.snapshot), msg.snapshot.seq)
                elif isinstance(msg, p.Events):
                    table.add_events(msg.seq, [p.event_of(w) for w in msg.events])
                elif isinstance(msg, p.Progress):
                    table.progress(msg.at, msg.wakes)
                snap = table.snapshot
                rows = {} if snap is None else {r.name: r for r in snap.rows}
                if snap is not None and rows["manual"].last_outcome == Outcome.SUCCESS:
                    return snap

        async def watch() -> tuple[list[Snapshot], p.WireSnapshot]:
            subs = [await ControlClient.connect(tmp_path / "state", subscribe=True)
                    for _ in range(clients)]
            watching = [asyncio.create_task(until_manual_ran(c)) for c in subs]
            ctl = await ControlClient.connect(tmp_path / "state")
            assert (await ctl.request(p.Force("manual"))).ok
            shown = await asyncio.gather(*watching)
            asked = (await ctl.request(p.GetSnapshot())).result
            assert isinstance(asked, p.WireSnapshot)
            for c in [*subs, ctl]:
                await c.close()
            return shown, asked

        shown, asked = asyncio.run(watch())
    # Nothing changes after the forced run (the hourly task ran once, at start): every
    # client's table is the one a command asks for.
    assert all(list(s.rows) == asked.rows and s.facts == asked.facts for s in shown)
    rows = {r.name: r for r in asked.rows}
    assert rows["manual"].strip == (Outcome.SUCCESS,) and rows["hourly"].last_outcome == Outcome.SUCCESS
