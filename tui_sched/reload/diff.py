"""Compare task definitions and plan the swap of one reload batch.

A task is *changed* when its definition differs: what it runs (the function's compiled
code and defaults, the command, the code string, the lazy target), its condition or its
options. Line numbers are not part of it, so editing a function above another one does
not mark the second as changed. A task whose name moves from one file to another in the
same batch is a change too, never a remove + add.

``plan_batch`` is pure: it decides, from who owned which names before the batch and what
the reloaded files declare now, which files are accepted and which fail with a name
clash, and what is added, removed and replaced.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_sched.frozen import value
from tui_sched.tasks.targets import CodeTarget, CommandTarget, FuncTarget, LazyFuncTarget
from tui_sched.tasks.task import Task

Fingerprint = tuple[Any, ...]
"""A comparable summary of a task's definition."""

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SIMPLE = (int, float, complex, str, bytes, bool, type(None))


def _stable_repr(value: Any) -> str:
    """``repr`` without memory addresses (default reprs change on every import)."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__qualname__}>"
    return _ADDRESS.sub("", text)


def _code(code: types.CodeType) -> Fingerprint:
    consts = tuple(_code(c) if isinstance(c, types.CodeType) else _stable_repr(c)
                   for c in code.co_consts)
    return (code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars,
            code.co_cellvars, code.co_argcount, code.co_posonlyargcount,
            code.co_kwonlyargcount, code.co_flags)


def _func(func: Any) -> Fingerprint:
    code = getattr(func, "__code__", None)
    if not isinstance(code, types.CodeType):
        return ("callable", _stable_repr(func))
    # Simple module-level constants the function reads (LIMIT = 10) are part of what it
    # does; editing one marks the task changed.
    glob = getattr(func, "__globals__", {})
    consts = tuple((n, glob[n]) for n in code.co_names
                   if n in glob and isinstance(glob[n], _SIMPLE))
    return (getattr(func, "__qualname__", None), _code(code),
            _stable_repr(getattr(func, "__defaults__", None)),
            _stable_repr(getattr(func, "__kwdefaults__", None)), consts)


def _target(task: Task) -> Fingerprint:
    target = task.target
    if isinstance(target, FuncTarget):
        return ("func", _func(target.func))
    if isinstance(target, LazyFuncTarget):
        return ("lazy", target.path, target.func_name)
    if isinstance(target, CommandTarget):
        return ("command", target.command)
    if isinstance(target, CodeTarget):
        return ("code", target.code)
    return ("?", _stable_repr(target))  # pragma: no cover - every kind is listed above


def fingerprint(task: Task) -> Fingerprint:
    """What defines ``task`` as declared (call it before the task joins a session: the
    ``disabled`` flag read here is the module's declaration, not the operator's)."""
    options = task.options.model_dump()
    end = options.pop("end_cond", None)
    params = options.pop("parameters", {})
    return (_target(task), task.condition_text, None if end is None else str(end),
            tuple(sorted((k, _stable_repr(v)) for k, v in params.items())),
            tuple(sorted((k, _stable_repr(v)) for k, v in options.items())), task.disabled)


def declared_disabled(print_: Fingerprint) -> bool | None:
    """The ``disabled`` flag the module declared, from a ``fingerprint``."""
    value = print_[-1]
    return value if isinstance(value, bool) else None


@value
class FileDiff:
    """What one file's reload did to the session."""

    path: Path
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


@dataclass
class Plan:
    """The outcome of ``plan_batch``."""

    accepted: dict[Path, FileDiff] = field(default_factory=dict)
    """Reloaded and deleted files whose new state is swapped in."""
    clashes: dict[Path, tuple[str, str]] = field(default_factory=dict)
    """Files refused for a name clash: ``(task name, who holds it)``."""
    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    replaced: set[str] = field(default_factory=set)


def _owners(files: Mapping[Path, Mapping[str, Fingerprint]]) -> dict[str, Path]:
    return {name: path for path, names in files.items() for name in names}


def _find_clashes(current: Mapping[Path, Mapping[str, Fingerprint]],
                  candidates: Mapping[Path, Mapping[str, Fingerprint]],
                  dropped: Set[Path], unowned: Set[str]) -> dict[Path, tuple[str, str]]:
    previous = _owners(current)
    # Files not reloaded in this batch keep their names; so do files whose reload failed.
    fixed = _owners({p: n for p, n in current.items() if p not in candidates and p not in dropped})
    claims: dict[str, Path] = {}
    clashes: dict[Path, tuple[str, str]] = {}
    for path in sorted(candidates, key=str):
        for name in candidates[path]:
            holder = fixed.get(name)
            if holder is not None and holder != path:
                clashes.setdefault(path, (name, str(holder)))
            elif name in unowned:
                clashes.setdefault(path, (name, "a task created at run time"))
            elif name in claims and claims[name] != path:
                other = claims[name]
                # The file that held the name before keeps it; otherwise the first wins.
                if previous.get(name) == path:
                    clashes.setdefault(other, (name, str(path)))
                    claims[name] = path
                else:
                    clashes.setdefault(path, (name, str(other)))
            else:
                claims[name] = path
    return clashes


def plan_batch(current: Mapping[Path, Mapping[str, Fingerprint]],
               reloaded: Mapping[Path, Mapping[str, Fingerprint]],
               dropped: Set[Path], unowned: Set[str]) -> Plan:
    """Plan the swap of one batch.

    Args:
        current: Each file's task names (and fingerprints) as they run now.
        reloaded: The files that imported successfully, with what they declare now.
        dropped: Files that were deleted.
        unowned: Names in the session that no file owns (created at run time).
    """
    candidates = dict(reloaded)
    plan = Plan()
    while clashes := _find_clashes(current, candidates, dropped, unowned):
        # A refused file keeps its last good version, whose names may in turn clash
        # with another candidate: repeat until stable.
        for path, clash in clashes.items():
            plan.clashes[path] = clash
            del candidates[path]
    touched = set(candidates) | {p for p in dropped if p not in candidates}
    old = {name: path for path in touched if path in current for name in current[path]}
    new = _owners(candidates)
    plan.removed = set(old) - set(new)
    plan.added = set(new) - set(old)
    plan.replaced = set(new) & set(old)
    for path in sorted(touched, key=str):
        declared = candidates.get(path, {})
        before = current.get(path, {})
        plan.accepted[path] = FileDiff(
            path,
            added=tuple(n for n in declared if n not in old),
            removed=tuple(n for n in before if n not in new),
            changed=tuple(n for n in declared if n in old and (
                old[n] != path or current[old[n]][n] != declared[n])),
        )
    return plan
