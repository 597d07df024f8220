"""Incidents known to the police: Mesa agents that sit on their cell while open.

The full life of every incident, reported or not, is a row of the model's incident log; an
:class:`Incident` agent exists only from the moment the call reaches the dispatcher until the
incident is cleared, so the map shows exactly the waiting and active incidents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from sim.model import PoliceModel


class Incident(FixedAgent):
    """An open incident.

    Attributes:
        row: Id of this incident in the model's incident log (``model.log.get(field, row)``).
        priority: Index of the incident's class in the scenario's priority order
            (``incidents.class_order``; 0 is served first).
        cell_index: Flat index of the cell where it happened.
        officer: The officer assigned, or None while waiting in the queue.
        t_eta: Minute at which the assigned officer will arrive (set on dispatch).
        t_due: Minute at which the on-scene work ends (set on arrival).
    """

    def __init__(self, model: PoliceModel, cell: Cell, row: int, priority: int,
                 cell_index: int) -> None:
        super().__init__(model)
        self.cell = cell
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
        self.model.dispatcher.on_arrival(self)

    def clear(self) -> None:
        """Event: the officer finishes on scene."""
        self.model.dispatcher.on_clear(self)

    def __repr__(self) -> str:
        return f"Incident({self.row}, class={self.priority}, cell={self.cell_index})"
