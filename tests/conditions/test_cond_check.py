"""``check``: ``evaluate`` and, when false, ``next_change`` in one call, for every node."""

from __future__ import annotations

import math

from condtest import Statuses, at
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_sched.conditions import parse_condition
from tui_sched.conditions.periods import Every
from tui_sched.store.base import Outcome

T0 = at("2024-05-15 12:00:00")
offsets = st.one_of(st.floats(-1e5, 1e5, allow_nan=False), st.integers(-100, 100).map(float))


@settings(max_examples=500, deadline=None)
@given(span=st.sampled_from([0.001, 0.3, 1.0, 10.0, 86_400.0]),
       based=st.sampled_from(["run", "success", "fail", "finish"]),
       start=st.none() | offsets, ends=st.dictionaries(
           st.sampled_from([Outcome.SUCCESS, Outcome.FAIL, Outcome.TERMINATE, Outcome.CRASH]),
           offsets, max_size=3),
       after=offsets, nudge=st.integers(-2, 2))
def test_every_s_check_answers_as_evaluate_then_next_change(
        span: float, based: str, start: float | None, ends: dict[Outcome, float],
        after: float, nudge: int) -> None:
    s = Statuses()
    me = s.status("me")
    me.last_start = None if start is None else T0 + start
    me.last_end = {o: T0 + e for o, e in ends.items()}
    cond = Every(span, based)  # type: ignore[arg-type]
    # Now a few ulps either side of the boundary, where the two spellings of the
    # comparison could part (or anywhere else).
    ref = cond._reference(s.ctx(T0))
    now = T0 + after if ref is None or nudge == 2 else ref + span
    for _ in range(abs(nudge) if nudge != 2 else 0):
        now = math.nextafter(now, math.inf if nudge > 0 else -math.inf)
    holds = cond.evaluate(s.ctx(now))
    expected = (True, None) if holds else (False, cond.next_change(s.ctx(now)))
    assert cond.check(s.ctx(now)) == expected


def test_the_default_check_is_evaluate_then_next_change() -> None:
    s = Statuses()
    s.finish("me", T0, T0 + 1, Outcome.SUCCESS)
    cond = parse_condition("daily between 10:00 and 11:00 & after task 'other'")
    assert not cond.evaluate(s.ctx(T0))
    assert cond.check(s.ctx(T0)) == (False, cond.next_change(s.ctx(T0)))
    s.finish("other", T0 + 1, T0 + 2, Outcome.SUCCESS)
    later = at("2024-05-16 10:30:00")
    assert cond.evaluate(s.ctx(later)) and cond.check(s.ctx(later)) == (True, None)
