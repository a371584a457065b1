"""Run Rocketry's documented examples on tui-sched with only the import changed.

Each test quotes an example from Rocketry's documentation (Miksus/rocketry, ``docs/``,
MIT licence) verbatim; ``run_example`` changes ``rocketry`` to ``tui_sched`` in its
import lines and nothing else, and executes it with ``app`` already defined, as the
documentation's snippets assume.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import textwrap
from pathlib import Path
from typing import Any

_IMPORT = re.compile(r"^(\s*)(from|import) rocketry\b", re.MULTILINE)


def port(example: str) -> str:
    """The example with only its import lines changed to tui-sched's."""
    return _IMPORT.sub(r"\1\2 tui_sched", textwrap.dedent(example))


def run_example(example: str, **namespace: Any) -> dict[str, Any]:
    """Execute the ported example in ``namespace`` (e.g. ``app=``); return the namespace.

    The example is written to a file first and run as that file, so that its functions
    have a source file, as in a user's module (``process`` tasks need one).
    """
    source = port(example)
    folder = Path(tempfile.mkdtemp(prefix="rocketry-example-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    file = folder / "example.py"
    file.write_text(source)
    namespace.setdefault("__name__", "rocketry_example")
    namespace["__file__"] = str(file)
    exec(compile(source, str(file), "exec"), namespace)
    return namespace
