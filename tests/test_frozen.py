"""``quick_init`` builds the same values as the dataclass ``__init__`` it replaces."""

from __future__ import annotations

import dataclasses

import pytest

from tui_sched.engine.events import RunFinished, RunStarted
from tui_sched.frozen import quick_init
from tui_sched.store.base import Outcome, RunRecord, Trigger


def test_records_and_events_are_still_frozen_dataclasses() -> None:
    record = RunRecord(7, "t", Trigger.SCHEDULED, 1.0, attempt=2)
    assert (record.id, record.task, record.end, record.outcome, record.attempt) == (7, "t", None, None, 2)
    assert record == RunRecord(7, "t", Trigger.SCHEDULED, 1.0, None, None, None, None, None, None, 2)
    assert dataclasses.replace(record, end=2.0, outcome=Outcome.SUCCESS).duration == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.end = 3.0  # type: ignore[misc]
    started = RunStarted(1.0, record, None)  # a field of the base class (at) and its own
    assert (started.at, started.run, started.due) == (1.0, record, None)
    assert repr(RunFinished(2.0, record)).startswith("RunFinished(at=2.0, run=RunRecord(id=7")


def test_missing_and_extra_arguments_fail_as_with_dataclasses() -> None:
    with pytest.raises(TypeError):
        RunRecord(1, "t")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        RunRecord(1, "t", Trigger.SCHEDULED, 1.0, bogus=1)  # type: ignore[call-arg]


def test_it_refuses_what_it_cannot_copy() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        items: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithPostInit:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        x: int

    for cls in (WithFactory, WithPostInit, NoSlots):
        with pytest.raises(TypeError):
            quick_init(cls)
