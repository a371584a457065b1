"""The composition root: ``tui-sched [run|check|list|history|ctl|attach] ...``.

Builds configuration, store, executors and engine, then runs headless or the TUI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_sched.config import AppConfig, load_config
from tui_sched.errors import StateLockedError, TuiSchedError
from tui_sched.statedir import HISTORY_FILE, InstanceLock, default_state_dir

if TYPE_CHECKING:
    from tui_sched.reload import FolderBuilder

COMMANDS = ("run", "check", "list", "history", "ui", "ctl", "attach")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tui-sched",
        description="A condition-driven task scheduler with a terminal UI.",
        epilog="Without a command, starts the terminal UI on TASKS_DIR (default ./tasks).",
    )
    p.add_argument("--version", action="version", version=f"tui-sched {_version()}")
    sub = p.add_subparsers(dest="command")

    def common(sp: argparse.ArgumentParser, tasks_dir: bool = True) -> None:
        if tasks_dir:
            sp.add_argument("tasks_dir", nargs="?", default=None, metavar="TASKS_DIR",
                            help="folder of task modules (default: ./tasks)")
        sp.add_argument("--state", metavar="DIR", default=None,
                        help="state folder (default: .tui-sched beside TASKS_DIR)")

    for name, help_ in (("ui", "the terminal UI (the default)"),
                        ("run", "run headless; log lines to stdout"),
                        ("check", "load and validate every module; non-zero exit on errors")):
        sp = sub.add_parser(name, help=help_)
        common(sp)
        sp.add_argument("--insecure-permissions", action="store_true", default=None,
                        help="load modules even if other users can write them")
        sp.add_argument("--timezone", default=None, help="IANA time zone for conditions")
    common(sub.add_parser("attach", help="the terminal UI on a scheduler that already runs "
                                         "(q detaches and leaves it running)"))
    sp = sub.add_parser("list", help="tasks known to the store")
    common(sp)
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp = sub.add_parser("history", help="run history, newest first")
    sp.add_argument("task", nargs="?", default=None, help="only this task")
    common(sp, tasks_dir=False)
    sp.add_argument("--tasks-dir", dest="tasks_dir", default=None)
    sp.add_argument("--limit", type=int, default=50,
                    help="newest runs shown (default 50; 0: all); stderr says when more exist")
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    _ctl_parser(sub.add_parser(
        "ctl", help="command a running scheduler through its control socket",
        description="Exit codes: 0 done, 1 unknown task, 2 other errors, 3 no scheduler runs."),
        common)
    return p


def _ctl_parser(sp: argparse.ArgumentParser, common: Any) -> None:
    from tui_sched.control.ctl import ACTIONS

    sp.add_argument("action", choices=ACTIONS, metavar="COMMAND",
                    help="force|disable|enable|terminate TASK, restart, shutdown, status")
    sp.add_argument("task", nargs="?", default=None, metavar="TASK")
    common(sp, tasks_dir=False)
    sp.add_argument("--tasks-dir", dest="tasks_dir", default=None,
                    help="the tasks folder (its state folder is the scheduler's)")
    sp.add_argument("--json", action="store_true", help="status: machine-readable output")
    sp.add_argument("--force", action="store_true",
                    help="shutdown: terminate running runs at once")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tui-sched")
    except PackageNotFoundError:
        return "unknown"


def _config(args: argparse.Namespace) -> AppConfig:
    flags: dict[str, Any] = {"state_dir": args.state,
                             "insecure_permissions": getattr(args, "insecure_permissions", None)}
    tz = getattr(args, "timezone", None)
    cfg = load_config(args.tasks_dir, flags)
    if tz:
        cfg = cfg.model_copy(update={"scheduler": cfg.scheduler.model_copy(update={"timezone": tz})})
    return cfg


def _state_dir(cfg: AppConfig) -> Path:
    return Path(cfg.state_dir) if cfg.state_dir else default_state_dir(cfg.tasks_dir)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tui-sched`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv = ["ui", *argv]
    args = _parser().parse_args(argv)
    if args.command in ("run", "check", "ui"):
        from tui_sched.reload.vetting import prestart

        prestart()  # task modules are first imported there: let it start meanwhile
    try:
        cfg = _config(args)
        if args.command == "check":
            return cmd_check(cfg)
        if args.command == "list":
            return cmd_list(cfg, args.json)
        if args.command == "history":
            return cmd_history(cfg, args.task, args.limit, args.json)
        if args.command == "ctl":
            from tui_sched.control.ctl import run_ctl

            return run_ctl(_state_dir(cfg), args.action, args.task, as_json=args.json,
                           force=args.force)
        if args.command == "run":
            return cmd_run(cfg)
        if args.command == "attach":
            return cmd_attach(cfg)
        return cmd_ui(cfg)
    except TuiSchedError as exc:
        print(f"tui-sched: {exc}", file=sys.stderr)
        return 2


def cmd_check(cfg: AppConfig) -> int:
    """Load every module, parse every condition, report every error."""
    from tui_sched.reload.loader import load_folder

    report = load_folder(cfg.tasks_dir, insecure=cfg.insecure_permissions)
    for err in report.errors:
        print(f"error: {err}", file=sys.stderr)
    tasks = report.session.tasks
    print(f"{len(report.modules)} module(s), {len(tasks)} task(s), {len(report.errors)} error(s)")
    for task in tasks:
        print(f"  {task.name}: {task.condition_text or '(forced only)'} [{task.executor_key}]")
    return 1 if report.errors else 0


def build_folder(cfg: AppConfig) -> FolderBuilder:
    """A builder (``FolderBuilder``) that (re)loads the tasks folder and opens the store
    for each start. Its ``reloader`` hot-reloads the folder; the first build starts it."""
    from tui_sched.headless import open_store
    from tui_sched.reload import FolderBuilder, Reloader

    state = _state_dir(cfg)
    settings = cfg.reload
    reloader = Reloader(cfg.tasks_dir, settings=settings, insecure=cfg.insecure_permissions)
    return FolderBuilder(reloader, lambda: open_store(state))


def _take_over_children(cfg: AppConfig) -> None:
    """Holding the lock, before anything runs: end what a killed scheduler left running."""
    from tui_sched.executors import children

    children.take_over(_state_dir(cfg), lambda line: print(f"tui-sched: {line}", file=sys.stderr),
                       cfg.scheduler.termination_grace)


def cmd_run(cfg: AppConfig) -> int:
    """Run headless until a signal or ``session.shutdown()``."""
    from tui_sched.engine.bus import EventBus
    from tui_sched.headless import run_headless

    lock = InstanceLock(_state_dir(cfg))
    lock.acquire()
    _take_over_children(cfg)
    bus = EventBus()
    builder = build_folder(cfg)
    try:
        # The bus goes to the builder so load failures and reloads are logged.
        return run_headless(partial(builder, bus=bus), cfg.scheduler, bus=bus,
                            state_dir=_state_dir(cfg))
    finally:
        builder.reloader.stop()
        lock.release()


def cmd_ui(cfg: AppConfig) -> int:
    """The terminal UI with the engine embedded (Textual is imported only here)."""
    from tui_sched.tui.app import run_tui

    lock = InstanceLock(_state_dir(cfg))
    try:
        lock.acquire()
    except StateLockedError:
        return cmd_attach(cfg)  # a scheduler already runs on this state folder: show it
    _take_over_children(cfg)
    builder = build_folder(cfg)
    try:
        # run_tui hands its bus to the builder, so load failures and reloads reach the UI.
        return int(run_tui(builder, cfg))
    finally:
        builder.reloader.stop()
        lock.release()


def cmd_attach(cfg: AppConfig) -> int:
    """The terminal UI on the scheduler serving the state folder (exit 3: none runs)."""
    from tui_sched.control.client import SchedulerNotRunning, probe

    state = _state_dir(cfg)
    try:
        probe(state)
    except SchedulerNotRunning as exc:
        print(f"tui-sched: {exc}", file=sys.stderr)
        return 3
    from tui_sched.tui.app import run_attach

    return run_attach(state, cfg)


def _open_readonly(cfg: AppConfig) -> Any:
    from tui_sched.store.sqlite import SqliteRunStore

    path = _state_dir(cfg) / HISTORY_FILE
    if not path.exists():
        return None
    return SqliteRunStore.open_readonly(path)


def _iso(ts: float | None, tz: Any) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz).isoformat()


#: Exit code after the reader of stdout went away (``| head``): 128 + SIGPIPE, as the
#: shell reports for ``cat``, ``yes`` and the rest.
EXIT_BROKEN_PIPE = 141


def _emit(lines: list[str]) -> int:
    """Print ``lines``; a reader that leaves early (``| head``) ends the output quietly."""
    try:
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    return 0


def cmd_list(cfg: AppConfig, as_json: bool) -> int:
    """Tasks and their last outcome, from the store."""
    store = _open_readonly(cfg)
    rows: list[dict[str, Any]] = []
    if store is not None:
        try:
            for info in store.tasks():
                last = store.history(info.name, limit=1)
                rows.append({
                    "name": info.name, "condition": info.condition, "execution": info.execution,
                    "disabled": info.disabled, "module": info.module,
                    "last_outcome": str(last[0].outcome) if last and last[0].outcome else None,
                })
        finally:
            store.close()
    if as_json:
        return _emit(json.dumps(rows, indent=2).splitlines())
    if not rows:
        return _emit(["no tasks recorded yet (run the scheduler first)"])
    width = max(len("TASK"), *(len(r["name"]) for r in rows))
    lines = [f"{'TASK':<{width}}  {'EXEC':<8} {'LAST':<10} CONDITION"]
    for r in rows:
        flag = " [disabled]" if r["disabled"] else ""
        lines.append(f"{r['name']:<{width}}  {r['execution']:<8} {r['last_outcome'] or '-':<10} "
                     f"{r['condition'] or '(forced only)'}{flag}")
    return _emit(lines)


def _unknown_task(store: Any, task: str) -> str | None:
    """Why ``task`` is not one the store knows, with the nearest name (``None``: known)."""
    import difflib

    names = {info.name for info in store.tasks()} | {s.task for s in store.summaries()}
    if task in names:
        return None
    near = difflib.get_close_matches(task, sorted(names), n=1, cutoff=0.5)
    hint = f"; did you mean {near[0]!r}?" if near else ("; known: " + ", ".join(sorted(names))
                                                         if 0 < len(names) <= 8 else "")
    return f"no task {task!r} in the history{hint}"


def cmd_history(cfg: AppConfig, task: str | None, limit: int, as_json: bool) -> int:
    """Run history, newest first (``limit`` runs; 0: all)."""
    from tui_sched.engine.timezone import resolve_timezone

    tz = resolve_timezone(cfg.scheduler.timezone)
    store = _open_readonly(cfg)
    runs = []
    wanted = limit if limit > 0 else 2**62
    if store is not None:
        try:
            if task is not None and (problem := _unknown_task(store, task)) is not None:
                print(f"tui-sched: {problem}", file=sys.stderr)
                return 1
            runs = store.history(task, limit=wanted + 1)  # one more: are there more?
        finally:
            store.close()
    elif task is not None:
        print(f"tui-sched: no history yet ({_state_dir(cfg) / HISTORY_FILE}), so no task {task!r}",
              file=sys.stderr)
        return 1
    more = len(runs) > wanted
    runs = runs[:wanted]
    rows = [{
        "id": r.id, "task": r.task, "trigger": str(r.trigger),
        "outcome": None if r.outcome is None else str(r.outcome),
        "start": _iso(r.start, tz), "end": _iso(r.end, tz),
        "duration": None if r.duration is None else round(r.duration, 6),
        "error": r.error, "attempt": r.attempt,
    } for r in runs]
    if more:  # on stderr, so the JSON on stdout stays one valid array
        print(f"tui-sched: showing the newest {wanted} runs; there are more (--limit N, 0 for all)",
              file=sys.stderr)
    if as_json:
        return _emit(json.dumps(rows, indent=2).splitlines())
    lines = []
    for r in rows:
        dur = "" if r["duration"] is None else f"{r['duration']:.3f}s"
        err = f"  {r['error'].splitlines()[0]}" if r["error"] else ""
        lines.append(f"{r['start']}  {r['task']:<24} {r['trigger']:<9} {r['outcome'] or 'running':<9} "
                     f"{dur:>9}{err}")
    return _emit(lines)


if __name__ == "__main__":
    raise SystemExit(main())
