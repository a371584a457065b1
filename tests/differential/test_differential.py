"""The engine against the naive reference (``diffmodel.Reference``): random task sets and
random operations (clock spans across DST days in two zones, force, disable/enable,
create/remove, condition changes, failing runs, restarts on the kept store) must give
exactly the same starts (instant, task, trigger, attempt) in both.

Profiles: the default (inside ``make test``) is derandomized, so CI is deterministic;
``HYPOTHESIS_PROFILE=deep`` (``make test-deep``) runs many more random examples;
``HYPOTHESIS_PROFILE=explore`` is ``deep`` without shrinking (a failure is reported at
once, unshrunk). A failure prints its blob: ``DIFF_REPRODUCE="<version> <blob>"`` replays
it, ``DIFF_DEBUG=1`` also prints every start of both. ``DIFF_KNOWN_ENGINE_BUGS`` (see
``diffgen``) lets the generator produce the shapes of known bugs again.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import diffgen
import pytest
from diffgen import KNOWN_ENGINE_BUGS, NAMES
from diffmodel import (
    GRID,
    ZONES,
    EngineWorld,
    Reference,
    Start,
    TaskSpec,
    periodic_parts,
    start_instant,
    zone,
)
from hypothesis import HealthCheck, Phase, event, reproduce_failure, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tui_sched.conditions import parse_condition
from tui_sched.conditions.context import Context
from tui_sched.conditions.cron import Cron, CronTime
from tui_sched.store.base import Outcome

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
PROFILES = {
    "default": settings(max_examples=60, stateful_step_count=30, derandomize=True,
                        **_COMMON),  # type: ignore[arg-type]
    "deep": settings(max_examples=4000, stateful_step_count=50, derandomize=False,
                     **_COMMON),  # type: ignore[arg-type]
}
PROFILES["explore"] = settings(PROFILES["deep"], phases=[Phase.generate])  # no shrinking: quick
PROFILE = PROFILES.get(os.environ.get("HYPOTHESIS_PROFILE", ""), PROFILES["default"])
#: The whole stateful run is one test: pytest-timeout's 60 s would stop a deep run.
pytestmark = pytest.mark.timeout(150 if PROFILE is PROFILES["default"] else 6 * 3600)


def _reads_other_tasks(cond: str, name: str) -> bool:
    return bool(parse_condition(cond).task_refs() - {name})


class DifferentialMachine(RuleBasedStateMachine):
    """One example: a zone, a start near a DST day, tasks; then random operations."""

    def __init__(self) -> None:
        super().__init__()
        self.ref: Reference | None = None
        self.world: EngineWorld | None = None
        self.priority: dict[str, int] = {}
        self.removed_disabled: set[str] = set()
        self.restarts = self.recent = True
        self.tmp: tempfile.TemporaryDirectory[str] | None = None

    # -- set-up -----------------------------------------------------------------------
    @initialize(tz_name=st.sampled_from(ZONES), which=st.integers(0, 1),
                offset=st.integers(0, 24 * 3600 // GRID), data=st.data())
    def setup(self, tz_name: str, which: int, offset: int, data: st.DataObject) -> None:
        tz = zone(tz_name)
        now = start_instant(tz_name, which, offset)
        self.first_instant = now
        self.tz = tz
        order = data.draw(st.permutations(range(len(NAMES))), label="priorities")
        self.priority = dict(zip(NAMES, order, strict=True))
        self.ref = Reference(tz, now, set())
        history = None
        if data.draw(st.booleans(), label="sqlite history"):
            self.tmp = tempfile.TemporaryDirectory(prefix="tui-sched-diff-")
            history = Path(self.tmp.name) / "history.sqlite3"
        self.world = EngineWorld(tz, now, set(), history)
        # Restarts, or conditions that read recent runs (issue 17 item 8), or both.
        self.restarts = data.draw(st.booleans(), label="restarts")
        self.recent = not (self.restarts and "counts_forget_on_restart" in KNOWN_ENGINE_BUGS)
        count = data.draw(st.integers(1, 4), label="tasks")
        for name in data.draw(st.permutations(NAMES))[:count]:
            spec = self._spec(data, name, at_start=True)
            self.world.add(spec)
            self.ref.add(spec, settle=False)  # the scheduler starts below
        self.world.start()
        self.ref.settle()

    def _spec(self, data: st.DataObject, name: str, at_start: bool) -> TaskSpec:
        cond = data.draw(diffgen.condition(self.recent), label=f"condition of {name}")
        if (not at_start and "runtime_dependents" in KNOWN_ENGINE_BUGS
                and _reads_other_tasks(cond, name)):
            cond = data.draw(diffgen.every(), label=f"condition of {name} (known bug)")
        if (not at_start and "cron_added_at_runtime" in KNOWN_ENGINE_BUGS and "cron" in cond
                and self.ref is not None and self.ref.status.status(name).last_start is None):
            cond = data.draw(diffgen.every(), label=f"condition of {name} (known bug)")
        if ("cron_fire_at_restart" in KNOWN_ENGINE_BUGS and "cron" in cond
                and self._missed_since_last_start(name)):
            # The engine stamps the missed mark at the restart, which then hides
            # every cron fire before it from a cron condition given later.
            cond = data.draw(diffgen.every(), label=f"condition of {name} (known bug)")
        options = data.draw(diffgen.retry_options(), label=f"retries of {name}")
        misfire = None
        _, rest = periodic_parts(parse_condition(cond))
        if rest and "catch_up_ignores_rest" in KNOWN_ENGINE_BUGS:
            misfire = "skip"
        return TaskSpec(name, cond, self.priority[name], misfire=misfire,
                        **options)  # type: ignore[arg-type]

    def _missed_since_last_start(self, name: str) -> bool:
        assert self.ref is not None
        status = self.ref.status.status(name)
        missed = status.last(Outcome.MISSED)
        return missed is not None and (status.last_start is None or missed >= status.last_start)

    def teardown(self) -> None:
        if self.world is not None:
            self.world.close()
        if self.tmp is not None:
            self.tmp.cleanup()
        if self.ref is not None:  # (--hypothesis-show-statistics)
            n = len(self.ref.starts)
            event("starts: " + ("0" if n == 0 else "1-9" if n < 10 else "10-99" if n < 100
                                else "100+"))
            offsets = {datetime.fromtimestamp(t, self.tz).utcoffset() for t in
                       (self.first_instant, self.ref.now)}
            event("crossed a DST change" if len(offsets) > 1 else "no DST change")
            event(f"triggers: {sorted({s[2] for s in self.ref.starts})}")

    # -- operations -------------------------------------------------------------------
    def _names(self) -> list[str]:
        assert self.ref is not None
        return sorted(self.ref.tasks)

    @rule(steps=diffgen.spans)
    def advance(self, steps: int) -> None:
        assert self.ref is not None and self.world is not None
        until, count = self.ref.now + steps * GRID, len(self.ref.starts)
        self.ref.advance_to(until)
        self.world.advance_to(until, {s[0] for s in self.ref.starts[count:]})

    @precondition(lambda self: self.ref is not None and self.ref.tasks)
    @rule(data=st.data())
    def force(self, data: st.DataObject) -> None:
        assert self.ref is not None and self.world is not None
        name = data.draw(st.sampled_from(self._names()))
        self.ref.force(name)
        self.world.force(name)

    @precondition(lambda self: self.ref is not None and self.ref.tasks)
    @rule(data=st.data(), value=st.booleans())
    def set_disabled(self, data: st.DataObject, value: bool) -> None:
        assert self.ref is not None and self.world is not None
        names = self._names()
        if value and "retry_while_disabled" in KNOWN_ENGINE_BUGS:
            names = [n for n in names if not self.ref.tasks[n].spec.retries]
            if not names:
                return
        name = data.draw(st.sampled_from(names))
        self.ref.set_disabled(name, value)
        self.world.set_disabled(name, value)

    @precondition(lambda self: self.ref is not None and self.ref.tasks)
    @rule(data=st.data())
    def fail_next_run(self, data: st.DataObject) -> None:
        assert self.ref is not None and self.world is not None
        name = data.draw(st.sampled_from(self._names()))
        self.ref.fail_next.add(name)
        self.world.fail_next.add(name)

    @precondition(lambda self: self.ref is not None and len(self.ref.tasks) < len(NAMES))
    @rule(data=st.data())
    def create(self, data: st.DataObject) -> None:
        assert self.ref is not None and self.world is not None
        free = [n for n in NAMES if n not in self.ref.tasks]
        if "flag_of_removed_task" in KNOWN_ENGINE_BUGS:
            free = [n for n in free if n not in self.removed_disabled]
            if not free:
                return
        name = data.draw(st.sampled_from(free))
        spec = self._spec(data, name, at_start=False)
        self.ref.add(spec)
        self.world.add(spec)

    @precondition(lambda self: self.ref is not None and len(self.ref.tasks) > 1)
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        assert self.ref is not None and self.world is not None
        name = data.draw(st.sampled_from(self._names()))
        if self.ref.tasks[name].disabled:
            self.removed_disabled.add(name)
        self.ref.remove(name)
        self.world.remove(name)

    @precondition(lambda self: self.ref is not None and self.ref.tasks)
    @rule(data=st.data())
    def change_condition(self, data: st.DataObject) -> None:
        assert self.ref is not None and self.world is not None
        name = data.draw(st.sampled_from(self._names()))
        old = self.ref.tasks[name].spec
        new = self._spec(data, name, at_start=False)
        spec = TaskSpec(name, new.cond, old.priority, old.retries, old.retry_delay,
                        old.backoff, new.misfire)
        self.ref.change(name, spec)
        self.world.change(name, spec)

    @precondition(lambda self: self.ref is not None and self.restarts)
    @rule(downtime=st.one_of(st.just(0), st.integers(1, 12), st.integers(13, 600)))
    def restart(self, downtime: int) -> None:
        assert self.ref is not None and self.world is not None
        if "cron_fire_at_restart" in KNOWN_ENGINE_BUGS and downtime:
            for _ in range(12):
                if not self._cron_fires_at(self.ref.now + downtime * GRID):
                    break
                downtime += 1
            else:
                downtime = 0
        self.ref.stop()
        self.world.restart(downtime * GRID)
        self.ref.start(self.ref.now + downtime * GRID)

    def _cron_fires_at(self, t: float) -> bool:
        assert self.ref is not None
        for task in self.ref.tasks.values():
            node, _ = periodic_parts(task.cond)
            if isinstance(node, Cron) and CronTime(node.expr).evaluate(
                    Context(t, self.tz, None, self.ref.status)):
                return True
        return False

    # -- the property -----------------------------------------------------------------
    @invariant()
    def same_starts(self) -> None:
        if self.ref is None or self.world is None:
            return
        assert self.world.clock.time() == self.ref.now
        expected, actual = sorted(self.ref.starts), sorted(self.world.starts)
        if expected != actual:
            raise AssertionError(self._explain(expected, actual))

    def _explain(self, expected: list[Start], actual: list[Start]) -> str:
        def show(s: Start) -> str:
            local = datetime.fromtimestamp(s[0], self.tz)
            return f"{local:%a %Y-%m-%d %H:%M %Z} {s[1]} {s[2]} attempt {s[3]}"

        only_ref = [s for s in expected if s not in actual]
        only_engine = [s for s in actual if s not in expected]
        assert self.ref is not None
        first = min(only_ref + only_engine)[0]
        around = [s for s in expected if first - 3 * 3600 <= s[0] < first]
        lines = ["the engine and the reference started different runs",
                 "tasks: " + "; ".join(f"{t.spec}" for t in self.ref.tasks.values()),
                 "only in the reference:", *map(show, only_ref[:10]),
                 "only in the engine:", *map(show, only_engine[:10]),
                 "both, in the 3 hours before:", *map(show, around[-10:])]
        if os.environ.get("DIFF_DEBUG"):
            lines += ["all of the reference:", *map(show, expected),
                      "all of the engine:", *map(show, actual)]
        return "\n".join(lines)


if os.environ.get("DIFF_REPRODUCE"):  # "version blob" from a failure, to replay it
    DifferentialMachine = reproduce_failure(*os.environ["DIFF_REPRODUCE"].split())(
        DifferentialMachine)
TestDifferential = DifferentialMachine.TestCase
TestDifferential.settings = PROFILE
