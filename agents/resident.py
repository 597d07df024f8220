"""Residents as Mesa agents: thin views on the vectorised :class:`agents.residents.Residents`.

The state of all residents lives in numpy arrays so that daily updates are vectorised, and the
model never reads a resident agent. A :class:`Resident` agent reads its own entry; the model's
``resident_agents`` (a :class:`ResidentViews`) creates each one the first time it is read, so a
run with 100,000 residents does not pay for 100,000 Mesa agents nobody looks at. Once created,
a view is registered with the model like any Mesa agent (``model.agents``,
``model.agents_by_type[Resident]``); :meth:`ResidentViews.agent_set` creates them all and
returns them as a Mesa :class:`~mesa.agentset.AgentSet` (e.g. ``.agg("trust", np.mean)``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, overload

from mesa.agentset import AgentSet
from mesa.discrete_space import CellAgent

if TYPE_CHECKING:
    import numpy as np
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


class ResidentViews(Sequence[Resident]):
    """Every resident as a Mesa agent, each created on first access and cached.

    ``views[i]`` is the :class:`Resident` of row ``i`` of ``model.residents``, on its home
    cell. Unique ids are reserved for all residents when the sequence is made, so resident
    ``i`` always has id ``first_id + i`` and the agents created later (incidents) get the ids
    they would get if every resident agent existed: creating views changes no id and no
    result. ``model.agents`` holds the views created so far.

    Args:
        model: The model (its ``agent_id_counter`` is advanced past the reserved ids).
        home: Home cell of each resident (flat index).
        cells: The model's cells by flat index.
    """

    def __init__(self, model: PoliceModel, home: np.ndarray, cells: Sequence[Cell]) -> None:
        self._model = model
        self._home = home
        self._cells = cells
        self._views: dict[int, Resident] = {}
        self.first_id: int = model.agent_id_counter
        model.agent_id_counter += int(home.size)

    def __len__(self) -> int:
        return int(self._home.size)

    @overload
    def __getitem__(self, i: int) -> Resident: ...

    @overload
    def __getitem__(self, i: slice) -> list[Resident]: ...

    def __getitem__(self, i: int | slice) -> Resident | list[Resident]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self)
        k = int(i) + n if i < 0 else int(i)
        if not 0 <= k < n:
            raise IndexError(f"resident {i} out of range (0..{n - 1})")
        view = self._views.get(k)
        if view is None:
            view = self._views[k] = self._create(k)
        return view

    def __iter__(self) -> Iterator[Resident]:
        for k in range(len(self)):
            yield self[k]

    def _create(self, k: int) -> Resident:
        model = self._model
        counter = model.agent_id_counter
        model.agent_id_counter = self.first_id + k  # Mesa numbers agents from this counter
        try:
            return Resident(model, k, self._cells[int(self._home[k])])
        finally:
            model.agent_id_counter = counter

    @property
    def created(self) -> int:
        """How many views exist so far."""
        return len(self._views)

    def agent_set(self) -> AgentSet:
        """Create every view and return them all, in row order, as a Mesa agent set."""
        return AgentSet(list(self), random=self._model.random)
