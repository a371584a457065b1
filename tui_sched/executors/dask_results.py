"""The results of ``dask`` runs, fetched many per request.

Awaiting a distributed future fetches its result with a request of its own (client to
scheduler, scheduler to worker, and back). Here a run waits until its future has
finished, which costs no request (the scheduler reports finished keys to the client
anyway), then joins the next ``gather``: one at a time is under way, and the runs that
finish meanwhile are fetched together by the one after it. With 1,000 short runs in
flight on a 2-worker LocalCluster that took 17 % of the engine thread's CPU per run and
9 % of the dask scheduler's (``bench/dask_bench.py``; see ``bench/README.md``).

A future that did not finish well, or whose batch could not be fetched, is awaited on
its own, as before, so that its error is its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

_Waiter = asyncio.Future[tuple[Any] | None]


class BatchedResults:
    """Fetches the results of one client's futures, many per request.

    Args:
        client: The connected asynchronous client the futures belong to.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self._ready: list[tuple[Any, _Waiter]] = []
        self._gathering: asyncio.Task[None] | None = None

    async def result(self, future: Any) -> Any:
        """What ``await future`` gives: its result, or its error raised."""
        # What dask's own ``wait`` and ``as_completed`` await (no request is made); a
        # private attribute, so a dask without it gets the plain way.
        finished = getattr(getattr(future, "_state", None), "wait", None)
        if finished is None:
            return await future
        while future.status == "pending":
            await finished()
        if future.status == "finished":
            waiter: _Waiter = asyncio.get_running_loop().create_future()
            self._ready.append((future, waiter))
            if self._gathering is None:
                self._gather_next()
            got = await waiter
            if got is not None:
                return got[0]
        return await future  # its error (at once), or a result the batch could not fetch

    def _gather_next(self, _: object = None) -> None:
        self._gathering = None
        batch = [(future, waiter) for future, waiter in self._ready if not waiter.done()]
        self._ready = []
        if batch:
            self._gathering = asyncio.ensure_future(self._gather(batch))
            self._gathering.add_done_callback(self._gather_next)

    async def _gather(self, batch: list[tuple[Any, _Waiter]]) -> None:
        try:
            values = await self.client.gather([future for future, _ in batch])
        except (Exception, asyncio.CancelledError):
            # (dask's FutureCancelledError is a CancelledError: a run terminated while
            # its batch was being fetched.) Each run finds out on its own what went wrong.
            values = None
        for i, (_, waiter) in enumerate(batch):
            if not waiter.done():  # (not terminated meanwhile)
                waiter.set_result(None if values is None else (values[i],))
