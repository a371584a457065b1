"""The steps of the engine's shutdown that concern runs and executors.

Stopping is graceful by default: runs in progress get ``shutdown_timeout`` to finish on
their own (each one that ends is committed at once, so a run that finished is never lost
to a later kill), and only then is what is left terminated. A second stop request forces
the stop, so the wait must wake on it as well as on a run's end. The engine keeps the
order of the steps and its own state (``Engine._shutdown``); these are the waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tui_sched.engine.active import ActiveRun
from tui_sched.executors import Executor


async def wait_for_runs(running: Mapping[int, ActiveRun], wake: asyncio.Event,
                        timeout: float, forced: Callable[[], bool],
                        flush: Callable[[], None]) -> None:
    """Wait until the runs in ``running`` have finished, at most ``timeout`` seconds.

    Args:
        running: The runs in progress (the engine removes each as it finishes).
        wake: Set when another thread asks something of the engine (e.g. a second stop).
        timeout: The longest to wait.
        forced: Re-arms ``wake`` and says whether the stop has been forced meanwhile
            (then the wait ends at once).
        flush: Commits the history (after each wake-up: a run may have ended).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while running and loop.time() < deadline:
        if forced():
            break
        waiter: asyncio.Future[Any] = asyncio.ensure_future(wake.wait())
        futures: set[asyncio.Future[Any]] = {
            a.future for a in running.values() if a.future is not None}
        await asyncio.wait({waiter, *futures}, timeout=deadline - loop.time(),
                           return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        flush()


async def terminate_runs(running: Mapping[int, ActiveRun], reason: str) -> None:
    """Terminate every run in progress for ``reason`` and wait until each has ended."""
    for active in list(running.values()):
        active.job.terminate(reason)
    pending = [a.future for a in running.values() if a.future is not None]
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


async def close_executors(executors: Iterable[Executor],
                          report: Callable[[str], None]) -> None:
    """Close every executor; one that fails to close is reported (from inside the
    ``except``, so ``report`` can take the traceback) and the others are still closed."""
    for executor in executors:
        try:
            await executor.aclose()
        except Exception as exc:
            report(f"closing an executor failed: {exc}")
