"""An open incident as the dispatcher handles it: a small object, free of Mesa.

Its Mesa agent on the map is :class:`agents.incident.Incident`, which reads it. It lives in a
module of its own so that the dispatcher (and everything that imports its ``[dispatch]``
section, such as scenario validation) does not import Mesa.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.dispatch import Dispatcher


class Case:
    """An open incident as the dispatcher handles it.

    Attributes:
        row: Id of this incident in the model's incident log (``model.log.get(field, row)``).
        priority: Index of the incident's class in the scenario's priority order
            (``incidents.class_order``; 0 is served first).
        cell_index: Flat index of the cell where it happened.
        officer: The officer assigned, or None while waiting in the queue.
        t_eta: Minute at which the assigned officer will arrive (set on dispatch).
        t_due: Minute at which the on-scene work ends (set on arrival).
    """

    __slots__ = ("cell_index", "dispatcher", "officer", "priority", "row", "t_due", "t_eta")

    def __init__(self, dispatcher: Dispatcher, row: int, priority: int,
                 cell_index: int) -> None:
        self.dispatcher = dispatcher
        self.row = row
        self.priority = priority
        self.cell_index = cell_index
        self.officer: int | None = None
        self.t_eta = float("nan")
        self.t_due = float("nan")

    @property
    def waiting(self) -> bool:
        """Whether the incident is still waiting for an officer."""
        return self.officer is None

    def arrive(self) -> None:
        """Event: the assigned officer reaches the scene."""
        self.dispatcher.on_arrival(self)

    def clear(self) -> None:
        """Event: the officer finishes on scene."""
        self.dispatcher.on_clear(self)

    def __repr__(self) -> str:
        return f"Case({self.row}, class={self.priority}, cell={self.cell_index})"
