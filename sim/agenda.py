"""The model's agenda: incident events in one heap, woken by one Mesa event at a time.

Every reported incident has three moments (its call reaches the dispatcher, the officer
arrives, the officer clears) and a year of the default city has about 200,000 of them. Each
as its own Mesa :class:`~mesa.time.Event` costs two weak references, an object and a heap of
Python-level comparisons; here they are plain tuples ``(hour, sequence, callback)`` in a heap
of their own, and the Mesa event list holds one *wake-up* event at the earliest of them.

When the wake-up fires it runs the agenda's entries in order, setting ``model.time`` to each
entry's time as Mesa does, for as long as they come before the next event on Mesa's list
(the hourly step, or anything else scheduled there) and within the horizon of the current
``run_until`` / ``step``; then it schedules the next wake-up. The order is exactly the one
Mesa would give the same events: by time, then in the order they were scheduled (Mesa's
``unique_id``), with the step (``Priority.HIGH``) first at equal times.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mesa import Model


class Agenda:
    """A heap of one-off callbacks run inside a Mesa model's own event loop.

    Args:
        model: The Mesa model whose clock (``model.time``) and event list it uses.
        horizon: Returns the time up to which the model is being advanced now.
    """

    def __init__(self, model: Model, horizon: Callable[[], float]) -> None:
        self.model = model
        self.horizon = horizon
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wakes: list[float] = []  # times of the wake-up events on Mesa's list
        self._running = False
        #: Entries run so far (for benchmarks: the events Mesa no longer sees).
        self.executed = 0

    def __len__(self) -> int:
        return len(self._heap)

    def at(self, callback: Callable[[], None], time: float) -> None:
        """Run ``callback`` at ``time`` (the model's time unit).

        Raises:
            ValueError: If ``time`` is in the past (as :meth:`mesa.Model.schedule_event`).
        """
        if time < self.model.time:
            raise ValueError(f"Cannot schedule event in the past. Scheduled time is {time}, "
                             f"but current time is {self.model.time}")
        heapq.heappush(self._heap, (time, next(self._seq), callback))
        if not self._running and (not self._wakes or time < self._wakes[0]):
            self._wake_at(time)

    def _wake_at(self, time: float) -> None:
        heapq.heappush(self._wakes, time)
        self.model.schedule_event(self._wake, at=time)

    def _wake(self) -> None:
        """A wake-up event: run the entries due before anything else on Mesa's list."""
        heapq.heappop(self._wakes)
        model, heap = self.model, self._heap
        until = self.horizon()
        self._running = True
        try:
            while heap:
                t = heap[0][0]
                if t > until or t >= self._next_mesa_time():
                    break
                _, _, callback = heapq.heappop(heap)
                model.time = t
                self.executed += 1
                callback()
        finally:
            self._running = False
        if heap and (not self._wakes or heap[0][0] < self._wakes[0]):
            self._wake_at(heap[0][0])

    def _next_mesa_time(self) -> float:
        """Time of the next live event on the model's Mesa event list (inf if none).

        Mesa offers no O(1) peek, so this reads the top of its heap (``EventList._events``)
        and falls back to the public ``peek_ahead`` only when that top was cancelled.
        """
        events = self.model._event_list._events
        if not events:
            return math.inf
        if not events[0].CANCELED:
            return events[0].time
        try:
            return self.model._event_list.peek_ahead(1)[0].time
        except IndexError:
            return math.inf
