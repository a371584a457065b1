"""The process groups a scheduler starts, written down so that a killed one is cleaned up.

Every command run and every ``process`` worker runs in a process group of its own. While
the group may have members, a small file ``<state>/children/<pgid>`` names it (with the
leader's start time and the boot, so a recycled pid is never mistaken for it). A
scheduler that stops normally ends each group and removes its file. One that was killed
(SIGKILL, OOM killer, power cut of the process) leaves files behind: the next scheduler
on that state folder, holding the instance lock, ends those groups before it schedules
anything, so a ``daily`` command that was cut short never runs twice at once.

The ledger is process-wide, like the instance lock that guards its folder: the
composition root installs it once (``install``); executors only call ``track`` and
``release``, which do nothing when no ledger is installed (tests, ``App(state_dir=None)``).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHILDREN_DIR = "children"

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def killpg_quietly(pgid: int, sig: int) -> bool:
    """Signal a process group; ``False`` if it has no member left (or is not ours)."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), ``None`` if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[19])  # field 22 of proc(5)


def _boot_id() -> str | None:
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class LeftGroup:
    """A process group that a killed scheduler left running, and was ended at start."""

    pgid: int
    what: str
    """What it ran (``command of task 'x': ...``, ``process worker``)."""


class ChildLedger:
    """The files naming this scheduler's live process groups, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._boot = _boot_id()

    def track(self, pgid: int, what: str) -> None:
        """Write down a group just started (its leader's pid is ``pgid``)."""
        entry = {"pgid": pgid, "start": _start_time(pgid), "boot": self._boot, "what": what}
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            (self.folder / str(pgid)).write_text(json.dumps(entry))
        except OSError:
            pass  # best effort: the run must not fail because the state folder did

    def forget(self, pgid: int) -> None:
        """Strike out a group that has ended."""
        try:
            (self.folder / str(pgid)).unlink()
        except OSError:
            pass

    def end_leftovers(self, grace: float = 2.0) -> list[LeftGroup]:
        """End the groups a killed scheduler left: SIGTERM, then SIGKILL after ``grace``.

        Call it holding the instance lock, before anything is scheduled. A group whose
        leader's pid now belongs to another process (the pid was reused after the
        group ended) is left alone.
        """
        try:
            files = sorted(self.folder.iterdir())
        except OSError:
            return []
        ended: list[LeftGroup] = []
        for path in files:
            group = _left_group(path, self._boot)
            if group is not None and killpg_quietly(group.pgid, signal.SIGTERM):
                ended.append(group)
        deadline = time.monotonic() + grace
        waiting = [g.pgid for g in ended]
        while waiting and time.monotonic() < deadline:
            # Processes we did not start: no pidfd or waitpid can tell when they are gone.
            time.sleep(0.02)
            waiting = [p for p in waiting if _has_live_member(p)]
        for pgid in waiting:
            killpg_quietly(pgid, signal.SIGKILL)
        for path in files:
            try:
                path.unlink()
            except OSError:
                pass
        return ended


def _left_group(path: Path, boot: str | None) -> LeftGroup | None:
    """The group a ledger file names, if it can still be this scheduler's."""
    try:
        entry = json.loads(path.read_text())
        pgid, start, what = int(entry["pgid"]), entry["start"], str(entry["what"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pgid <= 1 or entry.get("boot") != boot:
        return None  # written before a reboot: the group died with it
    now = _start_time(pgid)
    if now is not None and now != start:
        return None  # the leader's pid was reused: that process is not ours
    # The leader is ours, or gone: the kernel does not hand out a pid while a process
    # group with that number has members, so the members left are the ones we started.
    return LeftGroup(pgid, what)


def _has_live_member(pgid: int) -> bool:
    """Whether the group has a member that is not a zombie (Linux; else: any member)."""
    if not killpg_quietly(pgid, 0):
        return False
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return True
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


_ledger: ChildLedger | None = None


def install(ledger: ChildLedger | None) -> None:
    """Make ``ledger`` the one ``track`` and ``release`` write to (``None``: none)."""
    global _ledger
    _ledger = ledger


def track(pgid: int, what: str) -> None:
    """Write down a process group this scheduler just started (no-op without a ledger)."""
    ledger = _ledger
    if ledger is not None:
        ledger.track(pgid, what)


def release(pgid: int) -> None:
    """End what is left of a group whose leader has exited, and strike it out."""
    killpg_quietly(pgid, signal.SIGKILL)
    ledger = _ledger
    if ledger is not None:
        ledger.forget(pgid)


def take_over(state_dir: Path, say: Callable[[str], None], grace: float = 2.0) -> None:
    """At start, holding the instance lock of ``state_dir``: end what a killed scheduler
    left running (telling ``say`` about each group), then track this one's children."""
    ledger = ChildLedger(state_dir / CHILDREN_DIR)
    for group in ledger.end_leftovers(grace):
        say(f"ended process group {group.pgid}, left running by a scheduler that was "
            f"killed ({group.what})")
    install(ledger)
