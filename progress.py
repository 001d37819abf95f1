"""Progress of long stages (load, embed, segments, fit-demand, train-pricing): a rich
display on a terminal, plain lines in logs and pipes.

A leaf module (it imports no other part of pricegraph), so that every layer that runs a
long stage reports it the same way.

:class:`LinePrinter` is a rich :class:`~rich.progress.Progress` that draws nothing and
prints a line when a task starts (stages of ``total=1`` say ``started``), at most
every ``every_s`` seconds while it advances, and when it completes::

    transactions.csv (events) read: started
    transactions.csv (events) read: done in 12 s
    transactions.csv (events) checked: started
    transactions.csv (events) checked: done in 29 s
    transactions.csv (events): 500000/1459877 (34.2 %), 52000/s, 10 s, about 18 s left
    embedding t_products: 4096/92000 (4.5 %), 61/s, 67 s, about 1440 s left
    macro: PPO: started
    macro: PPO: done in 95 s

Tasks added together (a list of stages) are announced one at a time: the next one
when the one before completes. A task without a total (an open list of steps, e.g.
the recommenders ``train-gnn`` compares) prints a line at each new description::

    comparing recommenders: started
    comparing recommenders: popularity
    comparing recommenders: ease
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class LinePrinter(Progress):
    """Plain progress lines (module docstring).

    Args:
        stream: Where lines go (default: standard error, read at each line).
        every_s: Least seconds between two lines of one task.
        clock: Seconds, monotonic (tests pass a fake).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(disable=True)
        self._stream = stream
        self.every_s, self._clock = every_s, clock
        self._started: dict[TaskID, float] = {}
        self._last: dict[TaskID, float] = {}
        self._finished: set[TaskID] = set()
        self._order: list[TaskID] = []
        self._said: dict[TaskID, str] = {}

    def add_task(self, description: str, *args: Any, **kwargs: Any) -> TaskID:
        """Add a task; announce it unless an earlier one is still running."""
        task = super().add_task(description, *args, **kwargs)
        self._order.append(task)
        self._announce_next()
        return task

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        """Advance a task and say so when due."""
        super().advance(task_id, advance)
        self._moved(task_id)

    def update(self, task_id: TaskID, *args: Any, **kwargs: Any) -> None:
        """Update a task (``completed=``, ``total=``, ...) and say so when due."""
        super().update(task_id, *args, **kwargs)
        self._moved(task_id)

    def _announce_next(self) -> None:
        """Start the waiting tasks in order while none is running (one with nothing to
        do is done at once, so the next one starts too)."""
        for task_id in self._order:
            if task_id in self._started:
                if task_id not in self._finished:
                    return
                continue
            self._start(task_id)
            if task_id not in self._finished:
                return

    def _start(self, task_id: TaskID) -> None:
        self._started[task_id] = self._last[task_id] = self._clock()
        task = self._tasks[task_id]
        self._said[task_id] = task.description
        if task.total in (None, 1):
            print(f"{task.description}: started", file=self._stream or sys.stderr, flush=True)
        else:
            self._say(task_id)
        if task.total == 0:  # nothing to do: done at once
            self._finished.add(task_id)

    def _moved(self, task_id: TaskID) -> None:
        if task_id in self._finished:
            return
        if task_id not in self._started:
            self._start(task_id)
        task = self._tasks[task_id]
        now = self._clock()
        if task.total is not None and task.completed >= task.total:
            self._finished.add(task_id)
            self._say(task_id)
            self._announce_next()
        elif task.total is None and task.description != self._said.get(task_id):
            self._said[task_id] = task.description
            self._last[task_id] = now
            print(task.description, file=self._stream or sys.stderr, flush=True)
        elif now - self._last[task_id] >= self.every_s:
            self._last[task_id] = now
            self._say(task_id)

    def _say(self, task_id: TaskID) -> None:
        task = self._tasks[task_id]
        elapsed = self._clock() - self._started[task_id]
        total = int(task.total or 0)
        if total == 1:
            line = f"{task.description}: done in {elapsed:.0f} s"
        else:
            line = f"{task.description}: {int(task.completed)}/{total}"
            if total:
                line += f" ({100 * task.completed / total:.1f} %)"
            if elapsed > 0 and task.completed:
                rate = task.completed / elapsed
                line += f", {rate:.0f}/s, {elapsed:.0f} s"
                if total > task.completed:
                    line += f", about {(total - task.completed) / rate:.0f} s left"
        print(line, file=self._stream or sys.stderr, flush=True)


def new_progress(is_terminal: bool | None = None) -> Progress:
    """A rich progress display on a terminal, else a :class:`LinePrinter`.

    Args:
        is_terminal: Whether output goes to a terminal (default: whether standard
            output is one).
    """
    if is_terminal is None:
        is_terminal = sys.stdout.isatty()
    if not is_terminal:
        return LinePrinter()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )


__all__ = ["LinePrinter", "new_progress"]
