"""The control socket's cost (issue 19): a real ``tui-sched run`` with N tasks
``every 1 second``, measured with no client, then with K subscribed clients that read
everything pushed (what ``tui-sched attach`` receives, without drawing it).

    .venv/bin/python bench/control_bench.py [--tasks 1000] [--clients 1 10] [--seconds 20]
    .venv/bin/python bench/control_bench.py --workload logs --tasks 2000 --clients 1 --frozen --seconds 30

The no-client window is measured first and again last, and its figures are the mean of
the two: the scheduler's own cost still grows over its first minute (the history's
writer and checkpoints: about 1.2 % of a core 10 s after start, 1.9 % 40 s after, with
no client), so a baseline measured only first made every client look dearer.

Prints, per phase: the scheduler's CPU (% of one core, from /proc) and its keep-up (1 s /
mean interval between a task's starts, as ``run.py``'s) over the window, with nothing
but the subscribers talking to it; then the round trip of 30 commands (p50/p95 ms) with
the subscribers still attached; with ``--workload logs``, the time from a ``force`` sent
to its run's end reaching a subscriber (a key's effect as an attached UI gets it, without
drawing it; p50/p95 ms); and the wall time of a whole ``tui-sched ctl status`` process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import _system_busy as system_busy

from tui_sched.control import protocol as p
from tui_sched.control.client import ControlClient

BIN = Path(sys.executable).parent / "tui-sched"
PROBES = 30
"""Commands timed after each phase's CPU window (one every 0.1 s)."""

MODULE = '''
from tui_sched import App
app = App()

def beat():
    pass

for i in range({n}):
    app.task("every 1 second", func=beat, name=f"t{{i:04d}}", execution="main")
'''


