"""Postings: the places a strategy can post officers to, and how it asks for them.

:class:`Postings` is the part of :class:`sim.model.PoliceModel` that strategies use to build
assignments (an HQ, station or community posting with its patrol area), to read an officer's
posting, and to add patrol areas of their own (grids). It reads only the city layout, the
force and the patrol areas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agents.enums import Tier
from agents.officers import Assignment

if TYPE_CHECKING:
    from agents.officers import Officers
    from sim.city import CityLayout
    from sim.patrol import PatrolAreas


class Postings:
    """Posting helpers for strategies (mixed into the model)."""

    layout: CityLayout
    force: Officers
    patrol: PatrolAreas

    def hq_assignment(self) -> Assignment:
        """An HQ posting: patrols the whole city."""
        return Assignment(Tier.HQ, self.layout.hq_cell, -1, -1, 0)

    def station_assignment(self, precinct: int) -> Assignment:
        """A station posting in ``precinct``: patrols the precinct."""
        return Assignment(Tier.STATION, int(self.layout.station_cells[precinct]), precinct, -1,
                          1 + precinct)

    def community_assignment(self, community: int) -> Assignment:
        """A community-post posting: patrols the community."""
        lay = self.layout
        return Assignment(Tier.COMMUNITY, int(lay.community_post_cells[community]),
                          int(lay.precinct_of_community[community]), community,
                          1 + lay.n_precincts + community)

    def communities_by_population(self) -> np.ndarray:
        """Community ids ordered by population, largest first (ties by id)."""
        pop = np.bincount(self.layout.community, weights=self.layout.population,
                          minlength=self.layout.n_communities)
        return np.lexsort((np.arange(pop.size), -pop))

    def assignment_of(self, i: int) -> Assignment:
        """Officer ``i``'s current posting."""
        return self.force.posting(i)

    @property
    def patrol_areas(self) -> list[np.ndarray]:
        """Patrol areas: 0 = the whole city, then one per precinct, one per community, ..."""
        return self.patrol.areas

    def set_patrol_areas(self, areas: list[np.ndarray]) -> None:
        """Replace the patrol areas (officers keep their area ids; only the cells change)."""
        self.patrol.install(areas)

    def add_patrol_areas(self, areas: list[np.ndarray]) -> int:
        """Add patrol areas (e.g. grids); return the id of the first new one."""
        return self.patrol.add(areas)
