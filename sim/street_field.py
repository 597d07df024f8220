"""Travel fields over a snapped street network: cars at the streets' speeds, walkers both ways.

Distances are *effective metres*: metres at :data:`REFERENCE_KPH`, so a car takes
``effective metres * CAR_MIN_PER_M`` minutes (``length / speed`` on every edge). Dispatch asks
who of several units gets to a cell first (:meth:`NetworkField.nearest_times`, one search that
stops at the nearest, :mod:`sim.street_search`); whole fields and one unit's trips come from
Dijkstra searches over the whole graph (the reversed graph towards a target), cached per node.
Built by :mod:`sim.streets`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from sim.osm import FIELD
from sim.travel import CACHE_BYTES, DistanceField

WHOLE_BYTES = 64 * 2**20
"""Networks whose used nodes' all-pairs table fits in this many bytes cache every target."""
WHOLE_AFTER = 3
"""Single-unit trips to a target before it gets a whole, cached search (:meth:`target_one`)."""

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from sim.street_search import SearchGraph

REFERENCE_KPH = 30.0
"""Effective metres are metres at this speed."""
CAR_MIN_PER_M = 60.0 / (1000.0 * REFERENCE_KPH)
"""Minutes a car takes per effective metre."""


class NetworkField(DistanceField):
    """Cell-to-cell distances over a snapped network.

    A cell's distance to another is the snap offset of each plus the shortest path between
    their nodes, summed as ``(path + source offset) + target offset`` everywhere.

    Args:
        matrix: Node adjacency (effective metres), row = from, column = to.
        directed: Whether ``matrix`` is not symmetric (one-way streets).
        node_of_cell: Nearest node of every cell.
        offset: Distance (in the field's units) from every cell centre to its node.
        xy: The nodes' coordinates (metres), if known: the nearest-unit search then heads
            towards the units (an A* search, :mod:`sim.street_search`).
    """

    searches_nearest = True

    def __init__(self, matrix: csr_matrix, directed: bool, node_of_cell: np.ndarray,
                 offset: np.ndarray, xy: np.ndarray | None = None) -> None:
        self._init_cache(node_of_cell.size)
        self.directed = directed
        self._matrix = matrix
        self._matrix_t = matrix.T.tocsr() if directed else matrix
        self.node_of_cell = np.asarray(node_of_cell, np.int64)
        self.offset = np.asarray(offset, np.float64)
        self._used, self._slot = np.unique(node_of_cell, return_inverse=True)
        # whole searches from (False) or towards (True) a used node, over the used nodes
        self._searches: dict[bool, OrderedDict[int, np.ndarray]] = {False: OrderedDict(),
                                                                     True: OrderedDict()}
        self._bytes = 0
        # On a small network every target's whole search is kept (each searched once).
        self._whole = self._used.size ** 2 * 8 <= WHOLE_BYTES
        self._asked = np.zeros(self._used.size, dtype=np.int64)  # target_one's queries
        self._xy = xy
        self._graph: SearchGraph | None = None  # the reversed graph, for nearest_times

    def prepare(self) -> None:
        """Get the nearest-unit search ready (its graph, its compiled code: part of a build)."""
        if self._graph is None:
            from sim.street_search import SearchGraph

            self._graph = SearchGraph(self._matrix_t, self._xy)
            self._graph.nearest_minutes(0, 0.0, np.zeros(1, np.int64), np.zeros(1),
                                        np.zeros(1, bool), np.zeros(1), np.ones(1))
            self._warm()

    def _warm(self) -> None:
        """Compile (or load) :meth:`unit_minutes`' code: one officer at the target itself."""
        if self.walk is None or getattr(self.walk, "_graph", None) is not None:
            one = np.zeros(1, np.int64)
            self.unit_minutes(0, one, one, np.zeros(1), np.ones(1), np.ones(1, bool), 1.0)

    def nearest_times(self, target: int, sources: np.ndarray, turnout: np.ndarray,
                      per_m: np.ndarray, best: float = np.inf) -> np.ndarray:
        """Minutes of units at ``sources`` to reach ``target``; ``inf`` if they cannot be first.

        Each unit takes ``turnout + distance * per_m`` minutes; the search stops once no unit
        still unreached can beat the fastest (or ``best``, a time another unit achieves), so
        the fastest and every unit as fast are exact, bit for bit (:mod:`sim.street_search`).

        Args:
            target: Flat index of the destination cell.
            sources: Flat indices of the units' cells.
            turnout: Minutes before each unit sets off.
            per_m: Minutes per effective metre of each unit.
            best: Units slower than this need not be searched for.

        Returns:
            Minutes, one per unit.
        """
        self.prepare()
        assert self._graph is not None
        return self._graph.nearest_minutes(
            int(self.node_of_cell[target]), float(self.offset[target]),
            self.node_of_cell[sources], self.offset[sources], sources == target, turnout,
            per_m, best)

    def unit_minutes(self, target: int, pos: np.ndarray, idx: np.ndarray,
                     turnout: np.ndarray, min_per_m: np.ndarray, vehicle: np.ndarray,
                     speed: float) -> np.ndarray:
        """Minutes of officers ``idx`` at cells ``pos`` to reach ``target``; ``inf`` if not first.

        :meth:`nearest_times` for a force of cars and walkers in one compiled call
        (:func:`sim.street_search.officer_minutes`): cars go at ``car_min_per_m / speed`` (their
        own pace ``/ speed`` without street speeds); with a walking field (:attr:`walk`) foot
        officers walk it, searched only as far as the fastest car.

        Args:
            target: Flat index of the destination cell.
            pos: Flat indices of the officers' cells.
            idx: Officer indices into ``turnout``, ``min_per_m`` and ``vehicle``.
            turnout: Every officer's minutes before setting off.
            min_per_m: Every officer's own minutes per metre.
            vehicle: Whether each officer drives.
            speed: The hour's speed multiplier for cars.

        Returns:
            Minutes, one per officer of ``idx``.
        """
        from sim.street_search import officer_minutes

        self.prepare()
        walk = self.walk
        if walk is not None:
            if not isinstance(walk, NetworkField):
                raise TypeError("a street network's walking field must be a NetworkField")
            walk.prepare()
        assert self._graph is not None
        return officer_minutes(
            self._graph, self.node_of_cell, self.offset, walk._graph if walk else None,
            (walk or self).node_of_cell, (walk or self).offset, target, pos, idx, turnout,
            min_per_m, vehicle, self.car_min_per_m, speed)

    def target_one(self, target: int, source: int) -> float:
        """Exact distance from ``source`` to ``target`` (:meth:`to_target` for one source).

        A target asked for again and again (a post units drive back to) gets one whole
        search, cached, as does every target on a small network; otherwise one search stops
        at the source (:meth:`nearest_times`). All give the same distance.
        """
        if source == target:
            return 0.0
        slot = int(self._slot[target])
        field = self._searches[self.directed].get(slot)
        if field is None and not (self._whole or self._asked[slot] >= WHOLE_AFTER):
            self._asked[slot] += 1
            return float(self.nearest_times(target, np.array([source]), np.zeros(1),
                                            np.ones(1))[0])
        by_node = self._search(slot, backward=True)[self._slot[source]]
        return float(by_node + self.offset[source]) + float(self.offset[target])

    def _search(self, slot: int, backward: bool) -> np.ndarray:
        """Whole search from (or towards) the node of ``slot``, over the used nodes (cached).

        The cache keeps the most recently used searches within :data:`~sim.travel.CACHE_BYTES`.
        """
        from scipy.sparse.csgraph import dijkstra

        cache = self._searches[backward and self.directed]
        field = cache.get(slot)
        if field is not None:
            cache.move_to_end(slot)
            return field
        matrix = self._matrix_t if backward else self._matrix
        field = dijkstra(matrix, directed=True, indices=int(self._used[slot]))[self._used]
        cache[slot] = field
        self._bytes += field.nbytes
        while self._bytes > CACHE_BYTES and len(cache) > 1:
            self._bytes -= cache.popitem(last=False)[1].nbytes
        return field

    def _cells(self, cell: int, others: np.ndarray, backward: bool) -> np.ndarray:
        """Distances between ``cell`` and ``others`` (from ``cell``, or towards it)."""
        by_node = self._search(int(self._slot[cell]), backward)[self._slot[others]]
        out = by_node + self.offset[others] + self.offset[cell]
        return np.where(others == cell, 0.0, out)

    def compute(self, source: int) -> np.ndarray:
        """Snap distance + shortest path from the source's node + snap distance."""
        return self._cells(source, np.arange(self.n_cells), backward=False)

    def compute_to(self, target: int) -> np.ndarray:
        """Distances from every cell to ``target`` (a search on the reversed graph)."""
        return self._cells(target, np.arange(self.n_cells), backward=True)

    def to_cells(self, source: int, targets: np.ndarray) -> np.ndarray:
        """Distance from ``source`` to ``targets`` only."""
        return self._cells(int(source), np.asarray(targets), backward=False)

    def to_target(self, target: int, sources: np.ndarray) -> np.ndarray:
        """Distance from each of ``sources`` to ``target`` (one-way streets count).

        Args:
            target: Flat index of the destination cell.
            sources: Flat indices of the starting cells.

        Returns:
            Effective metres, one per source.
        """
        return self._cells(int(target), np.asarray(sources), backward=True)


