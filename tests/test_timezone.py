"""The session time zone from config or ``TZ``: IANA names, zoneinfo paths and POSIX TZ
strings; anything else is an error, never a silent UTC (issue 17 item 14)."""

from __future__ import annotations

import json
import signal
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cli_process import Headless, cli

from tui_sched.engine.timezone import resolve_timezone
from tui_sched.errors import ConfigError

BERLIN_POSIX = "CET-1CEST,M3.5.0,M10.5.0/3"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("tz", "key"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        (":Europe/Berlin", "Europe/Berlin"),
        (":/usr/share/zoneinfo/America/New_York", "America/New_York"),
        (BERLIN_POSIX, BERLIN_POSIX),
        ("<+0330>-3:30", "<+0330>-3:30"),
    ],
)
def test_tz_forms(tz: str, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if tz.startswith(":/") and not Path(tz[1:]).exists():
        pytest.skip("no system zoneinfo tree")
    monkeypatch.setenv("TZ", tz)
    assert str(resolve_timezone()) == key


@pytest.mark.parametrize("tz", ["Europe/Berln", "CET-1CEST,M3.5.0", "garbage", "ABC3DEF"])
def test_a_tz_that_names_no_zone_is_an_error_not_utc(
    tz: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", tz)
    with pytest.raises(ConfigError, match=r"the TZ environment variable .* is not a time zone"):
        resolve_timezone()
    # The configured zone wins over TZ, so configuring one is a way out.
    assert str(resolve_timezone("Europe/Berlin")) == "Europe/Berlin"


def test_a_configured_posix_string_works_and_a_bad_name_says_what_is_expected() -> None:
    assert str(resolve_timezone(BERLIN_POSIX)) == BERLIN_POSIX
    with pytest.raises(ConfigError, match="POSIX TZ string such as"):
        resolve_timezone("Mars/Olympus")


@pytest.mark.slow
def test_history_is_shown_in_the_zone_of_a_posix_tz(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "once.py").write_text(
        "from tui_sched import App\napp = App()\n\n"
        "@app.task('daily')\ndef once():\n    pass\n")
    monkeypatch.setenv("TZ", BERLIN_POSIX)
    proc = Headless("tasks", cwd=tmp_path)
    try:
        proc.expect("once: success")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.kill()
    result = cli("history", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    start = datetime.fromisoformat(row["start"])
    assert start.utcoffset() == start.astimezone(BERLIN).utcoffset()  # not +00:00
