"""The history's text for a return value: ``repr`` up to 200 characters, built in
bounded time and memory (issue 18, item 6)."""

from __future__ import annotations

from typing import Any

import pytest

from tui_sched.executors.summary import summarise


def _cases() -> list[Any]:
    looped: list[Any] = [1]
    looped.append(looped)
    own: dict[str, Any] = {}
    own["self"] = own
    return [
        {"answer": 42, "rows": [1, 2]}, [1], (1,), (), set(), {1, 2, 3}, frozenset({1}),
        frozenset(), {}, "a'b", 'say "hi"', "x" * 500, "é" * 300, b"abc", bytearray(b"xy"),
        10**50, 1.5, [[1, [2, (3,)]], {}], {"a": {"b": [1, 2, {3, 4}]}}, list(range(300)),
        looped, own, {(1, 2): frozenset({"k"})},
    ]


@pytest.mark.parametrize("value", _cases(), ids=lambda v: type(v).__name__)
def test_the_summary_is_the_start_of_repr(value: Any) -> None:
    assert summarise(value) == repr(value)[:200]


def test_a_huge_container_is_summarised_from_its_first_items_only() -> None:
    # 8 MB of lists whose full repr (10**15 characters) could never be built.
    huge = [["y" * 1_000_000] * 1_000_000] * 1_000
    assert summarise(huge) == ("[['" + "y" * 200)[:200]


def test_none_has_no_summary_and_a_failing_repr_names_the_type() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    assert summarise(None) is None
    assert summarise(Broken()) == "<Broken>"
