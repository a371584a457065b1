"""``@value`` classes behave as ``@dataclass(frozen=True, slots=True)`` would."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from tui_sched.conditions.periods import Every
from tui_sched.engine.events import RunFinished, RunStarted
from tui_sched.frozen import value
from tui_sched.store.base import Outcome, RunRecord, Trigger


@value
class Point:
    x: int
    y: int = 0
    label: str = dataclasses.field(default="", compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Reference:
    x: int
    y: int = 0
    label: str = dataclasses.field(default="", compare=False, repr=False)


def test_the_same_as_a_frozen_slotted_dataclass() -> None:
    for cls in (Point, Reference):
        p = cls(1, 2, "a")
        assert (p.x, p.y, p.label) == (1, 2, "a")
        assert p == cls(1, 2, "b") and p != cls(1, 3)  # label is not compared
        assert hash(p) == hash(cls(1, 2, "b"))
        assert repr(p) == f"{cls.__qualname__}(x=1, y=2)"
        assert dataclasses.replace(p, y=5) == cls(1, 5)
        assert [f.name for f in dataclasses.fields(p)] == ["x", "y", "label"]
        assert dataclasses.asdict(p) == {"x": 1, "y": 2, "label": "a"}
        assert pickle.loads(pickle.dumps(p)) == p
        assert not hasattr(p, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.x = 3  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            del p.x  # type: ignore[misc]
        with pytest.raises(TypeError):
            cls()  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            cls(1, 2, "a", 4)  # type: ignore[call-arg]
    assert Point(1) != Reference(1)  # another class is never equal


def test_records_events_and_conditions() -> None:
    record = RunRecord(7, "t", Trigger.SCHEDULED, 1.0, attempt=2)
    assert (record.id, record.task, record.end, record.outcome, record.attempt) == (7, "t", None, None, 2)
    assert record == RunRecord(7, "t", Trigger.SCHEDULED, 1.0, None, None, None, None, None, None, 2)
    assert dataclasses.replace(record, end=2.0, outcome=Outcome.SUCCESS).duration == 1.0
    started = RunStarted(1.0, record, None)  # a field of the base class (at) and its own
    assert (started.at, started.run, started.due) == (1.0, record, None)
    assert repr(RunFinished(2.0, record)).startswith("RunFinished(at=2.0, run=RunRecord(id=7")
    # __post_init__ runs (Every normalises its span).
    assert Every(10) == Every(10.0) and str(Every(90)) == "every 1 minute 30 seconds"
    assert pickle.loads(pickle.dumps(Every(5, "success"))) == Every(5, "success")


def test_it_refuses_what_it_cannot_copy() -> None:
    class WithFactory:
        items: list[int] = dataclasses.field(default_factory=list)

    class WithInitFalse:
        x: int = dataclasses.field(default=0, init=False)

    for cls in (WithFactory, WithInitFalse):
        with pytest.raises(TypeError):
            value(cls)


def test_made_through_a_mutable_twin_it_is_still_exactly_its_class() -> None:
    import copy

    p = Point(y=2, x=1)
    assert type(p) is Point and p.__class__ is Point and (p.x, p.y, p.label) == (1, 2, "")
    assert copy.copy(p) == p and copy.deepcopy(p) == p and type(copy.copy(p)) is Point
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.y = 3  # type: ignore[misc]
    assert p.y == 2


def test_a_plain_subclass_and_a_base_with_its_own_init_are_built_through_the_slots() -> None:
    class Labelled(Point):  # not a @value: it has a __dict__ the twin does not
        pass

    q = Labelled(1, 2)
    assert type(q) is Labelled and (q.x, q.y) == (1, 2)
    assert hasattr(q, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.x = 5  # type: ignore[misc]

    class Base:
        __slots__ = ()

        def __init__(self, *args: object) -> None:
            raise AssertionError("@value's own __init__ must replace it")

    @value
    class Child(Base):
        a: int
        b: int = 3

    c = Child(1)
    assert (c.a, c.b) == (1, 3) and pickle.loads(pickle.dumps(Point(4))) == Point(4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.a = 2  # type: ignore[misc]


def test_a_failing_post_init_makes_nothing() -> None:
    @value
    class Positive:
        n: int

        def __post_init__(self) -> None:
            if self.n <= 0:
                raise ValueError("n must be positive")

    assert Positive(1).n == 1
    with pytest.raises(ValueError, match="positive"):
        Positive(0)


def test_a_value_class_built_through_its_init_does_not_take_its_value_base_s_new() -> None:
    class Mixin:
        __slots__ = ()

        def __init__(self, *args: object) -> None:
            raise AssertionError("@value's own __init__ must replace it")

    @value
    class Child(Point, Mixin):  # Point is built through __new__; Child through __init__
        z: int = 9

    c = Child(1, 2, "l", 3)
    assert (c.x, c.y, c.label, c.z) == (1, 2, "l", 3) and type(c) is Child
    import copy

    assert dataclasses.replace(c, z=4).z == 4 and copy.deepcopy(c) == c


def test_a_class_s_own_reduce_is_kept() -> None:
    @value
    class Custom:
        n: int

        def __reduce__(self) -> tuple[object, ...]:
            return (Custom, (self.n + 1,))

    import copy

    assert copy.copy(Custom(1)).n == 2
