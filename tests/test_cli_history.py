"""``history``/``list``/``--version`` as scripts use them: pipes that close early, a
limit that says so, an unknown task, a header row (the real command, a real store)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_process import BIN, _env, cli

from tui_sched.store.base import Outcome, RunEnd, RunRecord, TaskInfo, Trigger
from tui_sched.store.sqlite import SqliteRunStore


def seeded(tmp_path: Path, runs: int = 120) -> Path:
    """A tasks folder beside a state folder holding ``runs`` runs of ``fetch_numbers``."""
    (tmp_path / "tasks").mkdir()
    state = tmp_path / ".tui-sched"
    state.mkdir()
    store = SqliteRunStore(state / "history.sqlite3")
    store.save_tasks([TaskInfo("fetch_numbers", "every 10 seconds", "thread", False, "jobs.py"),
                      TaskInfo("summarise", "after task 'fetch_numbers'", "thread", True, "jobs.py")])
    for i in range(runs):
        store.start_run(RunRecord(i + 1, "fetch_numbers", Trigger.SCHEDULED, 1_772_442_000.0 + i * 10))
        store.finish_run(i + 1, RunEnd(1_772_442_000.0 + i * 10 + 1, Outcome.SUCCESS))
    store.close()
    return tmp_path


def piped_into_head(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``tui-sched ARGS | head -1`` without a shell: the reader leaves after one line."""
    proc = subprocess.Popen([str(BIN), *args], cwd=tmp_path, env=_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what head does after its line
    err = proc.stderr.read()
    proc.wait(30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, first, err)


def test_history_into_a_pipe_that_closes_early_is_quiet(tmp_path: Path) -> None:
    seeded(tmp_path, runs=3000)
    for args in (("history", "--limit", "3000"), ("history", "--json", "--limit", "3000")):
        result = piped_into_head(tmp_path, *args)
        assert result.stdout.strip(), args
        assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
        assert result.returncode == 141, (args, result.returncode)  # 128 + SIGPIPE, as `yes | head`


def test_history_says_when_the_limit_cut_it(tmp_path: Path) -> None:
    seeded(tmp_path)
    result = cli("history", "--json", cwd=tmp_path)
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == 50, "stdout stays one JSON array"
    assert "showing the newest 50 runs; there are more" in result.stderr
    everything = cli("history", "--json", "--limit", "0", cwd=tmp_path)
    assert len(json.loads(everything.stdout)) == 120 and everything.stderr == ""


def test_history_of_an_unknown_task_exits_1_with_the_nearest_name(tmp_path: Path) -> None:
    seeded(tmp_path, runs=2)
    result = cli("history", "fetch_number", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert "no task 'fetch_number' in the history; did you mean 'fetch_numbers'?" in result.stderr
    known = cli("history", "summarise", cwd=tmp_path)  # known, never ran: nothing, and fine
    assert known.returncode == 0 and known.stdout == ""


def test_list_has_a_header_row_and_version_prints_the_version(tmp_path: Path) -> None:
    seeded(tmp_path, runs=1)
    lines = cli("list", cwd=tmp_path).stdout.splitlines()
    assert lines[0].split() == ["TASK", "EXEC", "LAST", "CONDITION"]
    assert lines[1].split()[:3] == ["fetch_numbers", "thread", "success"]
    version = cli("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("tui-sched 0.")
