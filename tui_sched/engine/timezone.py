"""Find the session time zone: configured, ``TZ``, or the system's."""

from __future__ import annotations

import os
from datetime import UTC, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui_sched.errors import ConfigError


def resolve_timezone(name: str | None = None) -> tzinfo:
    """The zone called ``name``; else ``$TZ``; else the system zone; else UTC.

    Raises:
        ConfigError: If ``name`` is not a known IANA zone.
    """
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"unknown time zone {name!r} (use an IANA name such as "
                              "'Europe/Berlin')") from None
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    # /etc/localtime is a symlink into the zoneinfo tree on most systems.
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    try:
        return ZoneInfo(Path("/etc/timezone").read_text().strip())
    except (OSError, ZoneInfoNotFoundError, ValueError):
        return UTC
