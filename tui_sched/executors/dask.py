"""``dask`` executor: runs on a dask.distributed cluster (``pip install 'tui-sched[dask]'``).

tui-sched decides *when* (conditions, retries, history); dask decides *where*. Each run
is one dask task (``pure=False``: equal calls are separate runs) that calls
``dask_worker.run_remote`` with the task's reference, so the function itself is never
pickled. The engine never waits on the cluster: connecting, submitting and awaiting go
through the distributed client's asyncio API on the engine's loop; the results of runs
that finish together come back in one request (``dask_results``).

Faults: a timeout or termination cancels the dask future and records ``terminate`` (a
Python call already running on a worker thread cannot be interrupted: it runs to its end
there, and its result is dropped). A worker that dies mid-run gives ``crash``. A
scheduler that cannot be reached fails the runs that wait for it, with the reason, and
is reported once as an engine problem.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from tui_sched.config import DaskSettings
from tui_sched.executors.base import Executor, Job, JobResult, race, stopped_result
from tui_sched.executors.dask_results import BatchedResults
from tui_sched.executors.process import reference
from tui_sched.store.base import Outcome
from tui_sched.tasks.targets import CommandTarget

INSTALL_HINT = ("execution='dask' needs dask.distributed, which is not installed: "
                "pip install 'tui-sched[dask]'")

#: Client states after which it will not reconnect by itself.
_GONE = frozenset({"closing", "closed", "failed"})

#: Seconds closing the client or the local cluster may take at shutdown.
_CLOSE_TIMEOUT = 10.0


def missing_extra() -> str | None:
    """Why ``execution="dask"`` cannot work here (the extra is missing), or ``None``."""
    try:
        found = importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):
        found = False
    return None if found else INSTALL_HINT


class DaskExecutor(Executor):
    """Runs jobs on the dask cluster of ``settings``, connected at the first run.

    Args:
        settings: Where the cluster is (``local``: one started here, stopped at close).
        report: Told about problems that are not one run's (an unreachable scheduler).
        tail_chars: Characters of output a worker sends back per run.
    """

    def __init__(self, settings: DaskSettings | None = None,
                 report: Callable[[str], None] | None = None, tail_chars: int = 65536) -> None:
        self.settings = settings or DaskSettings()
        self._report = report
        self._tail_chars = tail_chars
        self._client: Any = None
        self._cluster: Any = None
        self._connecting: asyncio.Future[Any] | None = None
        self._unreachable = False  # reported once per streak of failed connections
        self._live: set[Any] = set()
        self._results: BatchedResults | None = None  # of the current client

    async def execute(self, job: Job) -> JobResult:
        if job.stop_reason is not None:
            return JobResult.terminated(job.stop_reason)
        if missing_extra() is not None:
            return JobResult(Outcome.FAIL, None, INSTALL_HINT)
        submitted: list[Any] = []
        # One race over connecting, submitting and the result: the run's timeout and
        # ``t`` count from its start, whatever part of its life it is in.
        work = asyncio.ensure_future(self._run(job, submitted))
        try:
            how = await race(job, work)
            if how == "done":
                return work.result()
            work.cancel()
            if submitted:
                await self._cancel(submitted[0])
            return stopped_result(job, how)
        finally:
            for future in submitted:
                self._live.discard(future)

    async def _run(self, job: Job, submitted: list[Any]) -> JobResult:
        try:
            client = await self._connected()
        except Exception as exc:
            return self._unreachable_result(exc)
        from tui_sched.executors.dask_isolate import run_command, run_isolated
        from tui_sched.executors.dask_worker import run_remote

        try:
            target = job.target
            if isinstance(target, CommandTarget):  # a child process of the worker, always
                call: tuple[Any, ...] = (run_command, target.command, self._tail_chars, job.grace)
            else:
                args = (reference(job), job.kwargs, self._tail_chars)
                call = (run_isolated, *args, job.grace) if job.isolate else (run_remote, *args)
            future = client.submit(
                *call,
                pure=False,
                key=f"tui-sched-{job.task}-{job.run_id}-{secrets.token_hex(4)}",
                resources=job.resources)
        except Exception as exc:  # arguments that do not pickle, a closed client
            return JobResult(Outcome.FAIL, None, f"the run could not be sent to dask: {exc}")
        submitted.append(future)
        self._live.add(future)
        results = self._results
        if results is None or results.client is not client:
            results = self._results = BatchedResults(client)
        return await self._outcome(job, results.result(future))

    async def _outcome(self, job: Job, result: Awaitable[Any]) -> JobResult:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        try:
            outcome, value, error, trace, chunks, ran_for = await result
        except KilledWorker as exc:
            return JobResult(Outcome.CRASH, None, f"the dask worker running it died ({exc})")
        except FutureCancelledError as exc:  # not by us: the scheduler or the connection lost it
            reason = str(exc).split("\n")[0]
            return JobResult(Outcome.CRASH, None, f"dask lost the run ({reason})")
        except Exception as exc:  # dask's error, not the task's (those come back as data)
            return JobResult(Outcome.FAIL, None, f"dask could not run it: {type(exc).__name__}: {exc}")
        for stream, text in chunks:
            job.sink.write(stream, text)
        # ``ran_for``: the history's start is when the call began on the worker, after
        # whatever time the run waited in dask's queue.
        return JobResult(Outcome(outcome), value, error, trace, None, ran_for).with_summary()

    async def _cancel(self, future: Any) -> None:
        try:
            await asyncio.wait_for(future.client.cancel([future], force=True), _CLOSE_TIMEOUT)
        except Exception:  # nothing more to do: the run is recorded as terminated anyway
            pass

    async def _connected(self) -> Any:
        """The client, connected (or the local cluster started) by the first run that
        needs it. The runs that arrive meanwhile wait for the same attempt, which a run
        that is terminated while it waits leaves to the others (``shield``)."""
        client = self._client
        if client is not None and client.status in _GONE:
            # It lost the scheduler for good: connect afresh (the scheduler may be back).
            self._client = None
            await _quietly(client.close(), 2.0)
        if self._client is not None:
            return self._client
        connecting = self._connecting
        if connecting is None:
            connecting = self._connecting = asyncio.ensure_future(self._connect())
            # Retrieved even if every run waiting for it was terminated meanwhile.
            connecting.add_done_callback(lambda t: t.cancelled() or t.exception())
        try:
            client = await asyncio.shield(connecting)
        except asyncio.CancelledError:
            raise
        except BaseException:
            if self._connecting is connecting:
                self._connecting = None  # the next run tries again
            raise
        if self._connecting is connecting:
            self._connecting = None
            self._client = client
        self._unreachable = False
        return client

    async def _connect(self) -> Any:
        from distributed import Client

        settings = self.settings
        target: Any = settings.address
        if target == "local" and self._cluster is None:
            self._cluster = await _start_local(settings)
        if target == "local":
            target = self._cluster
        client = Client(target, asynchronous=True,  # type: ignore[no-untyped-call]
                        timeout=settings.connect_timeout, set_as_default=False)
        try:
            await asyncio.wait_for(client, settings.connect_timeout + 5)
        except BaseException:
            await _quietly(client.close(), 2.0)  # type: ignore[no-untyped-call]
            raise
        return client

    def _unreachable_result(self, exc: BaseException) -> JobResult:
        reason = (f"the dask scheduler at {self.settings.address} could not be reached "
                  f"({type(exc).__name__}: {exc}); check [dask] address")
        if not self._unreachable:
            self._unreachable = True
            if self._report is not None:
                self._report(reason)
        return JobResult(Outcome.FAIL, None, reason)

    @property
    def cluster(self) -> str | None:
        """``dask tcp://host:8786, 2 workers, 2 threads, http://host:8787/status`` once
        connected, else ``None`` (the header's cluster line; the client's cached view,
        refreshed by dask every few seconds, so it costs no request)."""
        client = self._client
        if client is None:
            return None
        try:
            info = client.scheduler_info() or {}
            workers = info.get("n_workers", len(info.get("workers", {})))
            threads = info.get("total_threads", 0)
            link = client.dashboard_link if "dashboard" in info.get("services", {}) else ""
        except Exception:  # (closing, or a dask that keeps this elsewhere)
            return None
        address = info.get("address") or self.settings.address
        return (f"dask {address}, {workers} workers, {threads} threads"
                + (f", {link}" if link else ""))

    async def aclose(self) -> None:
        connecting = self._connecting
        if connecting is not None and not connecting.done():
            if self.settings.address == "local":
                # A local cluster being started is let finish (then closed below):
                # cancelled half-way, it could leave its worker processes behind.
                await _quietly(asyncio.shield(connecting), _CLOSE_TIMEOUT)
            else:
                connecting.cancel()  # a scheduler that does not answer holds nothing up
            if connecting.done() and not connecting.cancelled() and connecting.exception() is None:
                self._client = self._client or connecting.result()
        client, cluster = self._client, self._cluster
        self._client = self._cluster = self._connecting = None
        if client is not None:
            if self._live:
                await _quietly(client.cancel(list(self._live), force=True), _CLOSE_TIMEOUT)
            await _quietly(client.close(), _CLOSE_TIMEOUT)
        if cluster is not None:
            await _quietly(cluster.close(), _CLOSE_TIMEOUT)


async def _start_local(settings: DaskSettings) -> Any:
    """A LocalCluster of worker processes. Its scheduler gives up on a run at the first
    worker death (dask's default retries it on another worker, which would run the task
    twice): the run is a ``crash``, and the task's retry policy decides."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        return await LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=settings.n_workers, threads_per_worker=settings.threads_per_worker,
            processes=True, asynchronous=True, dashboard_address=settings.dashboard_address)


async def _quietly(awaitable: Any, timeout: float) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout)
    except Exception:  # closing: nothing more to do
        pass
