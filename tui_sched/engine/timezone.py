"""Find the session time zone: configured, ``TZ``, or the system's.

A zone is an IANA name (``Europe/Berlin``), a zoneinfo file (``TZ=:/etc/localtime``) or a
POSIX TZ string (``CET-1CEST,M3.5.0,M10.5.0/3``, as embedded systems and some
containers set ``TZ``). A value that is none of these is an error that says so: a
scheduler that silently ran in UTC would start every daily task at the wrong hour.
"""

from __future__ import annotations

import io
import os
import struct
from datetime import UTC, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui_sched.errors import ConfigError

_EXAMPLES = "an IANA name such as 'Europe/Berlin' or a POSIX TZ string such as " \
            "'CET-1CEST,M3.5.0,M10.5.0/3'"


def resolve_timezone(name: str | None = None) -> tzinfo:
    """The zone called ``name``; else ``$TZ``; else the system zone; else UTC.

    Raises:
        ConfigError: If ``name`` (or, without it, ``$TZ``) names no zone.
    """
    if name:
        zone = parse_timezone(name)
        if zone is None:
            raise ConfigError(f"unknown time zone {name!r} (use {_EXAMPLES})")
        return zone
    env = os.environ.get("TZ", "")
    if env:
        zone = parse_timezone(env)
        if zone is None:
            raise ConfigError(f"the TZ environment variable ({env!r}) is not a time zone: "
                              f"set it to {_EXAMPLES}, unset it to use the system zone, "
                              "or set [scheduler] timezone in tui-sched.toml")
        return zone
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
        return UTC  # no zone configured anywhere: UTC, as the C library does


def parse_timezone(text: str) -> tzinfo | None:
    """The zone ``text`` names (an IANA name, a zoneinfo file path with or without a
    leading ``:``, or a POSIX TZ string), or ``None``.

    >>> parse_timezone("CET-1CEST,M3.5.0,M10.5.0/3")
    zoneinfo.ZoneInfo(key='CET-1CEST,M3.5.0,M10.5.0/3')
    """
    spec = text.strip().removeprefix(":")
    if not spec:
        return None
    if spec.startswith("/"):
        return _from_path(Path(spec))
    try:
        return ZoneInfo(spec)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    return posix_zone(spec)


def _from_path(path: Path) -> tzinfo | None:
    if "zoneinfo/" in str(path):  # keep the zone's name (shown in the UI) when it has one
        try:
            return ZoneInfo(str(path).split("zoneinfo/", 1)[1])
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    try:
        with path.open("rb") as f:
            return ZoneInfo.from_file(f, key=str(path))
    except (OSError, ValueError):
        return None


def posix_zone(spec: str) -> tzinfo | None:
    """A POSIX TZ string as a zone, or ``None`` if it is not one.

    The standard library evaluates such strings as the rule a zoneinfo (TZif) file
    follows after its last transition. A TZif file with no transitions at all is
    therefore exactly the POSIX zone, for every instant, with the DST behaviour of
    PEP 495 (``fold``) that the conditions rely on; ``zoneinfo`` also validates it.
    """
    if not spec.isascii() or any(c.isspace() for c in spec):
        return None
    try:
        return ZoneInfo.from_file(io.BytesIO(_tzif_with_only_a_rule(spec)), key=spec)
    except ValueError:
        return None


def _tzif_with_only_a_rule(spec: str) -> bytes:
    # RFC 8536: a version 2 header and data block (repeated: once for 32-bit readers,
    # once for 64-bit ones), with no transitions and one placeholder local time type,
    # then the footer that holds the POSIX TZ string.
    counts = struct.pack(">6l", 0, 0, 0, 0, 1, 4)  # isut, isstd, leap, time, type, char
    header = b"TZif2" + bytes(15) + counts
    data = struct.pack(">lBB", 0, 0, 0) + b"UTC\0"
    return header + data + header + data + b"\n" + spec.encode() + b"\n"
