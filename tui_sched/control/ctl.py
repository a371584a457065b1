"""``tui-sched ctl``: one command to a running scheduler, for scripts.

Exit codes: 0 done; 1 unknown task (the message names the nearest one); 2 any other
error (refused, no answer, bad usage); 3 no scheduler runs on the state folder.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO

from tui_sched.control import protocol as p
from tui_sched.control.client import ControlClient, ControlClosed, SchedulerNotRunning
from tui_sched.errors import TuiSchedError

ACTIONS = ("force", "disable", "enable", "terminate", "restart", "shutdown", "status")
TASK_ACTIONS: dict[str, type[p.Force | p.Disable | p.Enable | p.Terminate]] = {
    "force": p.Force, "disable": p.Disable, "enable": p.Enable, "terminate": p.Terminate}

OK, UNKNOWN_TASK, ERROR, NOT_RUNNING = 0, 1, 2, 3

#: Seconds a command is retried while the scheduler restarts its engine.
_RESTART_PATIENCE = 10.0
#: Most seconds ``ctl shutdown`` waits for the scheduler to have stopped.
_SHUTDOWN_PATIENCE = 600.0


def run_ctl(state_dir: Path, action: str, task: str | None = None, *, as_json: bool = False,
            force: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Send ``action`` to the scheduler serving ``state_dir``; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    if action in TASK_ACTIONS and not task:
        print(f"tui-sched ctl {action}: name the task (tui-sched ctl {action} TASK)", file=err)
        return ERROR
    if action not in TASK_ACTIONS and task:
        print(f"tui-sched ctl {action} takes no task (got {task!r})", file=err)
        return ERROR
    command: p.Command
    if action in TASK_ACTIONS:
        command = TASK_ACTIONS[action](task or "")
    elif action == "restart":
        command = p.Restart()
    elif action == "shutdown":
        command = p.Shutdown(force=force)
    elif action == "status":
        command = p.GetSnapshot()
    else:
        print(f"tui-sched ctl: unknown command {action!r} (one of {', '.join(ACTIONS)})", file=err)
        return ERROR
    try:
        welcome, reply = asyncio.run(_send(state_dir, command))
    except SchedulerNotRunning as exc:
        print(f"tui-sched: {exc}", file=err)
        return NOT_RUNNING
    except (TuiSchedError, TimeoutError) as exc:
        print(f"tui-sched: {exc or 'the scheduler did not answer in time'}", file=err)
        return ERROR
    if not reply.ok:
        print(f"tui-sched: {reply.error}", file=err)
        if reply.error_kind == "unknown_task":
            return UNKNOWN_TASK
        return NOT_RUNNING if reply.error_kind == "not_running" else ERROR
    if isinstance(reply.result, p.WireSnapshot):
        _print_status(welcome, reply.result, as_json, out)
    return OK


async def _send(state_dir: Path, command: p.Command) -> tuple[p.Welcome, p.Reply]:
    deadline = time.monotonic() + _RESTART_PATIENCE
    while True:
        client = await ControlClient.connect(state_dir)
        try:
            reply = await client.request(command)
            if reply.ok and isinstance(command, p.Shutdown):
                # Return once it has stopped (it closes the socket last), so that a
                # script can start another scheduler on the same folder right after.
                await client.wait_closed(_SHUTDOWN_PATIENCE)
        except ControlClosed as exc:
            raise SchedulerNotRunning(f"the scheduler on {state_dir} stopped ({exc})") from None
        finally:
            await client.close()
        # While the engine restarts there is none to command: wait for the new one.
        if reply.error_kind != "not_running" or time.monotonic() > deadline:
            return client.welcome, reply
        await asyncio.sleep(0.2)


def _iso(ts: float | None, tz: tzinfo) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz).isoformat()


def status_json(welcome: p.Welcome, snap: p.WireSnapshot) -> dict[str, Any]:
    """``ctl status --json``: the scheduler and one object per task (a stable interface)."""
    tz = p.zone(snap.tz)
    f = snap.facts
    return {
        "pid": welcome.pid, "state_dir": welcome.state_dir, "state": f.state,
        "started_at": _iso(f.started_at, tz), "restarts": f.restarts, "timezone": snap.tz,
        "tasks": [{
            "name": r.name, "status": r.status.value, "execution": r.execution,
            "condition": r.condition, "disabled": r.disabled, "queued": r.queued,
            "running_since": _iso(r.running_since, tz),
            "last_outcome": None if r.last_outcome is None else str(r.last_outcome),
            "last_start": _iso(r.last_start, tz), "last_end": _iso(r.last_end, tz),
            "last_duration": r.last_duration, "next_check": _iso(r.next_wake, tz),
            "waits_for": list(r.waits_for),
        } for r in snap.rows],
    }


def _print_status(welcome: p.Welcome, snap: p.WireSnapshot, as_json: bool, out: TextIO) -> None:
    data = status_json(welcome, snap)
    if as_json:
        print(json.dumps(data, indent=2), file=out)
        return
    f = snap.facts
    print(f"scheduler pid {welcome.pid} ({welcome.state_dir}): {f.state} since "
          f"{data['started_at'] or '-'}; {f.tasks} task(s), {f.running} running, "
          f"{f.disabled} disabled, {f.failures_hour} failure(s) in the last hour", file=out)
    width = max((len(r.name) for r in snap.rows), default=4)
    for row, task in zip(snap.rows, data["tasks"], strict=True):
        status = f"{row.status.symbol} {row.status.value}"
        last = task["last_end"] or "never"
        nxt = task["next_check"] or ("after " + ", ".join(row.waits_for) if row.waits_for else "-")
        print(f"  {row.name:<{width}}  {status:<13} last {last:<32} next {nxt}", file=out)
