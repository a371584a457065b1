"""One exception tree for everything tui-sched raises on purpose.

Each exception builds its own message from structured fields so that callers (the CLI,
the TUI, tests) can both show it and inspect it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates that look like ``word`` (for "did you mean")."""
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.6)


def _did_you_mean(options: list[str]) -> str:
    if not options:
        return ""
    return " Did you mean " + " or ".join(repr(o) for o in options) + "?"


class TuiSchedError(Exception):
    """Base class of every error tui-sched raises deliberately."""


class ConfigError(TuiSchedError, ValueError):
    """A configuration value or task option is invalid."""


class TaskDefinitionError(TuiSchedError, ValueError):
    """A task was declared with invalid options.

    Attributes:
        task: The task name (or what it would have been).
        option: The offending option, if one is to blame.
        detail: What is wrong and what to do.
    """

    def __init__(self, task: str | None, detail: str, option: str | None = None) -> None:
        self.task = task
        self.option = option
        self.detail = detail
        where = f"task {task!r}" if task else "task"
        if option:
            where += f", option {option!r}"
        super().__init__(f"{where}: {detail}")


class DuplicateTaskError(TaskDefinitionError):
    """Two tasks in one session share a name."""

    def __init__(self, task: str, existing_origin: str | None = None) -> None:
        where = f" (already defined in {existing_origin})" if existing_origin else ""
        super().__init__(
            task,
            f"a task with this name already exists{where}; pass name='...' to give "
            "this one a different name",
        )


class TaskNotFound(TuiSchedError, KeyError):
    """``session[name]`` named no task. The message suggests near names."""

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        self.name = name
        self.suggestions = suggest(name, known)
        super().__init__(name)

    def __str__(self) -> str:
        return f"no task named {self.name!r}.{_did_you_mean(self.suggestions)}"


class ConditionSyntaxError(TuiSchedError, ValueError):
    """A condition string could not be parsed.

    Attributes:
        text: The whole condition string.
        position: Index of the offending character in ``text``.
        expected: What the parser expected there.
        suggestion: The nearest valid word, for a misspelt one.
    """

    def __init__(
        self, text: str, position: int, expected: str, suggestion: str | None = None
    ) -> None:
        self.text = text
        self.position = position
        self.expected = expected
        self.suggestion = suggestion
        super().__init__(self._render())

    def _render(self) -> str:
        caret = " " * self.position + "^"
        lines = [
            f"invalid condition: expected {self.expected}",
            f"    {self.text}",
            f"    {caret}",
        ]
        if self.suggestion:
            lines.append(f"did you mean {self.suggestion!r}?")
        return "\n".join(lines)


class UnknownTaskReference(TuiSchedError, ValueError):
    """A condition names a task that does not exist in the session."""

    def __init__(self, task: str, referenced: str, known: Iterable[str]) -> None:
        self.task = task
        self.referenced = referenced
        self.suggestions = suggest(referenced, known)
        super().__init__(
            f"task {task!r}: its condition refers to task {referenced!r}, which does not "
            f"exist.{_did_you_mean(self.suggestions)}"
        )


class ModuleLoadError(TuiSchedError):
    """A task module could not be loaded.

    Attributes:
        path: The module file.
        line: Line number of the error in that file, when known.
        traceback: The formatted traceback.
    """

    def __init__(self, path: str, message: str, line: int | None = None, traceback: str = "") -> None:
        self.path = path
        self.line = line
        self.message = message
        self.traceback = traceback
        loc = f"{path}:{line}" if line else path
        super().__init__(f"{loc}: {message}")


class StateLockedError(TuiSchedError):
    """Another tui-sched already uses this state folder."""

    def __init__(self, state_dir: str, pid: str | None = None) -> None:
        who = f" (pid {pid})" if pid else ""
        super().__init__(
            f"another tui-sched{who} is already running with state folder {state_dir}; "
            "stop it first or pass --state DIR to use another folder"
        )


class StoreError(TuiSchedError):
    """The run history could not be read or written."""
