"""Task fingerprints and batch planning (pure functions)."""

from __future__ import annotations

from pathlib import Path

from reloadkit import module, write

from tui_sched.reload.diff import Fingerprint, fingerprint, plan_batch
from tui_sched.reload.loader import load_module

A, B, C = Path("/t/a.py"), Path("/t/b.py"), Path("/t/c.py")


def prints(tmp_path: Path, body: str) -> dict[str, Fingerprint]:
    path = write(tmp_path / "tasks" / "m.py", module(body))
    loaded = load_module(path, tmp_path / "tasks")
    return {t.name: fingerprint(t) for t in loaded.tasks}


BASE = '''
LIMIT = 10

@app.task("daily")
def f(x=1):
    return x + LIMIT

app.task("daily", command="echo hi", name="cmd")
'''


def test_fingerprint_sees_definitions_not_line_numbers(tmp_path: Path) -> None:
    base = prints(tmp_path, BASE)
    assert prints(tmp_path, "\n\n# moved down\n" + BASE) == base
    edits = {  # each changes exactly one task
        ('@app.task("daily")', '@app.task("hourly")'): "f",  # condition
        ("x=1", "x=2"): "f",  # a default
        ("x + LIMIT", "x - LIMIT"): "f",  # the body
        ("LIMIT = 10", "LIMIT = 11"): "f",  # a module constant the body reads
        ('@app.task("daily")', '@app.task("daily", priority=3)'): "f",  # an option
        ('"echo hi"', '"echo ho"'): "cmd",  # the command
    }
    for (old, new), name in edits.items():
        edited = prints(tmp_path, BASE.replace(old, new, 1))
        assert {n for n in base if edited.get(n) != base[n]} == {name}, (old, new)


def fp(tag: str) -> Fingerprint:
    return (tag,)


def test_plan_reports_added_removed_changed_per_file() -> None:
    current = {A: {"x": fp("1"), "y": fp("1")}, B: {"z": fp("1")}}
    plan = plan_batch(current, {A: {"x": fp("2"), "w": fp("1")}}, set(), set())
    assert plan.added == {"w"} and plan.removed == {"y"} and plan.replaced == {"x"}
    diff = plan.accepted[A]
    assert (diff.added, diff.removed, diff.changed) == (("w",), ("y",), ("x",))
    assert B not in plan.accepted


def test_plan_deleted_file_removes_its_tasks() -> None:
    plan = plan_batch({A: {"x": fp("1")}, B: {"z": fp("1")}}, {}, {A}, set())
    assert plan.removed == {"x"} and plan.accepted[A].removed == ("x",)


def test_plan_move_within_a_batch_is_a_change_even_if_identical() -> None:
    plan = plan_batch({A: {"x": fp("1")}, B: {}}, {A: {}, B: {"x": fp("1")}}, set(), set())
    assert plan.replaced == {"x"} and not plan.added and not plan.removed
    assert plan.accepted[B].changed == ("x",) and plan.accepted[A].removed == ()


def test_plan_clashes_keep_the_holder_and_refuse_the_newcomer() -> None:
    current = {A: {"x": fp("1")}}
    plan = plan_batch(current, {B: {"x": fp("1"), "b": fp("1")}}, set(), set())
    assert plan.clashes == {B: ("x", str(A))} and not plan.added
    # Both reloaded: the previous holder keeps the name whatever the file order.
    plan = plan_batch({B: {"x": fp("1")}}, {A: {"x": fp("2")}, B: {"x": fp("1")}}, set(), set())
    assert set(plan.clashes) == {A} and plan.clashes[A] == ("x", str(B))
    # Two newcomers: the first (in path order) wins.
    plan = plan_batch({}, {C: {"n": fp("1")}, B: {"n": fp("1")}}, set(), set())
    assert set(plan.clashes) == {C} and plan.added == {"n"}
    # A name created at run time is not taken over by a module.
    plan = plan_batch({}, {A: {"rt": fp("1")}}, set(), {"rt"})
    assert plan.clashes == {A: ("rt", "a task created at run time")}


def test_plan_a_refused_file_keeps_its_names_which_may_refuse_another() -> None:
    # a.py keeps x (its reload clashes on y with c.py), so b.py may not take x over.
    current = {A: {"x": fp("1")}, C: {"y": fp("1")}}
    plan = plan_batch(current, {A: {"y": fp("1")}, B: {"x": fp("1")}}, set(), set())
    assert set(plan.clashes) == {A, B}
    assert not plan.added and not plan.removed and not plan.replaced
