"""Residents as Mesa agents: thin views on the vectorised :class:`sim.residents.Residents`.

The state of all residents lives in numpy arrays so that daily updates are vectorised; a
:class:`Resident` agent reads its own entry, so ``model.agents_by_type[Resident]`` works as
in any Mesa model (e.g. ``agg("trust", np.mean)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import CellAgent

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from sim.model import PoliceModel


class Resident(CellAgent):
    """One resident (standing for population/agents persons).

    Args:
        model: The model.
        index: Row of this resident in ``model.residents``.
        cell: Home cell.
    """

    def __init__(self, model: PoliceModel, index: int, cell: Cell) -> None:
        super().__init__(model)
        self.index = index
        self.cell = cell

    @property
    def satisfaction(self) -> float:
        """Satisfaction with the police, 0..1."""
        return float(self.model.residents.satisfaction[self.index])

    @property
    def trust(self) -> float:
        """Trust in the police, 0..1."""
        return float(self.model.residents.trust[self.index])

    @property
    def familiarity(self) -> float:
        """Familiarity with the community officer, 0..1."""
        return float(self.model.residents.familiarity[self.index])

    @property
    def community(self) -> int:
        """Home community."""
        return int(self.model.residents.community[self.index])
