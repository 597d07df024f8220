"""Incidents known to the police: the dispatcher's cases and their Mesa agents on the map.

The full life of every incident, reported or not, is a row of the model's incident log. From
the moment its call reaches the dispatcher until it is cleared an incident is also an open
:class:`Case` (what the dispatcher queues, assigns and clears: a small object, the target of
the incident's arrival and clearance events). Whenever the model can be observed (after
``step``, ``run_until`` or ``run_for``, and before the daily data collection and the
strategy's daily decisions) every open case has an :class:`Incident` Mesa agent on its cell
and no closed one has, so ``model.agents_by_type[Incident]`` and the map show exactly the
waiting and active incidents (:meth:`sim.model.PoliceModel.sync_views`). Most incidents open
and close within the hour, so they never cost a Mesa agent at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

from agents.case import Case

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from sim.model import PoliceModel

__all__ = ["Case", "Incident"]


class Incident(FixedAgent):
    """The Mesa agent of an open incident, on its cell; it reads its :class:`Case`.

    Args:
        model: The model.
        cell: The incident's cell.
        case: The dispatcher's case.
    """

    def __init__(self, model: PoliceModel, cell: Cell, case: Case) -> None:
        super().__init__(model)
        self.cell = cell
        self.case = case

    @property
    def row(self) -> int:
        """Id of the incident in the model's incident log."""
        return self.case.row

    @property
    def priority(self) -> int:
        """Index of the incident's class in the priority order (0 is served first)."""
        return self.case.priority

    @property
    def cell_index(self) -> int:
        """Flat index of the incident's cell."""
        return self.case.cell_index

    @property
    def officer(self) -> int | None:
        """The officer assigned (an index of the force), or None while waiting."""
        return self.case.officer

    @property
    def t_eta(self) -> float:
        """Minute at which the assigned officer will arrive (NaN while waiting)."""
        return self.case.t_eta

    @property
    def t_due(self) -> float:
        """Minute at which the on-scene work ends (NaN before arrival)."""
        return self.case.t_due

    @property
    def waiting(self) -> bool:
        """Whether the incident is still waiting for an officer."""
        return self.case.waiting

    def __repr__(self) -> str:
        return f"Incident({self.row}, class={self.priority}, cell={self.cell_index})"
