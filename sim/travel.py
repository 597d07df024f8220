"""Travel times over the street graph, from precomputed shortest-path distance fields.

The street graph's edges carry an *effective length* (metres divided by the street's speed
factor), so one distance field serves every mode: a unit's travel time is
``turnout + effective_metres / speed``. Fields come from :func:`scipy.sparse.csgraph.dijkstra`
(one call per source cell, cached); for small cities all fields are computed at once.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import networkx as nx
    from scipy.sparse import csr_matrix

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

    def _init_cache(self, n_cells: int) -> None:
        self.n_cells = n_cells
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_max = max(16, CACHE_BYTES // (8 * max(n_cells, 1)))

    def compute(self, source: int) -> np.ndarray:
        """Distances from ``source`` to every cell (uncached)."""
        raise NotImplementedError

    def from_cell(self, source: int) -> np.ndarray:
        """Return the distance from ``source`` to every cell (read-only array).

        Args:
            source: Flat index of the source cell.

        Returns:
            Array of effective metres; ``inf`` where a cell cannot be reached.
        """
        field = self._cache.get(source)
        if field is None:
            field = self.compute(source)
            field.setflags(write=False)
            self._cache[source] = field
            if len(self._cache) > self._cache_max:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(source)
        return field

    def to_cells(self, source: int, targets: np.ndarray) -> np.ndarray:
        """Distance from ``source`` to ``targets`` only."""
        return self.from_cell(source)[targets]

    def between(self, a: int, b: int) -> float:
        """Return the effective distance between two cells."""
        return float(self.to_cells(a, np.array([b]))[0])

    def check_connected(self, sources: list[int]) -> None:
        """Raise ValueError if some cell cannot be reached from one of ``sources``."""
        for s in sources:
            if not np.isfinite(self.from_cell(s)).all():
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

    def check_connected(self, sources: list[int]) -> None:
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
