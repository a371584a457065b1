"""Instructions per run of the engine on simulated time, counted by valgrind: no noise.

    .venv/bin/python bench/instructions.py [WORKLOAD] [--short 5] [--long 15]

Runs ``engine_cost.py`` (same task set, history in SQLite, a clock that jumps to the next
wake-up) under ``valgrind --tool=callgrind`` for ``--short`` and ``--long`` simulated
seconds and prints the difference in instructions divided by the difference in runs:
start-up, imports and set-up cancel out. Every thread of the process counts (the
history writer too); the engine thread's share is printed apart, and is the steadier
figure (the writer's work depends on how runs fall into commits). About a minute;
needs valgrind.

CPU time on this kind of machine varies by 10-30 % from one run of the same code to
the next; an instruction count varies by about 1 %, so it is what shows a change of a
few per cent. It does not see what time the instructions take (cache misses, waits).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workloads import BY_NAME  # noqa: E402


def _count(workload: str, seconds: float, spread: float = 0.0) -> tuple[int, int]:
    """Instructions of one ``engine_cost.py`` run of ``seconds`` simulated seconds: in
    every thread, and in the main thread (where ``engine_cost.py`` runs the engine)."""
    with tempfile.TemporaryDirectory(prefix="tui-sched-callgrind-") as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--separate-threads=yes",
             f"--callgrind-out-file={tmp}/cg.out",
             sys.executable, str(HERE / "engine_cost.py"), workload,
             "--seconds", str(seconds), "--repeat", "1", "--spread", str(spread)],
            # One hash seed for every run: with random ones the same code's count moved
            # by 3 % (dicts and sets of task names laid out differently each time).
            env={**os.environ, "PYTHONHASHSEED": "0"},
            capture_output=True, text=True, check=True)
        found = re.search(r"Collected\s*:\s*(\d+)", out.stderr)
        if found is None:
            raise RuntimeError(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
        main = Path(tmp) / "cg.out-01"
        totals = re.search(r"^(?:totals|summary):\s*(\d+)", main.read_text(), re.MULTILINE)
        if totals is None:
            raise RuntimeError(f"no totals in {main.name}")
        return int(found.group(1)), int(totals.group(1))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("workload", nargs="?", default="every1s_main_1000",
                   choices=sorted(n for n, w in BY_NAME.items()
                                  if w.kind == "every" and w.execution == "main"))
    p.add_argument("--short", type=float, default=5.0, help="simulated seconds, first run")
    p.add_argument("--long", type=float, default=15.0, help="simulated seconds, second run")
    p.add_argument("--spread", type=float, default=0.0, metavar="US",
                   help="engine_cost.py --spread: follow trains wake-up by wake-up")
    a = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 2
    wl = BY_NAME[a.workload]
    runs = (a.long - a.short) * wl.n / wl.period
    (short, short_engine), (long, long_engine) = (_count(a.workload, a.short, a.spread),
                                                  _count(a.workload, a.long, a.spread))
    print(f"{a.workload}: {(long - short) / runs:,.0f} instructions per run, of which the "
          f"engine thread {(long_engine - short_engine) / runs:,.0f} ({a.short:g} and "
          f"{a.long:g} simulated s" + (f", {a.spread:g} us between starts)" if a.spread else ")"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
