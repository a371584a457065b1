"""``@value``: a frozen, slotted dataclass that is cheaper to define and to make.

``@dataclass(frozen=True, slots=True)`` compiles six methods per class (about 0.8 ms
each class: 30 ms of start-up over the value types imported by ``import tui_sched``),
and its ``__init__`` sets each field through ``object.__setattr__``, looked up anew for
every field (2 µs for an 11-field ``RunRecord``, made twice per run).

``@value`` asks ``dataclass`` only for the bookkeeping (fields, slots,
``__match_args__``), compiles one constructor, and shares generic ``__eq__``,
``__hash__``, ``__repr__`` and freezing among all classes. The result behaves as the
frozen dataclass would: equality and hash over the compared fields, the same ``repr``,
``dataclasses.replace``/``fields``/``asdict``, ``FrozenInstanceError`` on assignment,
pickling and ``copy``.

The constructor is a ``__new__`` that fills a mutable twin of the class (a subclass with
no slots of its own and ``object``'s ``__setattr__``) with plain attribute stores, then
gives the object its real class: 0.46 µs for an 11-field ``RunRecord``, where filling
the slots through their descriptors took 0.8 µs. A class with an ``__init__`` or a
``__new__`` of its own among its bases gets an ``__init__`` that fills the slots through
their descriptors instead, and so does a plain (not ``@value``) subclass.

Only for plain fields (no ``default_factory``, ``InitVar``, ``init=False`` or
``kw_only``); anything else is refused when the class is defined, so use
``@dataclass(frozen=True, slots=True)`` for those. ``__post_init__`` is called as
dataclasses call it.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

C = TypeVar("C", bound=type)


def _slot(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        member = klass.__dict__.get(name)
        if member is not None and hasattr(member, "__set__"):
            return member
    raise TypeError(f"{cls.__name__}.{name} is not a slot")


def _frozen_setattr(self: object, name: str, _value: object) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda _obj: ()
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return operator.attrgetter(*names)  # type: ignore[return-value]


@dataclass_transform(frozen_default=True)
def value(cls: C) -> C:
    """Make ``cls`` a frozen, slotted dataclass (see the module docstring).

    Raises:
        TypeError: ``cls`` has something ``@value`` does not support.
    """
    made: Any = dataclasses.dataclass(slots=True, init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(made)
    for f in fields:
        if not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{made.__name__}.{f.name}: @value takes plain fields only")
    _give_init(made, fields)
    compared = _getter([f.name for f in fields if f.compare])
    hashed = _getter([f.name for f in fields if (f.compare if f.hash is None else f.hash)])
    shown = [f.name for f in fields if f.repr]
    everything = _getter([f.name for f in fields])
    setters = [_slot(made, f.name).__set__ for f in fields]

    def __eq__(self: Any, other: Any) -> bool:
        if other.__class__ is self.__class__:
            return bool(compared(self) == compared(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    def __getstate__(self: Any) -> tuple[Any, ...]:
        return everything(self)

    def __setstate__(self: Any, state: tuple[Any, ...]) -> None:
        for set_, item in zip(setters, state, strict=True):
            set_(self, item)

    for fn in (__eq__, __hash__, __repr__, __getstate__, __setstate__):
        if fn.__name__ in cls.__dict__:
            continue  # the class defines its own, as dataclass would leave it
        fn.__qualname__ = f"{made.__qualname__}.{fn.__name__}"
        setattr(made, fn.__name__, fn)
    made.__setattr__ = _frozen_setattr
    made.__delattr__ = _frozen_delattr
    return made  # type: ignore[no-any-return]


def _revive(cls: type) -> Any:
    """An empty instance for ``__setstate__`` to fill (pickling and ``copy``): the class's
    own ``__new__`` wants every field."""
    return object.__new__(cls)


def _give_init(cls: Any, fields: tuple[dataclasses.Field[Any], ...]) -> None:
    params: list[str] = []
    namespace: dict[str, Any] = {}
    for f in fields:
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            namespace[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
    post = ["    self.__post_init__()"] if hasattr(cls, "__post_init__") else []
    own = [k for k in cls.__mro__[:-1]
           if "__init__" in k.__dict__ or ("__new__" in k.__dict__
                                           and not getattr(k.__dict__["__new__"], "_value_new", False))]
    if own:
        # Something in the bases constructs: leave __new__ alone, fill the slots in __init__.
        lines = []
        for f in fields:
            namespace[f"_s_{f.name}"] = _slot(cls, f.name).__set__
            lines.append(f"    _s_{f.name}(self, {f.name})")
        lines += post  # it normalises with object.__setattr__
        source = (f"def __init__(self, {', '.join(params)}):\n"
                  + ("\n".join(lines) or "    pass") + "\n")
        exec(source, namespace)  # generated from the field names only, as dataclasses does
        init = namespace["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = init
        if getattr(cls.__new__, "_value_new", False):
            # A @value base's __new__ wants that base's fields, not these.
            cls.__new__ = _bare_new
        return
    # A subclass with the same layout that may be written to: filled, then recast.
    twin = type(cls.__name__, (cls,), {"__slots__": (), "__setattr__": object.__setattr__,
                                       "__delattr__": object.__delattr__,
                                       "__module__": cls.__module__,
                                       "__qualname__": f"{cls.__qualname__}.<building>"})
    namespace.update(_new=object.__new__, _twin=twin, _cls=cls, _slow=_slow_new)
    lines = ["    if cls is not _cls:",  # a plain subclass may add a __dict__: no twin fits
             f"        return _slow(cls, _cls, ({''.join(f'{f.name}, ' for f in fields)}))",
             "    self = _new(_twin)"]
    lines += [f"    self.{f.name} = {f.name}" for f in fields]
    lines += ["    self.__class__ = cls"]
    lines += post
    lines += ["    return self"]
    source = f"def __new__(cls, {', '.join(params)}):\n" + "\n".join(lines) + "\n"
    exec(source, namespace)  # generated from the field names only, as dataclasses does
    new = namespace["__new__"]
    new.__qualname__ = f"{cls.__qualname__}.__new__"
    new._value_new = True
    cls.__new__ = new
    if "__reduce__" not in cls.__dict__:
        cls.__reduce__ = lambda self: (_revive, (self.__class__,), self.__getstate__())


def _bare_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``__new__`` of a class whose ``__init__`` fills the slots."""
    return object.__new__(cls)


_bare_new._value_new = True  # type: ignore[attr-defined]


def _slow_new(cls: type, made: type, values: tuple[Any, ...]) -> Any:
    """``__new__`` of a subclass that is not itself a ``@value``: through the slots."""
    self: Any = object.__new__(cls)
    for f, item in zip(dataclasses.fields(made), values, strict=True):  # type: ignore[arg-type]
        _slot(made, f.name).__set__(self, item)
    if hasattr(self, "__post_init__"):
        self.__post_init__()
    return self
