"""The engine's GC policy: start-up objects are frozen; a thaw re-freezes only once."""

from __future__ import annotations

import gc
import weakref

from tui_sched.engine.gcpolicy import GcPolicy


class Node:
    other: Node


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_objects_made_while_running_are_collected_as_usual() -> None:
    policy = GcPolicy()
    policy.install()
    try:
        alive = _cycle()  # made after start-up, garbage at once
        gc.collect()
        assert alive() is None
        assert policy.freezes == 1  # full passes do not freeze anything
    finally:
        policy.uninstall()
    assert gc.get_freeze_count() == 0


def test_startup_objects_are_frozen_until_thawed_then_survivors_once_more() -> None:
    keep = [Node() for _ in range(100)]
    a, b = Node(), Node()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    policy = GcPolicy()
    policy.install()  # the cycle exists (and is live) at start-up
    try:
        assert gc.get_freeze_count() >= len(keep)
        del a, b  # now garbage, but frozen: full passes leave it alone
        gc.collect()
        assert alive() is not None

        policy.thaw()  # e.g. after a reload
        assert gc.get_freeze_count() == 0
        gc.collect()  # collects the cycle, then freezes the survivors (keep) once
        assert alive() is None
        assert policy.freezes == 2 and gc.get_freeze_count() >= len(keep)
        later = _cycle()
        gc.collect()
        assert later() is None and policy.freezes == 2  # only once per thaw
    finally:
        policy.uninstall()
    assert gc.get_freeze_count() == 0
    assert policy._on_gc not in gc.callbacks
