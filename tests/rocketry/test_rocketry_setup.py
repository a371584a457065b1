"""Issue 20 item 6: ``@app.setup`` hooks with ``Config``/``TaskLogger``/``EnvArg``
arguments, from Rocketry's documented examples with only the import changed."""

from __future__ import annotations

from typing import Any

import pytest
from harness import EngineRunner
from rocketry_docs import run_example

from tui_sched import Rocketry
from tui_sched.engine.events import EngineError
from tui_sched.errors import ConfigError
from tui_sched.rocketry import ReadOnlyRepo
from tui_sched.store.base import Outcome


def test_a_setup_hook_gets_the_config_before_tasks_run() -> None:
    # docs/cookbook/settings.rst
    ns = run_example('''
        from rocketry import Rocketry
        from rocketry.args import Config

        app = Rocketry()

        @app.setup()
        def set_config(config=Config()):
            config.silence_task_prerun = True
            config.silence_task_logging = True
            config.silence_cond_check = True
    ''')
    app = ns["app"]
    seen: list[Any] = []

    @app.setup()
    def set_more(config: Any = ns["Config"]()) -> None:
        seen.append(config.silence_cond_check)
        config.execution = "main"
        config.timeout = "5 minutes"

    with EngineRunner(app.session) as r:
        r.sync()
        assert app.session.default_execution == "main"
        assert app.session.config.silence_task_prerun is True
        app.task("daily", func=print, name="later")
        assert app.session["later"].timeout == 300
        assert r.engine.ready.is_set()
    assert seen == [True]


def test_setup_hooks_with_env_arg_and_a_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    # docs/cookbook/settings.rst (the parts that do not use redbird)
    monkeypatch.setenv("ENV", "prod")
    app = Rocketry(state_dir=None)
    ns = run_example('''
        from rocketry.args import TaskLogger, Config, EnvArg, Session

        @app.setup()
        def set_config(config=Config(), env=EnvArg("ENV", default="dev")):
            if env == "prod":
                config.silence_task_prerun = True
                config.silence_task_logging = True
                config.silence_cond_check = True
            else:
                config.silence_task_prerun = False
                config.silence_task_logging = False
                config.silence_cond_check = False
    ''', app=app)
    order: list[str] = []

    @app.setup()
    def setup_app() -> Any:
        # Run before startup tasks and cache is set
        order.append("before")
        yield
        # Run after startup tasks and cache is set
        order.append("after")

    @app.setup
    def set_repo(logger: Any = ns["TaskLogger"]()) -> None:
        order.append(logger.logger.name)
        with pytest.raises(ReadOnlyRepo, match="attach a logging handler"):
            logger.set_repo(object())

    with EngineRunner(app.session) as r:
        r.sync()
    assert app.session.config.silence_cond_check is True
    assert order == ["before", "rocketry.task", "after"]


def test_a_failing_setup_hook_is_reported_and_the_scheduler_carries_on() -> None:
    app = Rocketry(state_dir=None)

    @app.setup()
    def broken(config: Any = __import__("tui_sched").args.Config()) -> None:
        config.max_process_count = 3  # a setting of the scheduler itself: refused

    @app.task("daily", execution="main")
    def work() -> None:
        pass

    with EngineRunner(app.session) as r:
        [run] = r.finished("work")
        [error] = r.wait_for(lambda e: isinstance(e, EngineError))
    assert run.outcome is Outcome.SUCCESS
    assert isinstance(error, EngineError)
    assert "setup hook broken failed: ConfigError: session option max_process_count" in error.message
    with pytest.raises(ConfigError, match="did you mean 'multilaunch'"):
        app.session.config.multilanch = True
