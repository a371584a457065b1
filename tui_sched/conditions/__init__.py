"""The condition language: a lexer, a parser, a frozen AST and its evaluation.

Pure: nothing here reads the clock, the store or global state; everything comes through
a ``Context``.
"""

from __future__ import annotations

from tui_sched.conditions.base import All, AlwaysFalse, AlwaysTrue, Any_, Condition, Not
from tui_sched.conditions.context import Context, TaskStatus
from tui_sched.conditions.custom import CustomConditions, FuncCond
from tui_sched.conditions.explain import Explanation, explain
from tui_sched.conditions.parser import parse_condition

__all__ = [
    "All",
    "AlwaysFalse",
    "AlwaysTrue",
    "Any_",
    "Condition",
    "Context",
    "CustomConditions",
    "Explanation",
    "FuncCond",
    "Not",
    "TaskStatus",
    "explain",
    "parse_condition",
]
