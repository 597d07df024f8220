"""Officers: Mesa agents whose state is held in the model's :class:`sim.force.Force` arrays.

An officer has a tier (HQ, station, community), a post, is sworn or auxiliary, has a skill and
equipment (vehicle or foot), and moves through the states of :class:`OfficerState`. Reading an
attribute of an :class:`Officer` reads the force arrays, so the agent view and the vectorised
dispatch never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import CellAgent

from agents.enums import OfficerState, Tier

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from sim.model import PoliceModel


class Officer(CellAgent):
    """One police officer (or auxiliary).

    Args:
        model: The model.
        index: Position of the officer in the force arrays.
        cell: Starting cell (the post).
    """

    def __init__(self, model: PoliceModel, index: int, cell: Cell) -> None:
        super().__init__(model)
        self.index = index
        self.cell = cell

    @property
    def _force(self):
        return self.model.force

    @property
    def tier(self) -> Tier:
        """HQ, station or community."""
        return Tier(int(self._force.tier[self.index]))

    @property
    def state(self) -> OfficerState:
        """Current state."""
        return OfficerState(int(self._force.state[self.index]))

    @property
    def sworn(self) -> bool:
        """False for auxiliary or civilian staff."""
        return bool(self._force.sworn[self.index])

    @property
    def vehicle(self) -> bool:
        """True if the officer drives, False on foot."""
        return bool(self._force.vehicle[self.index])

    @property
    def skill(self) -> float:
        """Skill on a 0..1 scale."""
        return float(self._force.skill[self.index])

    @property
    def post_cell(self) -> int:
        """Flat index of the officer's post."""
        return int(self._force.post_cell[self.index])

    @property
    def on_duty(self) -> bool:
        """Whether the officer is working now."""
        return bool(self._force.on_duty[self.index])

    def __repr__(self) -> str:
        return f"Officer({self.unique_id}, {self.tier.name}, {self.state.name})"