LOGS_MODULE = '''
import time
from tui_sched import App
app = App()

def idle():
    pass

for i in range({n}):
    app.task("daily", func=idle, name=f"t{{i:04d}}", execution="main")

@app.task("true", execution="thread")
def chatter():
    # 500 lines/s for as long as it runs
    for i in range(500):
        print(f"line {{i}} of a busy task's output")
        time.sleep(0.002)
'''


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def keep_up(db: Path, t0: float, t1: float, tasks: int) -> float:
    """``1 s / mean interval`` between consecutive starts of a task in ``[t0, t1)``, pooled
    over the tasks, times the share of tasks that ran (``run.py``'s keep-up: counting
    runs in a short window instead is quantized when all tasks start in one train)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        per_task = conn.execute("SELECT count(*), max(start) - min(start) FROM runs "
                                "WHERE start >= ? AND start < ? GROUP BY task", (t0, t1)).fetchall()
    intervals = sum(n - 1 for n, _ in per_task)
    span = sum(s for _, s in per_task)
    return (intervals / span if span else 0.0) * len(per_task) / tasks


def frozen_subscriber(state: Path) -> socket.socket:
    """A subscriber that never reads (a suspended ssh)."""
    s = socket.socket(socket.AF_UNIX)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(str(state / p.SOCKET_FILE))
    s.sendall(p.encode(p.Hello(p.PROTOCOL_VERSION, "frozen", subscribe=True)))
    return s


async def phase(state: Path, pid: int, clients: int, seconds: float, tasks: int,
                frozen: int = 0, effect_task: str | None = None) -> dict[str, float]:
    stuck = [frozen_subscriber(state) for _ in range(frozen)]
    subs = [await ControlClient.connect(state, client="bench", subscribe=True) for _ in range(clients)]
    received = [0]
    ended: asyncio.Queue[float] = asyncio.Queue()  # when the first client saw effect_task end

    async def drain(c: ControlClient) -> None:
        while (msg := await c.receive()) is not None:
            received[0] += 1
            if c is subs[0] and isinstance(msg, p.Events):
                for w in msg.events:
                    if (w.kind == "RunFinished" and isinstance(w.data, dict)
                            and w.data["run"]["task"] == effect_task):
                        ended.put_nowait(time.perf_counter())

    readers = [asyncio.create_task(drain(c)) for c in subs]
    await asyncio.sleep(2)  # the first snapshots and recent events
    # CPU and keep-up with nothing but the subscribers (each command costs the scheduler
    # too: an ``enable`` persists the task flags), then the round trip of commands.
    c0, t0, me0, busy0 = cpu_seconds(pid), time.time(), time.process_time(), system_busy()
    await asyncio.sleep(seconds)
    c1, t1, me1, busy1 = cpu_seconds(pid), time.time(), time.process_time(), system_busy()
    probe = await ControlClient.connect(state, client="bench-probe")
    rtts: list[float] = []
    for _ in range(PROBES):
        s = time.perf_counter()
        await probe.request(p.Enable("t0000"))
        rtts.append((time.perf_counter() - s) * 1000)
        await asyncio.sleep(0.1)
    # A key's effect as an attached UI sees it: ``force`` sent, until the run's end
    # reaches the first subscriber (what the table then shows; drawing not included).
    effects: list[float] = []
    for _ in range(PROBES if effect_task is not None and subs else 0):
        s = time.perf_counter()
        await probe.request(p.Force(effect_task))  # type: ignore[arg-type]
        effects.append((await asyncio.wait_for(ended.get(), 30) - s) * 1000)
        await asyncio.sleep(0.1)
    await probe.close()
    for f in stuck:
        f.close()
    for c in subs:
        await c.close()
    for r in readers:
        r.cancel()
    rtts.sort()
    # The noise gauge of run.py: CPU of everything else on the machine (not the scheduler,
    # not this process and its clients).
    others = 100 * ((busy1 - busy0) - (c1 - c0) - (me1 - me0)) / (t1 - t0)
    return {"cpu_pct": 100 * (c1 - c0) / (t1 - t0), "others_cpu_pct": max(0.0, others),
            "clients_cpu_pct": 100 * (me1 - me0) / (t1 - t0),
            "keep_up": keep_up(state / "history.sqlite3", t0, t1, tasks),
            "rtt_p50_ms": statistics.median(rtts), "rtt_p95_ms": rtts[int(len(rtts) * 0.95)],
            "messages": received[0],
            **({"effect_p50_ms": statistics.median(effects),
                "effect_p95_ms": sorted(effects)[int(len(effects) * 0.95)]} if effects else {})}


def main() -> None:
    ap = argparse.ArgumentParser(description="the control socket's cost (issue 19)")
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--clients", type=int, nargs="*", default=[1, 10])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--workload", choices=["every1s", "logs"], default="every1s",
                    help="every1s: every task every second (main); logs: idle daily tasks and "
                         "one task printing 500 lines/s")
    ap.add_argument("--frozen", action="store_true",
                    help="one more phase: one reading client and one that never reads")
    ap.add_argument("--warmup", type=float, default=5.0,
                    help="seconds after the socket appears before the first phase")
    ap.add_argument("--no-ctl-status", action="store_true",
                    help="skip timing whole `tui-sched ctl status` processes")
    ap.add_argument("--json", type=Path, metavar="FILE",
                    help="also write the figures of each phase there (bench/run.py reads it)")
    args = ap.parse_args()
    results: dict[str, dict[str, float]] = {}
    root = Path(tempfile.mkdtemp(prefix="control-bench-"))
    (root / "tasks").mkdir()
    module = MODULE if args.workload == "every1s" else LOGS_MODULE
    (root / "tasks" / "beats.py").write_text(module.format(n=args.tasks))
    proc = subprocess.Popen([str(BIN), "run", "tasks"], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    state = root / ".tui-sched"
    try:
        deadline = time.monotonic() + 60
        while not (state / p.SOCKET_FILE).exists():
            assert time.monotonic() < deadline and proc.poll() is None, "the scheduler did not start"
            time.sleep(0.1)
        time.sleep(args.warmup)  # the first runs, the first commits
        what = ("every 1 second (main)" if args.workload == "every1s"
                else "daily, idle, and one task printing 500 lines/s")
        print(f"{args.tasks} tasks {what}, {args.seconds:g} s per phase")
        phases = [(c, 0) for c in [0, *args.clients]] + ([(1, 1)] if args.frozen else []) + [(0, 0)]
        alone: list[dict[str, float]] = []
        for clients, frozen in phases:
            r = asyncio.run(phase(state, proc.pid, clients, args.seconds, args.tasks, frozen,
                                  None if args.workload == "every1s" else "t0001"))
            if clients == 0:
                alone.append(r)
                r = {k: statistics.mean(x[k] for x in alone) for k in r}
            results[f"{clients}" + (f"+{frozen}frozen" if frozen else "")] = r
            keep = f"keep-up {r['keep_up']:.4f}  " if args.workload == "every1s" else ""
            label = f"{clients:>2} client(s)" + (f" + {frozen} not reading" if frozen else "")
            if clients == 0 and len(alone) == 2:
                label += f" (again; mean of both, first {alone[0]['cpu_pct']:.1f} %)"
            print(f"  {label}: scheduler CPU {r['cpu_pct']:5.1f} %  {keep}command round trip "
                  f"p50 {r['rtt_p50_ms']:.2f} ms p95 {r['rtt_p95_ms']:.2f} ms  "
                  f"({r['messages']:.0f} messages received)")
            if "effect_p95_ms" in r:
                print(f"      force -> its run's end seen by a client: p50 {r['effect_p50_ms']:.0f} ms "
                      f"p95 {r['effect_p95_ms']:.0f} ms")
        if args.json is not None:
            args.json.write_text(json.dumps(results))
        walls = []
        for _ in range(0 if args.no_ctl_status else 5):
            s = time.perf_counter()
            subprocess.run([str(BIN), "ctl", "status", "--state", str(state)], check=True,
                           stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - s)
        if walls:
            print(f"  `tui-sched ctl status` process, wall: median "
                  f"{statistics.median(walls) * 1000:.0f} ms")
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
