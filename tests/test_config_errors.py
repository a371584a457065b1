"""Configuration mistakes name the key, the file and the nearest valid key, and ``check``
reports them (it does not accept a misspelt keymap id)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_process import cli

from tui_sched.config import KEYMAP_IDS, load_config
from tui_sched.errors import ConfigError


def config_error(tmp_path: Path, text: str) -> str:
    (tmp_path / "tui-sched.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "tasks"))
    return str(info.value)


def test_a_misspelt_keymap_id_names_the_id_the_file_and_the_nearest_id(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[keymap]\nforse_run = "F"\n')
    assert "keymap" in message and "forse_run" in message
    assert str(tmp_path / "tui-sched.toml") in message
    assert "did you mean 'force_run'?" in message


def test_an_unknown_key_names_the_file_and_the_nearest_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[scheduler]\ntimzone = "UTC"\n')
    assert "unknown configuration key 'scheduler.timzone'" in message
    assert str(tmp_path / "tui-sched.toml") in message
    assert "did you mean 'scheduler.timezone'?" in message
    assert "Extra inputs are not permitted" not in message
    top = config_error(tmp_path, 'task_dir = "x"\n')
    assert "did you mean 'tasks_dir'?" in top


def test_check_reports_a_bad_keymap_and_fails(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir(mode=0o755)
    (tmp_path / "tui-sched.toml").write_text('[keymap]\nforse_run = "F"\n')
    result = cli("check", "tasks", cwd=tmp_path)
    assert result.returncode != 0
    assert "forse_run" in result.stderr and "did you mean 'force_run'?" in result.stderr


def test_every_tui_binding_id_is_a_known_keymap_id() -> None:
    from textual.binding import Binding

    from tui_sched.tui.app import SchedulerApp
    from tui_sched.tui.screens.confirm import ConfirmScreen
    from tui_sched.tui.screens.detail import DetailScreen
    from tui_sched.tui.screens.help import HelpScreen
    from tui_sched.tui.screens.main import MainScreen
    from tui_sched.tui.screens.problems import ProblemsScreen
    from tui_sched.tui.widgets.log_pane import LogPane
    from tui_sched.tui.widgets.task_table import TaskTable

    ids = {b.id for cls in (SchedulerApp, MainScreen, TaskTable, LogPane, DetailScreen,
                            ProblemsScreen, HelpScreen, ConfirmScreen)
           for b in cls.BINDINGS if isinstance(b, Binding) and b.id}
    assert ids == set(KEYMAP_IDS)
