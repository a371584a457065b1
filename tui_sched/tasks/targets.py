"""What a task runs: a function, a lazily imported function, a command, or code.

Targets are frozen values. A function target also knows the file and qualified name of
its function, so a ``process`` run can send it by reference instead of pickling it, and
the source the task loader accepted for that file, so the worker runs that version.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_sched.frozen import value
from tui_sched.tasks.modules import Pinned, accepted_source, load_file

_SOURCE_FILES: dict[str, str] = {}


def _source_file(func: Callable[..., Any]) -> str | None:
    """``inspect.getsourcefile``, remembered per file: a module of many tasks (or a
    thousand tasks of one function) asks about the same file each time, and each asking
    stats it."""
    code = getattr(func, "__code__", None)
    name = getattr(code, "co_filename", None)
    if name is not None and name in _SOURCE_FILES:
        return _SOURCE_FILES[name]
    file = inspect.getsourcefile(func)
    if file is not None and file == name:
        _SOURCE_FILES[name] = file
    return file


@dataclass(frozen=True, slots=True)
class FuncTarget:
    """A Python callable.

    Attributes:
        func: The function.
        file: Source file of the function, when it has one.
        qualname: Qualified name within its module.
        source: The accepted source of ``file`` (and of the folder helpers it had
            imported) when the task loader imported it: a ``process`` worker executes
            it instead of reading the files again, so the last good version of a
            module runs in every mode.
    """

    func: Callable[..., Any]
    file: str | None = None
    qualname: str | None = None
    source: Pinned | None = field(default=None, compare=False, repr=False)
    is_coroutine: bool = field(init=False, compare=False)
    """Whether calling it returns a coroutine (looked up once: it is read every run)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_coroutine", inspect.iscoroutinefunction(self.func))

    @classmethod
    def of(cls, func: Callable[..., Any]) -> FuncTarget:
        """Build a target and record where the function can be found again."""
        try:
            file = _source_file(func)
        except TypeError:
            file = None
        return cls(func, file, getattr(func, "__qualname__", None), accepted_source(func, file))

    @property
    def referable(self) -> bool:
        """Whether a separate process can import it by file and name."""
        return bool(self.file and self.qualname and "<" not in self.qualname)

    def resolve(self) -> Callable[..., Any]:
        """The callable to run."""
        return self.func

    def describe(self) -> str:
        """A short human description."""
        return f"{self.qualname or getattr(self.func, '__name__', '?')}()"


@value
class LazyFuncTarget:
    """A function named ``func_name`` in the file ``path``, imported when the task runs.

    A broken or missing target fails that run, not the loading of the task module.
    """

    path: str
    func_name: str

    @property
    def is_coroutine(self) -> bool:
        return False

    def resolve(self) -> Callable[..., Any]:
        """Import the file (cached while it is unchanged; checked as task code, wherever
        it is) and return the function."""
        p = Path(self.path)
        if not p.is_file():
            raise FileNotFoundError(f"task file {self.path} does not exist")
        module = load_file(p)
        try:
            func = getattr(module, self.func_name)
        except AttributeError:
            raise AttributeError(
                f"{self.path} has no function {self.func_name!r}"
            ) from None
        if not callable(func):
            raise TypeError(f"{self.path}:{self.func_name} is not callable")
        return func  # type: ignore[no-any-return]

    def describe(self) -> str:
        return f"{self.path}:{self.func_name}()"


@value
class CommandTarget:
    """A command: a list runs without a shell, a string through the platform shell."""

    command: str | tuple[str, ...]

    def describe(self) -> str:
        return self.command if isinstance(self.command, str) else " ".join(self.command)


@dataclass(frozen=True, slots=True)
class CodeTarget:
    """A string of Python source, executed in a fresh namespace per run."""

    code: str
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", hashlib.sha1(self.code.encode()).hexdigest()[:8])

    def describe(self) -> str:
        first = self.code.strip().splitlines()[0] if self.code.strip() else ""
        return first[:60]

    def run(self) -> Any:
        """Execute the code; the value of a top-level ``result`` name is returned."""
        namespace: dict[str, Any] = {"__name__": f"__tui_sched_code_{self.digest}__"}
        exec(compile(self.code, f"<code {self.digest}>", "exec"), namespace)
        return namespace.get("result")


Target = FuncTarget | LazyFuncTarget | CommandTarget | CodeTarget
