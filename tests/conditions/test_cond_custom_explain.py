"""Custom conditions and ``explain``."""

from __future__ import annotations

import pytest
from condtest import Statuses, at

from tui_sched.conditions import CustomConditions, FuncCond, explain, parse_condition
from tui_sched.errors import ConditionSyntaxError

T0 = at("2024-05-15 09:00")


@pytest.fixture
def custom() -> CustomConditions:
    reg = CustomConditions()
    present = {"x.csv"}

    @reg.cond("is foo")
    def is_foo() -> bool:
        return True

    @reg.cond(r"file (.+) exists")
    def file_exists_re(path: str) -> bool:
        return path in present

    @reg.cond(r"queue (?P<name>\w+) has (?P<n>\d+) items")
    def queue(name: str, n: str) -> bool:
        return name == "jobs" and int(n) < 10

    @reg.cond("file_exists")
    def file_exists(path: str, *rest: object) -> bool:
        return path in present

    reg.register("broken", lambda: 1 / 0)
    return reg


@pytest.mark.parametrize(
    ("text", "node", "truth"),
    [
        ("is foo", FuncCond("is foo"), True),
        ("IS   foo", FuncCond("is foo"), True),
        ("file x.csv exists", FuncCond(r"file (.+) exists", ("x.csv",)), True),
        ("file y.csv exists", FuncCond(r"file (.+) exists", ("y.csv",)), False),
        ("queue jobs has 5 items",
         FuncCond(r"queue (?P<name>\w+) has (?P<n>\d+) items", (),
                  (("n", "5"), ("name", "jobs"))), True),
        ('file_exists("x.csv")', FuncCond("file_exists", ("x.csv",)), True),
        ("file_exists('y', 2)", FuncCond("file_exists", ("y", 2)), False),
    ],
)
def test_custom_phrases(custom: CustomConditions, text: str, node: FuncCond, truth: bool) -> None:
    cond = parse_condition(text, custom)
    assert cond == node
    assert parse_condition(str(cond), custom) == cond
    ctx = Statuses().ctx(T0, custom=custom, poll_interval=2)
    assert cond.evaluate(ctx) is truth
    assert cond.next_change(ctx) == T0 + 2


def test_custom_phrases_combine_with_the_language(custom: CustomConditions) -> None:
    cond = parse_condition("daily & ~file y exists | (is foo & every 10 s)", custom)
    assert str(cond) == "daily & ~file y exists | is foo & every 10 seconds"
    assert parse_condition(str(cond), custom) == cond


def test_unknown_phrase_is_still_an_error(custom: CustomConditions) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition("daily & is bar", custom)
    assert info.value.position == 8
    with pytest.raises(ConditionSyntaxError):
        parse_condition("is foo", None)


def test_registry_rejects_duplicates_and_bad_regexes(custom: CustomConditions) -> None:
    with pytest.raises(ValueError, match="already registered"):
        custom.register("is foo", lambda: False)
    with pytest.raises(ValueError, match="regular expression"):
        custom.register("bad (", lambda: False)
    assert "is foo" in custom and len(custom) == 5


def test_missing_function_raises_lookup_error() -> None:
    with pytest.raises(LookupError, match="is foo"):
        FuncCond("is foo").evaluate(Statuses().ctx(T0))


def test_explain_tree(custom: CustomConditions) -> None:
    cond = parse_condition("daily between 10:00 and 12:00 & (after task 'a' | ~running)")
    tree = explain(cond, Statuses().ctx(T0))
    assert (tree.text, tree.truth, tree.next_change) == ("all of", False, at("2024-05-15 10:00"))
    period, either = tree.children
    assert (period.text, period.truth) == ("daily between 10:00 and 12:00", False)
    assert period.next_change == at("2024-05-15 10:00")
    assert either.text == "any of" and either.truth
    assert [c.text for c in either.children] == ["after task 'a'", "not"]
    assert either.children[1].children[0].text == "running"
    lines = tree.render().splitlines()
    assert lines[0].startswith("[ ] all of")
    assert lines[4] == "    [x] not"


def test_explain_reports_a_broken_custom_function(custom: CustomConditions) -> None:
    cond = parse_condition("broken | is foo", custom)
    tree = explain(cond, Statuses().ctx(T0, custom=custom))
    broken = tree.children[0]
    assert broken.error is not None and "ZeroDivisionError" in broken.error
    assert not broken.truth
    assert tree.error is not None  # the parent evaluates it too
    assert "error: ZeroDivisionError" in tree.render()
