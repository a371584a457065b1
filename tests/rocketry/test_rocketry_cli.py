"""A Rocketry script is also a task module: ``tui-sched run`` keeps what its own session
declared (startup tasks, setup hooks, ``shut_cond``, the task logger) when it merges it
into the folder's session."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cli_process import Headless


@pytest.mark.slow
def test_tui_sched_run_honours_a_rocketry_modules_declarations(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "rocketry_app.py").write_text(textwrap.dedent('''
        import logging
        from tui_sched import Rocketry
        from tui_sched.args import Config
        from tui_sched.conds import scheduler_cycles

        app = Rocketry(shut_cond=scheduler_cycles(more_than=3))

        class Echo(logging.Handler):
            def emit(self, record):
                print(f"record {record.task_name} {record.action}", flush=True)

        logging.getLogger("rocketry.task").addHandler(Echo())

        @app.setup()
        def set_config(config=Config()):
            print(f"setup saw logger {config.task_logger_basename}", flush=True)

        @app.task(on_startup=True, execution="main")
        def warm_up():
            print("warming up", flush=True)

        if __name__ == "__main__":
            app.run()
    '''))
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("setup saw logger rocketry.task")
        proc.expect("warming up")
        proc.expect("record warm_up success")
        assert proc.wait() == 0  # shut_cond stopped it
    finally:
        proc.kill()
