"""Travel over the street graph, from precomputed shortest-path distance fields.

The street graph's edges carry an *effective length* (metres divided by the street's speed
factor), so one distance field serves every mode on the grid: a unit's travel time is
``turnout + effective_metres / speed``. Fields come from :func:`scipy.sparse.csgraph.dijkstra`
(one call per source cell, cached); for small cities all fields are computed at once.

A field may be *directed* (one-way streets): :meth:`DistanceField.from_cell` gives the
distances from a cell, :meth:`DistanceField.to_target` the distances to it (a search on the
reversed graph, cached the same way). A real street network (:mod:`sim.streets`) also says how
cars cover its effective metres (``car_min_per_m``: each street's own speed) and offers a
walking field (``walk``) for foot officers; :meth:`DistanceField.car_speed` is the hour of
day's speed multiplier for cars (``streets.hour_speed_factors``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    import networkx as nx
    from scipy.sparse import csr_matrix

    from agents.officers import Officers
    from sim.street_field import NetworkField

ALL_PAIRS_MAX_CELLS = 2500
CACHE_BYTES = 256 * 2**20  # bound on cached single-source fields


class DistanceField:
    """What every travel field offers: distances from one cell to all or some cells.

    Subclasses implement :meth:`compute`; fields are cached, least recently used first out,
    within :data:`CACHE_BYTES`.
    """

    n_cells: int
    #: Message (field: problem) raised when some cell cannot be reached.
    disconnected = "city.blocked_street_share: the street graph is not connected"
    #: Whether distances depend on the direction of travel (one-way streets).
    directed = False
    #: Walking distances (metres) for foot officers, when they differ (a street network).
    walk: DistanceField | None = None
    #: Minutes per effective metre for a car, when the streets set it (else the officer's).
    car_min_per_m: float | None = None
    #: Speed multipliers for cars by hour of day 0..23 (None: all 1).
    hour_factors: tuple[float, ...] | None = None
    #: Whether dispatch asks :meth:`~sim.street_field.NetworkField.nearest_times` (a street
    #: network: one search that stops at the nearest unit) instead of every unit's distance.
    searches_nearest = False

    def _init_cache(self, n_cells: int) -> None:
        self.n_cells = n_cells
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._rcache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_max = max(16, CACHE_BYTES // (8 * max(n_cells, 1)))

    def compute(self, source: int) -> np.ndarray:
        """Distances from ``source`` to every cell (uncached)."""
        raise NotImplementedError

    def compute_to(self, target: int) -> np.ndarray:
        """Distances from every cell to ``target`` (uncached; directed fields only)."""
        raise NotImplementedError

    def from_cell(self, source: int) -> np.ndarray:
        """Return the distance from ``source`` to every cell (read-only array).

        Args:
            source: Flat index of the source cell.

        Returns:
            Array of effective metres; ``inf`` where a cell cannot be reached.
        """
        return _cached(self._cache, source, self.compute, self._cache_max)

    def to_field(self, target: int) -> np.ndarray:
        """Return the distance from every cell to ``target`` (read-only array).

        Args:
            target: Flat index of the target cell.

        Returns:
            Array of effective metres; ``inf`` where ``target`` cannot be reached from a cell.
        """
        if not self.directed:
            return self.from_cell(target)
        return _cached(self._rcache, target, self.compute_to, self._cache_max)

    def to_cells(self, source: int, targets: np.ndarray) -> np.ndarray:
        """Distance from ``source`` to ``targets`` only."""
        return self.from_cell(source)[targets]

    def to_target(self, target: int, sources: np.ndarray) -> np.ndarray:
        """Distance from each of ``sources`` to ``target`` (the direction of travel).

        Equal to ``to_cells(target, sources)`` when the field is not directed.

        Args:
            target: Flat index of the destination cell.
            sources: Flat indices of the starting cells.

        Returns:
            Effective metres, one per source.
        """
        if not self.directed:
            return self.to_cells(target, sources)
        return self.to_field(target)[sources]

    @property
    def plain(self) -> bool:
        """Whether every officer covers the field's effective metres at their own pace.

        True on the grid: no walking field, no street speeds for cars, no hours of day.
        """
        return self.walk is None and self.car_min_per_m is None and self.hour_factors is None

    def between(self, a: int, b: int) -> float:
        """Return the effective distance from cell ``a`` to cell ``b``."""
        return float(self.to_cells(a, np.array([b]))[0])

    def target_one(self, target: int, source: int) -> float:
        """Exact distance from ``source`` to ``target`` (as ``to_target`` for one source)."""
        return float(self.to_target(target, np.array([source]))[0])

    def car_speed(self, t: float) -> float:
        """Speed multiplier for cars setting off at minute ``t`` (``hour_factors``)."""
        if self.hour_factors is None:
            return 1.0
        return self.hour_factors[int(t // 60.0) % 24]

    def check_connected(self, sources: list[int], cells: np.ndarray | None = None) -> None:
        """Raise ValueError if some cell cannot be reached from (or, directed, reach) a source.

        Args:
            sources: Flat indices of the cells everything must connect to (e.g. the HQ).
            cells: Boolean mask of the cells to check (e.g. ``layout.mask``); None = all.
        """
        for s in sources:
            ways = [self.from_cell(s), self.to_field(s)] if self.directed else [self.from_cell(s)]
            for field in ways:
                if not np.isfinite(field if cells is None else field[cells]).all():
                    raise ValueError(self.disconnected)


class ManhattanField(DistanceField):
    """Exact distances on a full grid of equal streets: ``(|dx| + |dy|) * cell_size``.

    Shortest paths on an unobstructed 4-neighbour grid are Manhattan distances, so no search
    is needed; used when the city has no closures and no arterials.

    Args:
        width: Cells across.
        height: Cells down.
        cell_size_m: Length of a street segment between neighbouring cells.
    """

    def __init__(self, width: int, height: int, cell_size_m: float) -> None:
        self._init_cache(width * height)
        self.height = height
        self.cell = cell_size_m
        self.x, self.y = np.divmod(np.arange(self.n_cells), height)

    def compute(self, source: int) -> np.ndarray:
        """Distance from ``source`` to every cell."""
        sx, sy = divmod(int(source), self.height)
        return (np.abs(self.x - sx) + np.abs(self.y - sy)) * self.cell

    def to_cells(self, source: int, targets: np.ndarray) -> np.ndarray:
        """Distance from ``source`` to ``targets`` only (no full field needed)."""
        sx, sy = divmod(int(source), self.height)
        tx, ty = np.divmod(targets, self.height)
        return (np.abs(tx - sx) + np.abs(ty - sy)) * self.cell

    def between(self, a: int, b: int) -> float:
        """Distance from cell ``a`` to cell ``b`` (plain integers: no arrays for one pair)."""
        ax, ay = divmod(int(a), self.height)
        bx, by = divmod(int(b), self.height)
        return (abs(bx - ax) + abs(by - ay)) * self.cell

    def check_connected(self, sources: list[int], cells: np.ndarray | None = None) -> None:
        """A full grid is always connected."""


class TravelField(DistanceField):
    """Shortest-path distances (effective metres) between cells of a street graph.

    Args:
        graph: Street graph whose nodes are flat cell indices ``0..n-1`` and whose edges
            have a ``weight`` (effective metres).
        n_cells: Number of cells (nodes).
    """

    def __init__(self, graph: nx.Graph, n_cells: int) -> None:
        from scipy.sparse.csgraph import dijkstra

        self._init_cache(n_cells)
        self._matrix = _to_csr(graph, n_cells)
        self._all: np.ndarray | None = None
        if n_cells <= ALL_PAIRS_MAX_CELLS:
            self._all = dijkstra(self._matrix, directed=False).astype(np.float64)
            self._all.setflags(write=False)

    def from_cell(self, source: int) -> np.ndarray:
        """Distance from ``source`` to every cell (all pairs are precomputed when small)."""
        if self._all is not None:
            return self._all[source]
        return super().from_cell(source)

    def between(self, a: int, b: int) -> float:
        """Distance from cell ``a`` to cell ``b`` (one read of the field, no arrays)."""
        return float(self.from_cell(a)[b])

    def compute(self, source: int) -> np.ndarray:
        """One Dijkstra search from ``source``."""
        from scipy.sparse.csgraph import dijkstra

        return dijkstra(self._matrix, directed=False, indices=source)


def _to_csr(graph: nx.Graph, n_cells: int) -> csr_matrix:
    from scipy.sparse import csr_matrix

    if graph.number_of_edges() == 0:
        return csr_matrix((n_cells, n_cells))
    u, v, w = zip(*graph.edges(data="weight"), strict=True)
    rows = np.asarray(u + v, dtype=np.int64)
    cols = np.asarray(v + u, dtype=np.int64)
    data = np.asarray(w + w, dtype=np.float64)
    return csr_matrix((data, (rows, cols)), shape=(n_cells, n_cells))


def _cached(cache: OrderedDict[int, np.ndarray], key: int,
            compute: Callable[[int], np.ndarray], limit: int) -> np.ndarray:
    """``compute(key)`` through a least-recently-used cache of read-only arrays."""
    field = cache.get(key)
    if field is None:
        field = compute(key)
        field.setflags(write=False)
        cache[key] = field
        if len(cache) > limit:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return field


def officer_minutes(field: DistanceField, officers: Officers, idx: np.ndarray,
                    pos: np.ndarray, cell: int, now: float) -> np.ndarray:
    """Turnout plus travel for officers ``idx`` at cells ``pos`` to reach ``cell``.

    Cars use the field's distances (one-way streets count) at the hour's speed; on a street
    network foot officers walk its streets both ways. On a street network
    (``field.searches_nearest``) the search stops at the nearest officer: officers slower than the
    fastest may get ``inf``; the fastest, every officer as fast, and a lone officer are exact.

    Args:
        field: The travel field.
        officers: The force (turnout, minutes per metre, vehicles).
        idx: Officer indices.
        pos: Their current cells.
        cell: The destination.
        now: The minute of departure (hour-of-day speed).

    Returns:
        Minutes, one per officer.
    """
    if field.plain:
        # The grid: everyone covers the same effective metres at their own pace (the hot path).
        return officers.turnout[idx] + field.to_target(cell, pos) * officers.min_per_m[idx]
    speed = field.car_speed(now)
    if field.searches_nearest:
        return _nearest_search(cast("NetworkField", field), officers, idx, pos, cell, speed)
    return officers.travel_minutes(idx, field.to_target(cell, pos), field.car_min_per_m, speed)


def _nearest_search(field: NetworkField, officers: Officers, idx: np.ndarray,
                    pos: np.ndarray, cell: int, speed: float) -> np.ndarray:
    """Times of officers ``idx`` on a street network; ``inf`` for some slower than the nearest.

    Cars search first; walkers (on the walking field) only as far as the fastest car
    (:meth:`~sim.street_field.NetworkField.unit_minutes`, one compiled call).
    """
    return field.unit_minutes(cell, pos, idx, officers.turnout, officers.min_per_m,
                              officers.vehicle, speed)
