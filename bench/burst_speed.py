"""How fast this machine runs short bursts of Python after idling, against continuous work.

    .venv/bin/python bench/burst_speed.py [--bursts 20] [--busy 0.16] [--idle 0.84]

An ``every 1 second`` workload of 5,000 tasks is a burst of about 160 ms of engine work
every second, and the machine idles in between. ``every`` counts the next start from
this one, so when the engine runs slower in a burst than it did in the first one (whose
pace spaced the train), every later start is late and stays late. This measures that
with no scheduler at all: a fixed piece of pure-Python work timed continuously for 3 s,
then in bursts of ``--busy`` seconds after ``--idle`` seconds of sleep. On a virtual
machine the bursts can run well slower (another guest on the core, frequency), which
``run.py``'s keep-up at 5,000 tasks then shows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def _work() -> None:
    d: dict[int, tuple[int, str]] = {}
    for i in range(1000):
        d[i & 511] = (i, str(i))


def _pace(seconds: float) -> float:
    """Microseconds per ``_work()`` over ``seconds`` of back-to-back calls."""
    began = time.perf_counter()
    calls = 0
    while time.perf_counter() - began < seconds:
        _work()
        calls += 1
    return 1e6 * (time.perf_counter() - began) / calls


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--bursts", type=int, default=20)
    p.add_argument("--busy", type=float, default=0.16, help="seconds of work per burst")
    p.add_argument("--idle", type=float, default=0.84, help="seconds of sleep between bursts")
    a = p.parse_args(argv)
    steady = _pace(3.0)
    bursts = []
    for _ in range(a.bursts):
        time.sleep(a.idle)
        bursts.append(_pace(a.busy))
    slow = [b / steady for b in bursts]
    print(f"continuous: {steady:.1f} us per unit of work")
    print(f"bursts of {1000 * a.busy:g} ms after {1000 * a.idle:g} ms idle: median "
          f"{statistics.median(slow):.2f}x, max {max(slow):.2f}x; slower by 10 % or more in "
          f"{sum(s >= 1.1 for s in slow)} of {len(slow)}")
    print("  each burst: " + " ".join(f"{s:.2f}" for s in slow))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