class GraphTravelField(NetworkField):
    """Travel over a real street network: cars at the streets' speeds, on foot both ways.

    Foot officers walk the same streets in either direction (:attr:`walk`, plain metres).

    Args:
        car: Node adjacency in effective metres (directed when the file is).
        walk: Node adjacency in metres (symmetric).
        directed: Whether ``car`` has one-way streets.
        node_of_cell: Nearest kept node of every cell.
        offset_m: Straight-line distance from every cell centre to its node (m).
        access_kph: Speed of cars over that distance.
        segments: Edge end points in cell coordinates, shape (n, 2, 2).
        xy: The nodes' coordinates (metres).
    """

    disconnected = f"{FIELD}: the street network is not connected (keep its largest component)"
    car_min_per_m = CAR_MIN_PER_M

    def __init__(self, car: csr_matrix, walk: csr_matrix, directed: bool,
                 node_of_cell: np.ndarray, offset_m: np.ndarray, access_kph: float,
                 segments: np.ndarray, xy: np.ndarray | None = None) -> None:
        super().__init__(car, directed, node_of_cell, offset_m * REFERENCE_KPH / access_kph,
                         xy)
        self.walking = NetworkField(walk, False, node_of_cell, offset_m, xy)
        self.walk = self.walking
        self._segments = segments
        self.offset_m = offset_m

    def prepare(self) -> None:
        """Get the nearest-unit searches of cars and walkers ready (part of a build)."""
        super().prepare()
        if self.walking._graph is None:
            self.walking.prepare()
            self._warm()

    def segments(self) -> np.ndarray:
        """Street segments the travel uses, end points in cell coordinates, shape (n, 2, 2).

        Cell ``(i, j)`` has its centre at ``(i, j)``; curved streets are split into their
        straight pieces; a two-way street is drawn once.
        """
        return self._segments

    def check_connected(self, sources: list[int], cells: np.ndarray | None = None) -> None:
        """Nothing to check: only the largest strongly connected part was kept."""
