"""Issue 20 item 11: Rocketry's condition spellings ``always true`` / ``always false``
and a day of the month written ``1.`` (the phrases of Rocketry's own parser tests,
rocketry/test/condition/test_parse.py)."""

from __future__ import annotations

import pytest

from tui_sched import ConditionSyntaxError, Rocketry, parse_condition


@pytest.mark.parametrize(("rocketry", "ours"), [
    ("always true", "true"),
    ("always false", "false"),
    ("always true & always false", "true & false"),
    ("always true | always false", "true | false"),
    ("~ always false", "~false"),
    ("~(always true & always true)", "~(true & true)"),
    ("monthly starting 1.", "monthly starting 1st"),
    ("monthly after 1.", "monthly after 1st"),
    ("time of month after 1.", "time of month after 1st"),
    ("monthly between 1. and 15.", "monthly between 1st and 15th"),
    ("time of month between 28. and 3.", "time of month between 28th and 3rd"),
])
def test_rocketrys_spelling_is_the_same_condition(rocketry: str, ours: str) -> None:
    assert parse_condition(rocketry) == parse_condition(ours)


def test_a_task_takes_rocketrys_spelling() -> None:
    app = Rocketry(state_dir=None)

    @app.task("monthly starting 1. & always true")
    def do_monthly() -> None: ...

    assert app.session["do_monthly"].condition_text == "monthly starting 1st & true"


@pytest.mark.parametrize(("text", "says"), [
    ("always maybe", "expected 'true' or 'false'"),
    ("monthly on 32.", "a day of the month such as 1st (or 1.)"),
])
def test_misspellings_are_still_errors(text: str, says: str) -> None:
    with pytest.raises(ConditionSyntaxError, match=says.replace("(", r"\(").replace(")", r"\)")):
        parse_condition(text)


def test_a_decimal_number_is_still_a_number() -> None:
    assert parse_condition("every 1.5 seconds") == parse_condition("every 1500 ms")
