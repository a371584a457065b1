"""The control protocol: typed messages, one JSON document per line, encoded by msgspec.

A connection starts with the client's ``Hello`` (its protocol ``version``); the server
answers ``Welcome`` or, on a version mismatch, ``Rejected`` and closes. ``Hello``,
``Welcome`` and ``Rejected`` keep their shape in every version, so two versions can
always tell each other that they differ. Then the client sends ``Request``s (each
answered by a ``Reply`` with the same ``id``); a client that said ``subscribe`` also
receives ``Events`` batches, ``SnapshotPush``es and ``Progress``, and a ``Resync`` when
it fell behind and messages were dropped for it.

A subscriber keeps the task table itself: a full snapshot comes when it subscribes, after
a ``Resync``, when something other than runs changed, and every few seconds; between
them it applies the run events to its rows (``engine.snapshot.apply_runs``) and each
second's ``Progress`` (the time, and the next wake-ups of the tasks that ran). Every event
has a sequence number, and a snapshot says the last event it already shows, so events
are applied once, whatever order the two arrive in.

Newline-delimited JSON: msgspec escapes every newline inside strings, so a line is a
message, asyncio's ``StreamReader.readline`` frames it, and ``socat`` can read it.
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from tui_sched.conditions.base import Condition
from tui_sched.conditions.explain import Explanation
from tui_sched.engine import events as ev
from tui_sched.engine.snapshot import Facts, Snapshot, TaskDetail, TaskRow
from tui_sched.engine.why import Why
from tui_sched.store.base import RunRecord

PROTOCOL_VERSION = 2
"""Bumped on any change a peer of the previous version would misread."""

SOCKET_FILE = "control.sock"
"""The socket's name inside the state folder."""

MAX_LINE = 64 * 1024 * 1024
"""Longest message accepted (a snapshot of many thousand tasks is a few MB)."""


class _Message(msgspec.Struct, tag_field="type", forbid_unknown_fields=False):
    """Base of every message (tagged by ``type``; unknown fields are ignored so that a
    newer peer may add optional ones)."""


# -- the handshake (stable across versions) ---------------------------------------------
class Hello(_Message, tag="hello"):
    """The client's first line."""

    version: int
    client: str = ""
    subscribe: bool = False


class Welcome(_Message, tag="welcome"):
    """The server accepts: who it is."""

    version: int
    pid: int
    state_dir: str
    engine_state: str = "stopped"


class Rejected(_Message, tag="rejected"):
    """The server refuses the connection (version mismatch, peer not allowed)."""

    version: int
    message: str


# -- commands ----------------------------------------------------------------------------
class Force(_Message, tag="force"):
    """Run ``task`` at the next tick (``session[task].force_run = True``)."""

    task: str


class Disable(_Message, tag="disable"):
    """Disable ``task`` (persisted)."""

    task: str


class Enable(_Message, tag="enable"):
    """Enable ``task`` (persisted)."""

    task: str


class Terminate(_Message, tag="terminate"):
    """Terminate the runs of ``task`` in progress."""

    task: str


class Restart(_Message, tag="restart"):
    """Stop, reload every module, reopen the store, start (``session.restart()``)."""


class Shutdown(_Message, tag="shutdown"):
    """Stop the scheduler (``force``: terminate running runs at once)."""

    force: bool = False


class GetSnapshot(_Message, tag="snapshot"):
    """The scheduler now (``selected``: whose condition to explain)."""

    selected: str | None = None


class GetHistory(_Message, tag="history"):
    """A page of runs, newest first (``task=None``: every task)."""

    task: str | None = None
    limit: int = 100
    before_id: int | None = None


class Explain(_Message, tag="explain"):
    """``task``'s condition as a tree of nodes with their current truth."""

    task: str


class GetDetail(_Message, tag="detail"):
    """What the task detail screen shows besides the history."""

    task: str


Command = (Force | Disable | Enable | Terminate | Restart | Shutdown | GetSnapshot | GetHistory
           | Explain | GetDetail)


class Request(_Message, tag="request"):
    """A command; answered by the ``Reply`` with the same ``id``."""

    id: int
    command: Command


# -- results -----------------------------------------------------------------------------
class WireExplanation(_Message, tag="explanation"):
    """``conditions.explain.Explanation`` without the condition object."""

    text: str
    truth: bool
    next_change: float | None
    children: list[WireExplanation]
    error: str | None = None


class WireSnapshot(_Message, tag="snapshot"):
    """``engine.snapshot.Snapshot`` with its time zone as a name (see ``zone_name``)."""

    at: float
    tz: str
    facts: Facts
    rows: list[TaskRow]
    selected: str | None
    explanation: WireExplanation | None
    why: Why = Why()
    seq: int = 0
    """The last event it shows (run events numbered up to this one are in its rows)."""


class HistoryPage(_Message, tag="history"):
    """Runs, newest first."""

    runs: list[RunRecord]


class WireDetail(_Message, tag="detail"):
    """``engine.snapshot.TaskDetail`` as sent."""

    name: str
    options: list[tuple[str, str]]
    explanation: WireExplanation | None
    tz: str
    at: float
    why: Why = Why()


Result = WireSnapshot | HistoryPage | WireExplanation | WireDetail


class Reply(_Message, tag="reply"):
    """The answer to a ``Request``. ``error_kind`` is ``unknown_task``, ``not_running``
    (the engine is restarting or stopping), ``timeout`` or ``bad_request``."""

    id: int
    ok: bool
    result: Result | None = None
    error: str | None = None
    error_kind: str | None = None
    suggestions: list[str] = []


