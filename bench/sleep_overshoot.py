"""How late a short ``time.sleep`` wakes on this machine, with Linux's default timer
slack and with none (what the engine's precise waits spin to cover).

    .venv/bin/python bench/sleep_overshoot.py [--sleeps 400] [--sleep-us 500]

Prints the median, p90 and p99 of how long after the requested instant each sleep
returned, first with this thread's timer slack as it is (Linux's default is 50 us),
then after ``tui_sched.engine.clock.tighten_timer_slack()`` (1 ns).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_sched.engine.clock import tighten_timer_slack


def overshoot(sleeps: int, seconds: float) -> tuple[float, float, float]:
    """Median, p90 and p99 of the wake-up overshoot in microseconds."""
    late: list[float] = []
    for _ in range(sleeps):
        due = time.perf_counter() + seconds
        time.sleep(seconds)
        late.append((time.perf_counter() - due) * 1e6)
    late.sort()
    return statistics.median(late), late[int(0.9 * len(late))], late[int(0.99 * len(late))]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--sleeps", type=int, default=400)
    p.add_argument("--sleep-us", type=float, default=500.0)
    a = p.parse_args(argv)
    seconds = a.sleep_us / 1e6
    p50, p90, p99 = overshoot(a.sleeps, seconds)
    print(f"default slack:  overshoot p50 {p50:.1f}, p90 {p90:.1f}, p99 {p99:.1f} us")
    if not tighten_timer_slack():
        print("no timer slack: not available here (Linux only)")
        return 0
    p50, p90, p99 = overshoot(a.sleeps, seconds)
    print(f"no timer slack: overshoot p50 {p50:.1f}, p90 {p90:.1f}, p99 {p99:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
