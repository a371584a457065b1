"""The parser: canonical forms, round trips, precedence, errors."""

from __future__ import annotations

import pytest

from tui_sched import conds
from tui_sched.conditions import All, AlwaysTrue, Any_, Not, parse_condition
from tui_sched.conditions.periods import Every, Period
from tui_sched.conditions.status import After
from tui_sched.conditions.windows import Window
from tui_sched.errors import ConditionSyntaxError

CANONICAL = [
    ("true", "true"),
    ("FALSE", "false"),
    ("daily", "daily"),
    ("every 10 seconds", "every 10 seconds"),
    ("every 10s", "every 10 seconds"),
    ("every 1h", "every 1 hour"),
    ("every 1 hour 30 minutes", "every 1 hour 30 minutes"),
    ("every 1h30m", "every 1 hour 30 minutes"),
    ("every 2 days, 12 hours", "every 2 days 12 hours"),
    ("every 300 ms", "every 300 milliseconds"),
    ("every 10 minutes based on success", "every 10 minutes based on success"),
    ("after task 'fetch'", "after task 'fetch'"),
    ("after task 'fetch' succeeded", "after task 'fetch'"),
    ('after task "fetch" failed', "after task 'fetch' failed"),
    ("after task 'a b & c | (d)' finished", "after task 'a b & c | (d)' finished"),
    ('after task "it\'s"', 'after task "it\'s"'),
    ("daily & after task 'x'", "daily & after task 'x'"),
    ("daily | hourly & minutely", "daily | hourly & minutely"),
    ("(daily | hourly) & minutely", "(daily | hourly) & minutely"),
    ("~~daily", "~~daily"),
    ("~(daily & hourly)", "~(daily & hourly)"),
    ("((daily))", "daily"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical_form_and_round_trip(text: str, canonical: str) -> None:
    cond = parse_condition(text)
    assert str(cond) == canonical
    assert parse_condition(str(cond)) == cond


def test_precedence_builds_the_right_tree() -> None:
    d, h, m = (Period(Window(u)) for u in ("day", "hour", "minute"))  # type: ignore[arg-type]
    assert parse_condition("daily | hourly & minutely") == Any_((d, All((h, m))))
    assert parse_condition("~daily & hourly") == All((Not(d), h))
    assert parse_condition("daily & hourly & minutely") == All((d, h, m))


@pytest.mark.parametrize(
    ("text", "obj"),
    [
        ("true", conds.true),
        ("daily", conds.daily),
        ("every 10 seconds", conds.every("10 seconds")),
        ("every 10 seconds", conds.every(10)),
        ("every 1 minute based on fail", conds.every("1 min", based="fail")),
        ("after task 'x'", conds.after_success("x")),
        ("after task 'x' failed", conds.after_fail("x")),
        ("after task 'x' finished", conds.after_finish("x")),
        ("daily & after task 'x'", conds.daily & conds.after_success("x")),
        ("~daily | true", ~conds.daily | conds.true),
    ],
)
def test_string_and_object_give_the_same_node(text: str, obj: object) -> None:
    assert parse_condition(text) == obj


def test_nodes_are_hashable_values() -> None:
    assert hash(parse_condition("daily & every 5s")) == hash(conds.daily & conds.every(5))
    assert Every(5.0) != Every(6.0)
    assert After("a") != After("b")
    assert AlwaysTrue() == conds.true


@pytest.mark.parametrize(
    ("text", "position", "expected", "suggestion"),
    [
        ("dialy", 0, "a condition", "daily"),
        ("daily & hourlyy", 8, "a condition", "hourly"),
        ("daily &", 7, "a condition", None),
        ("after task fetch", 11, "task name in quotes", None),
        ("after tsak 'x'", 6, "'task'", "task"),
        ("every", 5, "time span", None),
        ("every ten seconds", 6, "time span", None),
        ("(daily", 6, "')'", None),
        ("daily)", 5, "'&', '|'", None),
        ("daily hourly", 6, "'&', '|'", None),
        ("after task 'x", 11, "closing '", None),
        ("daily # x", 6, "'&', '|'", None),
        ("# x", 0, "a condition", None),
    ],
)
def test_syntax_errors_point_at_the_problem(
    text: str, position: int, expected: str, suggestion: str | None
) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    err = info.value
    assert err.position == position
    assert expected in err.expected
    assert err.suggestion == suggestion
    assert isinstance(err, ValueError)
    # The message shows the text and a caret under the position.
    lines = str(err).splitlines()
    assert lines[1].strip() == text.strip()
    assert lines[2].index("^") - lines[1].index(text[0]) == position


def test_error_message_says_did_you_mean() -> None:
    with pytest.raises(ConditionSyntaxError, match="did you mean 'daily'"):
        parse_condition("dialy")


def test_quoted_names_may_hold_any_character_but_the_quote() -> None:
    name = "weird ~&|() name, with \"double\" quotes"
    cond = parse_condition(f"after task '{name}'")
    assert cond == After(name)
    assert parse_condition(str(cond)) == cond


def test_name_with_both_quotes_is_rejected() -> None:
    with pytest.raises(ValueError, match="both kinds"):
        After("a'b\"c")


@pytest.mark.parametrize(("text", "word"), [
    ("every 10 secnds", "seconds"),
    ("daily betwen 10:00 and 12:00", "between"),
    ("task 'x' has faild today", "failed"),
])
def test_a_misspelt_word_after_a_phrase_gets_a_suggestion(text: str, word: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    assert info.value.suggestion == word


def test_terminate_dependencies_have_object_forms() -> None:
    from tui_sched import conds

    assert conds.after_all_terminate("a", "b") == parse_condition(
        "after tasks 'a', 'b' terminated")
    assert conds.after_any_terminate("a", "b") == parse_condition(
        "after any tasks 'a', 'b' terminated")