# -- the stream a subscriber receives ------------------------------------------------------
class WireEvent(msgspec.Struct, array_like=True):
    """An engine event: its class name and its fields (sent: the event itself, which
    msgspec encodes as an object of its fields; received: that object as a dict)."""

    kind: str
    data: Any


class Events(_Message, tag="events"):
    """Bus events in the order published (a batch of up to ~100 ms), numbered from
    ``seq`` on: the i-th has number ``seq + i``."""

    events: list[WireEvent]
    seq: int = 0


class SnapshotPush(_Message, tag="snapshot_push"):
    """A whole fresh snapshot (see the module docstring for when)."""

    snapshot: WireSnapshot


class Progress(_Message, tag="progress"):
    """Once a second between snapshots: the scheduler's time ``at``, and the next wake-up
    of each task that started or ended a run since the last one (``None``: none)."""

    at: float
    wakes: dict[str, float | None]


class Resync(_Message, tag="resync"):
    """The client fell behind: ``dropped`` messages were dropped; a snapshot follows."""

    dropped: int


class Goodbye(_Message, tag="goodbye"):
    """The server is closing the connection (the scheduler stops, or drops the client)."""

    reason: str


ClientMessage = Hello | Request
ServerMessage = Welcome | Rejected | Reply | Events | SnapshotPush | Progress | Resync | Goodbye

_encoder = msgspec.json.Encoder()
_client_decoder = msgspec.json.Decoder(ClientMessage)
_server_decoder = msgspec.json.Decoder(ServerMessage)


def encode(message: _Message) -> bytes:
    """One line: the message as JSON and a newline."""
    return _encoder.encode(message) + b"\n"


def decode_client(line: bytes) -> ClientMessage:
    """A client's line (raises ``msgspec.ValidationError``/``DecodeError``)."""
    return _client_decoder.decode(line)


def decode_server(line: bytes) -> ServerMessage:
    """A server's line (raises ``msgspec.ValidationError``/``DecodeError``)."""
    return _server_decoder.decode(line)


# -- conversions to and from the in-process values -------------------------------------------
def zone_name(tz: tzinfo) -> str:
    """An IANA key (``Europe/Berlin``), or a fixed offset as ``+HH:MM``."""
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = tz.utcoffset(None) or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone(name: str) -> tzinfo:
    """The inverse of ``zone_name`` (UTC for a name this machine does not know)."""
    if name[:1] in "+-" and len(name) == 6:
        minutes = int(name[1:3]) * 60 + int(name[4:6])
        return timezone(timedelta(minutes=-minutes if name[0] == "-" else minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def wire_explanation(e: Explanation) -> WireExplanation:
    """The tree, without the condition objects (they stay in the scheduler)."""
    return WireExplanation(e.text, e.truth, e.next_change,
                           [wire_explanation(c) for c in e.children], e.error)


def wire_snapshot(s: Snapshot, seq: int = 0) -> WireSnapshot:
    """A snapshot as sent (``seq``: the last event it shows)."""
    return WireSnapshot(s.at, zone_name(s.tz), s.facts, list(s.rows), s.selected,
                        None if s.explanation is None else wire_explanation(s.explanation),
                        s.why, seq)


def wire_event(e: ev.Event) -> WireEvent:
    """An event as sent (encoding it raises ``TypeError`` for a field msgspec cannot
    encode)."""
    return WireEvent(type(e).__name__, e)


def _event_classes(base: type[ev.Event] = ev.Event,
                   found: dict[str, type[ev.Event]] | None = None) -> dict[str, type[ev.Event]]:
    found = {} if found is None else found
    # First come, first kept: ``@value`` gives each class a same-named helper subclass
    # (``<building>``) that must never be what an event is decoded into.
    if "<" not in base.__qualname__:
        found.setdefault(base.__name__, base)
    for sub in base.__subclasses__():
        _event_classes(sub, found)
    return found


_known_events: dict[str, type[ev.Event]] = {}


def event_of(w: WireEvent) -> ev.Event | None:
    """The event again (``None`` for a kind this process does not know: a newer server's,
    or one from a module not imported here)."""
    cls = _known_events.get(w.kind)
    if cls is None:  # look again: event classes of modules imported since count too
        _known_events.update(_event_classes())
        cls = _known_events.get(w.kind)
    if cls is None:
        return None
    try:
        return msgspec.convert(w.data, cls)
    except msgspec.ValidationError:
        return None


def explanation_of(w: WireExplanation) -> Explanation:
    """The tree as the UI's widgets take it. Its ``condition`` is ``None``: the condition
    objects stay in the scheduler, and the widgets only read the texts and truths."""
    return Explanation(w.text, w.truth, w.next_change, tuple(explanation_of(c) for c in w.children),
                       cast(Condition, None), w.error)


def snapshot_of(w: WireSnapshot) -> Snapshot:
    """The in-process ``Snapshot`` again (what the embedded UI's bridge delivers)."""
    return Snapshot(w.at, zone(w.tz), w.facts, tuple(w.rows), w.selected,
                    None if w.explanation is None else explanation_of(w.explanation), w.why)


def wire_detail(d: TaskDetail) -> WireDetail:
    """A task detail as sent."""
    return WireDetail(d.name, [tuple(o) for o in d.options],  # type: ignore[misc]
                      None if d.explanation is None else wire_explanation(d.explanation),
                      zone_name(d.tz), d.at, d.why)


def detail_of(w: WireDetail) -> TaskDetail:
    """The in-process ``TaskDetail`` again."""
    return TaskDetail(w.name, tuple(w.options),
                      None if w.explanation is None else explanation_of(w.explanation), zone(w.tz), w.at,
                      w.why)
