"""The ``[dask]`` configuration (issue 22): the table, the environment, the errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_sched.config import load_config
from tui_sched.errors import ConfigError


def test_the_dask_table_sets_where_dask_runs_go(tmp_path: Path) -> None:
    (tmp_path / "tui-sched.toml").write_text(
        '[scheduler]\ndefault_execution = "dask"\n\n'
        '[dask]\naddress = "tcp://10.0.0.5:8786"\nconnect_timeout = 3\n')
    cfg = load_config(str(tmp_path / "tasks"))
    assert cfg.dask.address == "tcp://10.0.0.5:8786"
    assert cfg.dask.connect_timeout == 3
    assert cfg.scheduler.default_execution == "dask"
    assert cfg.scheduler.dask == cfg.dask  # what the engine reads


def test_the_environment_overrides_the_dask_table(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tui-sched.toml").write_text('[dask]\naddress = "local"\nn_workers = 3\n')
    monkeypatch.setenv("TUI_SCHED_DASK_ADDRESS", "tcp://sched:8786")
    cfg = load_config(str(tmp_path / "tasks"))
    assert cfg.dask.address == "tcp://sched:8786"
    assert cfg.dask.n_workers == 3


def test_an_unknown_dask_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "tui-sched.toml").write_text('[dask]\nadress = "tcp://x:8786"\n')
    with pytest.raises(ConfigError, match=r"unknown configuration key 'dask\.adress'.*"
                                          r"did you mean 'dask\.address'"):
        load_config(str(tmp_path / "tasks"))
