"""Watch the tasks folder with watchfiles on a thread of its own.

The watcher only reports *which* paths changed, in batches (watchfiles groups a burst of
events: it yields once nothing new arrived for ``step_ms``, or after ``debounce_ms`` of
continuous changes). Events that arrive while a batch is being handled are buffered by
watchfiles and come as the next batch, so a slow reload never loses a save.

Editors save in several ways; all end up as "this path changed" and the reloader looks
at the file as it is when the batch is handled:

* write in place: ``modified``;
* write a temp file then rename it over the module (vim, VS Code, JetBrains): the temp
  name is ignored, the module shows up as ``added``;
* delete then create: ``deleted`` + ``added`` in one batch, or two batches.

With ``force_polling`` (or ``WATCHFILES_FORCE_POLLING``) the precise poller of
``poller.py`` replaces watchfiles.

watchfiles' loop wakes every ``step_ms`` to look for changes; between batches the watcher
leaves it and sleeps on a ``WakeGate`` (inotify) until something under the folder
changes, so an idle folder costs no wake-ups (Linux; elsewhere watchfiles' rhythm).

If the folder does not exist, or disappears (its OS watches die with it; watchfiles
would wait forever, so the watcher checks the folder's identity each time watchfiles
returns, at least every ``_RUST_TIMEOUT_MS``), the watcher says so, leaves the loaded
tasks alone and waits for the folder to come back, then asks for a full rescan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from contextlib import closing
from pathlib import Path

import watchfiles

from tui_sched.reload.loader import is_module_name, is_skipped_dir
from tui_sched.reload.poller import poll, polling_wanted
from tui_sched.reload.settings import ReloadSettings
from tui_sched.reload.wakegate import WakeGate

#: How long watchfiles may wait in Rust before handing control back; its first return
#: (even empty) tells us the OS watches are in place, so the watcher is "ready".
_RUST_TIMEOUT_MS = 200
#: Pause before watching again after an unexpected error (e.g. too many inotify watches).
_ERROR_BACKOFF = 2.0

#: Editor droppings that look like neither hidden files nor temp suffixes (vim's 4913).
_EDITOR_NAMES = frozenset({"4913"})


class ChangeFilter:
    """The watchfiles filter: ``*.py`` task modules and folders (a folder moved in or out
    carries modules with it); never hidden entries, ``__pycache__`` or editor temp files."""

    def __init__(self, root: Path, known_dirs: Callable[[], frozenset[str]]) -> None:
        self._root = str(root)
        self._known_dirs = known_dirs

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if not path.startswith(self._root):
            return False
        parts = Path(path[len(self._root):].lstrip("/")).parts
        if not parts or any(is_skipped_dir(p) for p in parts[:-1]):
            return False
        name = parts[-1]
        if name in _EDITOR_NAMES or is_skipped_dir(name) or name.startswith(("#", "~")):
            return False
        if name.endswith(".py"):
            return is_module_name(name)
        if change == watchfiles.Change.deleted:
            return path in self._known_dirs()
        return Path(path).is_dir()


class FolderWatcher:
    """Runs ``watchfiles.watch`` on a daemon thread and hands over batches of paths.

    Args:
        root: The folder (absolute).
        settings: Debounce, step and polling settings.
        on_batch: Called on the watcher thread with the changed paths; ``None`` asks for
            a full rescan (after the folder came back, or once watching has begun, to
            catch changes made before the watches were in place).
        on_status: Called with a state (``watching``, ``missing``, ``error``,
            ``stopped``) and a message.
        known_dirs: The folders that currently hold loaded modules (so that a deleted
            folder is noticed).
    """

    def __init__(self, root: Path, settings: ReloadSettings,
                 on_batch: Callable[[set[Path] | None], None],
                 on_status: Callable[[str, str], None],
                 known_dirs: Callable[[], frozenset[str]]) -> None:
        self.root = root
        self._settings = settings
        self._on_batch = on_batch
        self._on_status = on_status
        self._filter = ChangeFilter(root, known_dirs)
        self._stop = threading.Event()
        self._gate: WakeGate | None = None
        self._thread = threading.Thread(target=self._run, name="tui-sched-watcher", daemon=True)

    def start(self) -> None:
        """Start watching (returns at once)."""
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> bool:
        """Stop watching; ``True`` once the thread has ended (it may be finishing a
        reload, bounded by the import timeout)."""
        self._stop.set()
        gate = self._gate
        if gate is not None:
            gate.interrupt()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        """Whether the watcher thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        missing_reported = False
        while not self._stop.is_set():
            if not self.root.is_dir():
                if not missing_reported:
                    self._on_status("missing", f"the tasks folder {self.root} does not exist; "
                                    "its tasks keep running; waiting for it to appear")
                    missing_reported = True
                self._stop.wait(self._settings.missing_poll)
                continue
            missing_reported = False
            try:
                self._watch()
            except Exception as exc:  # watching failed: report, back off, try again
                self._on_status("error", f"watching {self.root} failed: {exc}; retrying")
                self._stop.wait(_ERROR_BACKOFF)
        self._on_status("stopped", f"stopped watching {self.root}")

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = self.root.stat()
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _changes(self) -> Generator[set[Path]]:
        """Batches of changed paths (empty: nothing yet) from watchfiles or the poller."""
        s = self._settings
        if polling_wanted(s.force_polling):
            yield from poll(self.root, delay=s.poll_delay_ms / 1000, debounce=s.debounce_ms / 1000,
                            stop=self._stop)
            return
        for changes in watchfiles.watch(
                self.root, watch_filter=self._filter, debounce=s.debounce_ms, step=s.step_ms,
                stop_event=self._stop, rust_timeout=_RUST_TIMEOUT_MS, yield_on_timeout=True,
                raise_interrupt=False, force_polling=s.force_polling,
                poll_delay_ms=s.poll_delay_ms, recursive=True):
            yield {Path(path) for _, path in changes}

    def _watch(self) -> None:
        try:
            self._follow()
        finally:
            gate, self._gate = self._gate, None
            if gate is not None:
                gate.close()

    def _follow(self) -> None:
        polling = polling_wanted(self._settings.force_polling)
        ready = False
        identity = self._identity()
        with closing(self._changes()) as batches:
            for paths in batches:
                if not ready:
                    ready = True
                    # The OS watches are in place. The gate's go in next (after
                    # watchfiles', which are the ones kept where inotify runs short) and
                    # before the catch-up rescan, so any change from then on wakes it.
                    if not polling:
                        self._gate = WakeGate.open(self.root)
                    # Catch up on what changed before the watches were in place, then say
                    # so: "watching" means up to date and following changes.
                    self._on_batch(None)
                    how = "polling" if polling else "watching"
                    self._on_status("watching", f"{how} {self.root} for changes")
                if self._identity() != identity:
                    # The folder was removed (or replaced): the OS watches died with it and
                    # watchfiles would wait forever. Start over; _run reports it missing.
                    return
                if paths:
                    self._on_batch(paths)
                elif self._gate is not None and not self._stop.is_set() and not self._gate.wait():
                    return  # stopped while idle
