"""The engine's GC policy: survivors of a full collection are frozen; a thaw undoes it."""

from __future__ import annotations

import gc
import weakref

from tui_sched.engine.gcpolicy import GcPolicy


def test_survivors_of_a_full_collection_are_frozen_until_thawed() -> None:
    policy = GcPolicy()
    policy.install()
    try:
        assert policy._on_gc in gc.callbacks
        keep = [[i] for i in range(1000)]  # new, tracked, long-lived objects
        frozen_before = gc.get_freeze_count()
        gc.collect()  # a full pass: the policy freezes what survived it
        assert policy.freezes == 2
        assert gc.get_freeze_count() >= frozen_before + len(keep)
        gc.collect(1)  # a young pass freezes nothing
        assert policy.freezes == 2

        policy.thaw()  # e.g. after a reload: old code may hold cycles
        assert gc.get_freeze_count() == 0
    finally:
        policy.uninstall()
    assert policy._on_gc not in gc.callbacks
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert policy.freezes == 2  # no longer hooked
    del keep


def test_frozen_cycles_are_collected_after_a_thaw() -> None:
    class Node:
        other: Node

    policy = GcPolicy()
    policy.install()
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        gc.collect()  # they survive (still referenced), so the policy freezes them
        del a, b  # now a garbage cycle, but frozen: full passes leave it alone
        gc.collect()
        assert alive() is not None
        policy.thaw()
        gc.collect()
        assert alive() is None
    finally:
        policy.uninstall()
