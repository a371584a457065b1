"""The engine's wake-up heap: one live wake-up per task, stale entries skipped."""

from __future__ import annotations

from tui_sched.engine.wakeups import Wakeups


def test_due_wake_ups_come_off_in_one_go_with_their_times() -> None:
    w = Wakeups()
    w.set("a", 10.0, now=0.0)
    w.set("b", 5.0, now=0.0)
    w.set("c", 20.0, now=0.0)
    assert w.next_at() == 5.0
    assert w.pop_due(10.0) == {"b": 5.0, "a": 10.0}
    assert w.get("a") is None and w.get("c") == 20.0
    assert w.pop_due(10.0) == {}


def test_an_earlier_wake_up_still_to_come_is_kept() -> None:
    w = Wakeups()
    w.set("a", 10.0, now=0.0)
    w.set("a", 15.0, now=1.0)  # later: the one at 10 still covers it
    assert w.get("a") == 10.0
    w.set("a", 4.0, now=1.0)  # earlier: replaces it
    assert w.get("a") == 4.0
    assert w.pop_due(12.0) == {"a": 4.0}  # the stale entry at 10 is skipped


def test_a_wake_up_already_passed_is_replaced() -> None:
    w = Wakeups()
    w.set("a", 10.0, now=0.0)
    w.set("a", 30.0, now=11.0)  # 10 has passed without being taken off
    assert w.get("a") == 30.0
    assert w.pop_due(29.0) == {}
    assert w.pop_due(30.0) == {"a": 30.0}


def test_a_discarded_wake_up_never_comes_due() -> None:
    w = Wakeups()
    w.set("a", 10.0, now=0.0)
    w.discard("a")
    w.discard("never-set")
    assert w.pop_due(100.0) == {}
    assert w.next_at() is None  # the stale entry was dropped on the way
