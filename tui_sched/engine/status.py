"""The in-memory status index status conditions read (never a history scan)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from tui_sched.conditions.context import RECENT_RUNS, RecentRun, TaskStatus
from tui_sched.conditions.status import Compare, HasStatus, Retry
from tui_sched.store.base import Outcome, RunStore, TaskSummary

if TYPE_CHECKING:
    from tui_sched.tasks.task import Task


def counted_tasks(tasks: Iterable[Task]) -> set[str]:
    """The tasks whose runs a condition of ``tasks`` counts or scans (``has failed
    today < 2``, ``has succeeded in past 1 hour``, ``retry(n)``)."""
    counted: set[str] = set()
    for task in tasks:
        stack = [c for c in (task.start_cond, task.options.end_cond) if c is not None]
        while stack:
            node = stack.pop()
            if isinstance(node, HasStatus):
                counted.add(node.task or task.name)
            elif isinstance(node, Retry):
                counted.add(task.name)
            elif isinstance(node, Compare):
                stack.append(node.item)  # its children() leaves the counted item out
            stack.extend(node.children())
    return counted


class StatusIndex:
    """Per-task run facts, updated by the engine on every start and finish.

    Attributes:
        status: The status of a task (created empty on first use), as
            ``StatusView.status``. It is the index's own dict lookup, a call into C:
            conditions read it two or three times per run.
    """

    def __init__(self) -> None:
        self._by_task: defaultdict[str, TaskStatus] = defaultdict(TaskStatus)
        self.status: Callable[[str], TaskStatus] = self._by_task.__getitem__
        self._counted: set[str] = set()

    def with_history(self) -> list[str]:
        """The tasks that have started or ended a run (statuses are also made ahead of
        any run, e.g. at start-up)."""
        return [name for name, st in self._by_task.items()
                if st.last_start is not None or st.last_end]

    def load_from(self, store: RunStore, tasks: Iterable[Task]) -> None:
        """Rebuild from the store at start-up: the latest times (so ``daily`` does not
        rerun after a restart) and the runs that conditions of ``tasks`` count."""
        self.load(store.summaries())
        self.count_runs_for(store, tasks)

    def count_runs_for(self, store: RunStore, tasks: Iterable[Task]) -> None:
        """Make sure every task whose runs a condition of ``tasks`` counts holds its
        latest finished runs from before this start too (so that ``has failed today < 2``
        and ``retry(n)`` still count them). Called at start-up and whenever the session's
        tasks change: a task created, changed or reloaded at run time may count runs no
        condition counted at start-up."""
        new = counted_tasks(tasks) - self._counted
        if not new:
            return
        self._counted |= new
        for task, stored in store.recent_runs(RECENT_RUNS, sorted(new)).items():
            recent = self.status(task).recent
            # Runs that ended since the start are in memory already, and some of them in
            # the store as well (its writer lags behind): keep each once, in order.
            in_store = Counter(stored)
            since_start: list[RecentRun] = []
            for run in recent:
                if in_store[run] > 0:
                    in_store[run] -= 1
                else:
                    since_start.append(run)
            recent.clear()
            recent.extend(stored)
            recent.extend(since_start)

    def load(self, summaries: list[TaskSummary]) -> None:
        """Rebuild the latest times from the store's summaries."""
        for s in summaries:
            st = self.status(s.task)
            st.last_start = s.last_start
            st.last_end = dict(s.last_end)

    def started(self, task: str, at: float) -> None:
        """Record a run start."""
        st = self._by_task[task]
        st.last_start = at if st.last_start is None else max(st.last_start, at)
        st.running.append(at)

    def finished(self, task: str, start: float, end: float, outcome: Outcome) -> None:
        """Record a run end (``start`` identifies which running run ended)."""
        st = self._by_task[task]
        try:
            st.running.remove(start)
        except ValueError:
            pass
        prev = st.last_end.get(outcome)
        st.last_end[outcome] = end if prev is None else max(prev, end)
        st.recent.append((start, end, outcome._value_))  # see RecentRun; not the slow .value

    def recorded(self, task: str, at: float, outcome: Outcome) -> None:
        """Record a run that never ran (``missed``/``skipped``)."""
        st = self.status(task)
        prev = st.last_end.get(outcome)
        st.last_end[outcome] = at if prev is None else max(prev, at)
