"""Recursive-descent parser: tokens -> frozen condition AST.

Grammar (keywords are case-insensitive)::

    or     := and ('|' and)*
    and    := not ('&' not)*
    not    := '~' not | atom
    atom   := '(' or ')' | phrase [CMP NUMBER]
    phrase := 'true' | 'false' | 'every' span ['based on' ...] | period [window] | ...

Each phrase form has one small method below; ``_PHRASES`` maps a phrase's first word to
it. A phrase the built-in language does not know is tried against the custom conditions
(regular expressions over the phrase's text) before it is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from tui_sched.conditions.base import All, AlwaysFalse, AlwaysTrue, Any_, Condition, Not
from tui_sched.conditions.cron import Cron, CronNeverFires, CronTime
from tui_sched.conditions.custom import FuncCond, match_phrase
from tui_sched.conditions.lexer import Tok, Token, tokenize
from tui_sched.conditions.periods import WORD_UNITS, Every, Period, TimeOf
from tui_sched.conditions.scheduler import (
    Env,
    ParamExists,
    ParamIs,
    SchedulerAge,
    SchedulerCycles,
)
from tui_sched.conditions.status import (
    DEPEND_VERBS,
    STATUS_VERBS,
    After,
    Compare,
    Countable,
    HasStatus,
    Retry,
    Running,
    StatusVerb,
    Verb,
)
from tui_sched.conditions.windows import VALUE_HINT, WEEKDAYS, Kind, Unit, Window, parse_value
from tui_sched.errors import ConditionSyntaxError, ConfigError, suggest
from tui_sched.timespan import UNIT_WORDS, parse_span

#: Custom conditions: syntax (a regular expression, or a bare name for call syntax
#: ``name(args)``) -> function. See ``tui_sched.conditions.custom``.
CustomMap = Mapping[str, Callable[..., Any]]

_TERMINATORS = (Tok.AND, Tok.OR, Tok.RPAREN, Tok.EOF)
_WINDOW_WORDS = ("between", "after", "before", "starting", "on", "at")
# Words that may follow the start of a phrase: a misspelt one gets a suggestion even
# when the parser only knows that the phrase ended early ("every 10 secnds").
_FOLLOW_WORDS = (*_WINDOW_WORDS, *sorted(UNIT_WORDS - {"s", "m", "h", "d", "w", "ms"}),
                 "succeeded", "failed", "finished", "terminated", "inacted", "crashed",
                 "started", "today", "this", "past", "based", "running", "more", "less",
                 "than", "cycles", "ago", "over", "exists", "tasks", "any")


def parse_condition(text: str, custom: CustomMap | None = None) -> Condition:
    """Parse a condition string into its AST.

    Args:
        text: The condition, e.g. ``"daily between 10:00 and 12:00 & ~running"``.
        custom: Custom conditions by syntax (``@app.cond``), tried for unknown phrases.

    Returns:
        The condition; ``str()`` of it is the canonical form of ``text``.

    Raises:
        ConditionSyntaxError: ``text`` is not a condition; the error has the position,
            what was expected and, for a misspelt word, the nearest valid one.

    >>> str(parse_condition("Daily  &  after task 'fetch'"))
    "daily & after task 'fetch'"
    """
    return _Parser(text, custom or {}).parse()


class _Parser:
    def __init__(self, text: str, custom: CustomMap) -> None:
        self.text = text
        self.custom = custom
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers ---------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.peek()
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def error(
        self, tok: Token, expected: str, options: tuple[str, ...] = ()
    ) -> ConditionSyntaxError:
        hint = None
        # A real keyword in the wrong place ("daily hourly") is not a misspelling.
        if tok.kind is Tok.WORD and options and tok.word.lower() not in START_WORDS:
            near = suggest(tok.word, options, n=1)
            hint = near[0] if near else None
        return ConditionSyntaxError(self.text, tok.pos, expected, hint)

    def at_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind is Tok.WORD and tok.word in words

    def accept(self, *words: str) -> Token | None:
        return self.advance() if self.at_word(*words) else None

    def expect(self, *words: str) -> Token:
        if not self.at_word(*words):
            raise self.error(self.peek(), " or ".join(repr(w) for w in words), words)
        return self.advance()

    def expect_kind(self, kind: Tok, expected: str | None = None) -> Token:
        if self.peek().kind is not kind:
            raise self.error(self.peek(), expected or kind.value)
        return self.advance()

    # -- grammar ---------------------------------------------------------------------
    def parse(self) -> Condition:
        cond = self.or_()
        if self.peek().kind is not Tok.EOF:
            raise self.error(self.peek(), "'&', '|' or the end of the condition")
        return cond

    def or_(self) -> Condition:
        items = [self.and_()]
        while self.peek().kind is Tok.OR:
            self.advance()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Any_.of(*items)

    def and_(self) -> Condition:
        items = [self.not_()]
        while self.peek().kind is Tok.AND:
            self.advance()
            items.append(self.not_())
        return items[0] if len(items) == 1 else All.of(*items)

    def not_(self) -> Condition:
        if self.peek().kind is Tok.NOT:
            self.advance()
            return Not(self.not_())
        return self.atom()

    def atom(self) -> Condition:
        tok = self.peek()
        if tok.kind is Tok.LPAREN:
            self.advance()
            cond = self.or_()
            self.expect_kind(Tok.RPAREN, "')' to close the '(' at "
                             f"position {tok.pos}")
            return cond
        return self.phrase()

    def phrase(self) -> Condition:
        start = self.i
        try:
            cond = self.builtin_phrase()
            if self.peek().kind is Tok.CMP:
                cond = self.comparison(cond)
            if self.peek().kind not in _TERMINATORS:
                raise self.error(self.peek(), "'&', '|', ')' or the end of the condition",
                                 _FOLLOW_WORDS)
            return cond
        except ConditionSyntaxError:
            self.i = start
            custom = self.custom_phrase()
            if custom is None:
                raise
            return custom

    def builtin_phrase(self) -> Condition:
        tok = self.peek()
        if tok.kind is not Tok.WORD:
            raise self.error(tok, "a condition such as 'daily', 'every 10 minutes' or "
                             "'after task ...'")
        handler = _PHRASES.get(tok.word)
        if handler is None:
            raise self.error(tok, "a condition such as 'daily', 'every 10 minutes' or "
                             "'after task ...'", START_WORDS)
        self.advance()
        return handler(self, tok)

    def comparison(self, cond: Condition) -> Condition:
        op = self.advance()
        if not isinstance(cond, Countable):
            raise ConditionSyntaxError(self.text, op.pos, "'&', '|' or the end (only counts "
                                       "such as 'has failed today' compare with a number)")
        return Compare(cond, op.text, _count(self, "a whole number"))  # type: ignore[arg-type]

    def custom_phrase(self) -> Condition | None:
        """A custom condition for the phrase starting here, or ``None``."""
        if not self.custom:
            return None
        first = self.peek()
        if first.kind is Tok.WORD and self.peek(1).kind is Tok.LPAREN \
                and self.peek(1).pos == first.end and first.text in self.custom:
            return self.call(first)
        end = self.i
        depth = 0
        while True:
            tok = self.tokens[end]
            if tok.kind is Tok.EOF or (depth == 0 and tok.kind in (Tok.AND, Tok.OR, Tok.RPAREN)):
                break
            depth += {Tok.LPAREN: 1, Tok.RPAREN: -1}.get(tok.kind, 0)
            end += 1
        if end == self.i:
            return None
        raw = " ".join(self.text[first.pos:self.tokens[end - 1].end].split())
        cond = match_phrase(self.custom, raw)
        if cond is not None:
            self.i = end
        return cond

    def call(self, name: Token) -> Condition:
        """``name(arg, ...)`` with quoted or numeric arguments."""
        self.advance()
        self.advance()
        args: list[str | int | float] = []
        kwargs: dict[str, str | int | float] = {}
        while self.peek().kind is not Tok.RPAREN:
            keyword = None
            if self.peek().kind is Tok.WORD and self.peek(1).text == "=":
                keyword = self.advance().text  # name=value, as Rocketry's is_foo(x=1)
                self.advance()
            tok = self.advance()
            if tok.kind is Tok.STRING:
                arg: str | int | float = tok.text
            elif tok.kind is Tok.NUMBER:
                arg = float(tok.text) if "." in tok.text else int(tok.text)
            else:
                raise self.error(tok, "an argument: a quoted string or a number")
            if keyword is not None:
                kwargs[keyword] = arg
            elif kwargs:
                raise self.error(tok, "a keyword argument (name=value) after keyword arguments")
            else:
                args.append(arg)
            if self.peek().kind is Tok.COMMA:
                self.advance()
            elif self.peek().kind is not Tok.RPAREN:
                raise self.error(self.peek(), "',' or ')'")
        self.advance()
        return FuncCond(name.text, tuple(args), tuple(sorted(kwargs.items())))

    # -- pieces ----------------------------------------------------------------------
    def span(self, what: str = "a time span such as '10 minutes'") -> float:
        first = self.peek()
        if first.kind is not Tok.NUMBER:
            raise self.error(first, what)
        last = first
        while self.peek().kind is Tok.NUMBER:
            last = self.advance()
            if self.peek().kind is Tok.WORD and _is_unit(self.peek().word):
                last = self.advance()
            joiner = self.peek()
            if (joiner.kind is Tok.COMMA or (joiner.kind is Tok.WORD and joiner.word == "and")) \
                    and self.peek(1).kind is Tok.NUMBER:
                self.advance()
        raw = self.text[first.pos:last.end]
        try:
            return parse_span(raw)
        except ConfigError as exc:
            raise self.error(first, what) from exc

    def value(self, unit: Unit) -> int:
        tok = self.advance()
        try:
            return parse_value(unit, tok.text)
        except ValueError as exc:
            options = tuple(d.lower() for d in WEEKDAYS) if unit == "week" else ()
            raise self.error(tok, VALUE_HINT.get(unit, "nothing"), options) from exc

    def window(self, unit: Unit) -> Window:
        """The optional ``between A and B | after A | before B | starting A | on A``."""
        tok = self.accept(*_WINDOW_WORDS)
        if tok is None:
            return Window(unit)
        if unit == "second":
            raise self.error(tok, "'&', '|' or the end (a second has no windows)")
        kind: Kind = "on" if tok.word == "at" else tok.word  # type: ignore[assignment]
        if kind == "between":
            start = self.value(unit)
            self.expect("and")
            return Window(unit, kind, start, self.value(unit))
        if kind == "before":
            return Window(unit, kind, None, self.value(unit))
        return Window(unit, kind, self.value(unit))

    def task_name(self) -> str:
        return self.expect_kind(Tok.STRING, "a task name in quotes, e.g. 'fetch'").text


def _is_unit(word: str) -> bool:
    try:
        parse_span("1" + word)
    except ConfigError:
        return False
    return True


# -- phrase handlers: each gets the parser (positioned after the first word) and the word
def _true(p: _Parser, tok: Token) -> Condition:
    return AlwaysTrue()


def _false(p: _Parser, tok: Token) -> Condition:
    return AlwaysFalse()


def _always(p: _Parser, tok: Token) -> Condition:
    # Rocketry's spelling: "always true", "always false".
    return AlwaysTrue() if p.expect("true", "false").word == "true" else AlwaysFalse()


def _every(p: _Parser, tok: Token) -> Condition:
    span = p.span()
    if p.accept("based"):
        p.expect("on")
        based = p.expect("run", "success", "fail", "finish").word
        return Every(span, based)  # type: ignore[arg-type]
    return Every(span)


def _period(p: _Parser, tok: Token) -> Condition:
    return Period(p.window(WORD_UNITS[tok.word]))


def _time_of(p: _Parser, tok: Token) -> Condition:
    p.expect("of")
    unit: Unit = p.expect("minute", "hour", "day", "week", "month").word  # type: ignore[assignment]
    return TimeOf(p.window(unit))


def _after(p: _Parser, tok: Token) -> Condition:
    any_ = p.accept("any") is not None
    word = p.expect("task", "tasks").word if not any_ else p.expect("tasks", "task").word
    names = [p.task_name()]
    if word == "tasks" or any_:
        while p.peek().kind is Tok.COMMA:
            p.advance()
            names.append(p.task_name())
    elif p.peek().kind is Tok.COMMA and p.peek(1).kind is Tok.STRING:
        # Rocketry's docs write "after task 'a', 'b'" (which Rocketry read as one task
        # named "a', 'b"): say how several tasks are written.
        fixed = p.text[:tok.pos] + p.text[tok.pos:].replace("task", "tasks", 1)
        raise ConditionSyntaxError(p.text, p.peek().pos,
                                   "'&', '|' or the end; several tasks are 'after tasks'",
                                   fixed)
    verb_tok = p.accept(*DEPEND_VERBS)
    verb: Verb = verb_tok.word if verb_tok else "succeeded"  # type: ignore[assignment]
    nodes = [After(n, verb) for n in names]
    if len(nodes) == 1:
        return nodes[0]
    return Any_.of(*nodes) if any_ else All.of(*nodes)


def _status_rest(p: _Parser, task: str | None) -> Condition:
    verb: StatusVerb = p.expect(*STATUS_VERBS).word  # type: ignore[assignment]
    if p.accept("today"):
        return HasStatus(verb, task, p.window("day"))
    if p.accept("this"):
        unit: Unit = p.expect("minute", "hour", "day", "week", "month").word  # type: ignore[assignment]
        return HasStatus(verb, task, p.window(unit))
    if p.accept("in"):
        p.expect("past")
        return HasStatus(verb, task, past=p.span())
    if p.accept("past"):
        return HasStatus(verb, task, past=p.span())
    return HasStatus(verb, task)


def _running_rest(p: _Parser, task: str | None) -> Condition:
    node = Running(task)
    if p.accept("more"):
        p.expect("than")
        node = replace(node, min_age=p.span())
    if p.accept("less"):
        p.expect("than")
        node = replace(node, max_age=p.span())
    return node


def _has(p: _Parser, tok: Token) -> Condition:
    return _status_rest(p, None)


def _task(p: _Parser, tok: Token) -> Condition:
    name = p.task_name()
    if p.expect("has", "is").word == "has":
        return _status_rest(p, name)
    p.expect("running")
    return _running_rest(p, name)


def _while(p: _Parser, tok: Token) -> Condition:
    p.expect("task")
    name = p.task_name()
    p.expect("is")
    p.expect("running")
    return _running_rest(p, name)


def _running(p: _Parser, tok: Token) -> Condition:
    return _running_rest(p, None)


def _retry(p: _Parser, tok: Token) -> Condition:
    p.expect_kind(Tok.LPAREN, "'(' as in retry(3)")
    n = p.expect_kind(Tok.NUMBER, "a number of retries")
    p.expect_kind(Tok.RPAREN)
    if not n.text.isdigit():
        raise p.error(n, "a whole number of retries")
    return Retry(int(n.text))


def _count(p: _Parser, what: str) -> int:
    tok = p.expect_kind(Tok.NUMBER, what)
    if not tok.text.isdigit():
        raise p.error(tok, what)
    return int(tok.text)


def _scheduler(p: _Parser, tok: Token) -> Condition:
    if p.expect("has", "started").word == "started":
        span = p.span()
        p.expect("ago")
        return SchedulerAge(span, over=False)
    word = p.expect("run", "more", "less").word
    if word == "run":
        p.expect("over")
        return SchedulerAge(p.span(), over=True)
    p.expect("than")
    n = _count(p, "a number of cycles")
    p.expect("cycles", "cycle")
    return SchedulerCycles("more" if word == "more" else "less", n)


def _env(p: _Parser, tok: Token) -> Condition:
    return Env(p.expect_kind(Tok.STRING, "an environment name in quotes, e.g. 'prod'").text)


def _param(p: _Parser, tok: Token) -> Condition:
    key = p.expect_kind(Tok.STRING, "a parameter name in quotes").text
    if p.expect("exists", "is").word == "exists":
        return ParamExists(key)
    value = p.peek()
    if value.kind not in (Tok.STRING, Tok.NUMBER, Tok.WORD):
        raise p.error(value, "a value in quotes")
    p.advance()
    return ParamIs(key, value.text)


def _cron(p: _Parser, tok: Token) -> Condition:
    expr = p.peek()
    if expr.kind not in (Tok.CRON, Tok.STRING):
        raise p.error(expr, "a cron expression such as '*/5 * * * *' or '@daily'")
    p.advance()
    try:
        return (Cron if tok.word == "cron" else CronTime)(expr.text)
    except CronNeverFires as exc:
        raise ConditionSyntaxError(p.text, _field_pos(p.text, expr, exc.field),
                                   f"a cron expression that fires ({exc.reason})",
                                   exc.suggestion) from exc
    except ValueError as exc:
        raise p.error(expr, f"a valid cron expression ({exc})") from exc


def _field_pos(text: str, expr: Token, field: int) -> int:
    """Where the ``field``-th field of a cron expression token starts in ``text``."""
    fields = list(re.finditer(r"[^\s'\"]+", text[expr.pos:expr.end]))
    return expr.pos + (fields[field].start() if field < len(fields) else 0)


_PHRASES: dict[str, Callable[[_Parser, Token], Condition]] = {
    "true": _true,
    "false": _false,
    "always": _always,
    "every": _every,
    "time": _time_of,
    "after": _after,
    "cron": _cron,
    "task": _task,
    "has": _has,
    "while": _while,
    "running": _running,
    "retry": _retry,
    "scheduler": _scheduler,
    "env": _env,
    "param": _param,
    "crontime": _cron,
    **{word: _period for word in WORD_UNITS},
}
START_WORDS = tuple(_PHRASES)

__all__ = ["CustomMap", "START_WORDS", "Verb", "parse_condition"]
