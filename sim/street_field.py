"""Travel fields over a snapped street network: cars at the streets' speeds, walkers both ways.

Distances are *effective metres*: metres at :data:`REFERENCE_KPH`, so a car takes
``effective metres * CAR_MIN_PER_M`` minutes (``length / speed`` on every edge). Searches are
Dijkstra runs on the node graph (the reversed graph for :meth:`NetworkField.to_target`),
cached per node, and may stop at a limit (bounded dispatch searches, :mod:`sim.travel`).
Built by :mod:`sim.streets`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from sim.osm import FIELD
from sim.travel import CACHE_BYTES, Budget, DistanceField

WHOLE_BYTES = 64 * 2**20
"""Networks whose used nodes' all-pairs table fits in this many bytes search whole."""
FORWARD_AFTER = 200
"""Queries a source cell appears in before it gets a forward field (:meth:`estimate_to`)."""
FORWARD_MAX = 64
"""Most source cells with a forward field (each one float per used node)."""

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

REFERENCE_KPH = 30.0
"""Effective metres are metres at this speed."""
CAR_MIN_PER_M = 60.0 / (1000.0 * REFERENCE_KPH)
"""Minutes a car takes per effective metre."""


class _Reach:
    """One search's distances to the used nodes: dense, or only the finite ones (bounded)."""

    def __init__(self, dist: np.ndarray, limit: float) -> None:
        self.limit = limit
        finite = np.flatnonzero(np.isfinite(dist))
        if finite.size * 2 < dist.size:
            self.index: np.ndarray | None = finite
            self.values = dist[finite]
        else:
            self.index, self.values = None, dist
        self.nbytes = self.values.nbytes + (0 if self.index is None else self.index.nbytes)

    def one(self, want: int) -> float:
        """Distance to the used node ``want`` (``inf`` beyond the search's reach)."""
        if self.index is None:
            return float(self.values[want])
        pos = int(np.searchsorted(self.index, want))
        if pos < self.index.size and self.index[pos] == want:
            return float(self.values[pos])
        return np.inf

    def at(self, want: np.ndarray) -> np.ndarray:
        """Distances to the used nodes ``want`` (``inf`` beyond the search's reach)."""
        if self.index is None:
            return self.values[want]
        if self.index.size == 0:
            return np.full(want.shape, np.inf)
        pos = np.minimum(np.searchsorted(self.index, want), self.index.size - 1)
        return np.where(self.index[pos] == want, self.values[pos], np.inf)


class NetworkField(DistanceField):
    """Cell-to-cell distances over a snapped network, cached per node.

    Args:
        matrix: Node adjacency (effective metres), row = from, column = to.
        directed: Whether ``matrix`` is not symmetric (one-way streets).
        node_of_cell: Nearest node of every cell.
        offset: Distance (in the field's units) from every cell centre to its node.
    """

    bounded = True

    def __init__(self, matrix: csr_matrix, directed: bool, node_of_cell: np.ndarray,
                 offset: np.ndarray) -> None:
        self._init_cache(node_of_cell.size)
        self.directed = directed
        self._matrix = matrix
        self._matrix_t = matrix.T.tocsr() if directed else matrix
        self.node_of_cell = node_of_cell
        self.offset = offset
        self._used, self._slot = np.unique(node_of_cell, return_inverse=True)
        self._searches: dict[bool, OrderedDict[int, _Reach]] = {False: OrderedDict(),
                                                                 True: OrderedDict()}
        self._bytes = 0
        self._centres: np.ndarray | None = None
        self._per_m = 0.0
        # A small network keeps every search whole: each cell is searched at most once, and
        # dispatch needs no time budget (every distance is exact).
        self._whole = self._used.size ** 2 * 8 <= WHOLE_BYTES
        self.bounded = not self._whole
        self._seen = np.zeros(self._used.size, dtype=np.int64)
        self._row_of = np.full(self._used.size, -1, dtype=np.int64)
        self._rows: np.ndarray | None = None
        self._n_rows = 0

    def bound_by_straight_line(self, centres: np.ndarray, per_m: float) -> None:
        """Declare that a trip is never shorter than ``per_m`` times the straight line.

        Then a bounded query whose sources are all farther than its limit in a straight
        line needs no search.

        Args:
            centres: Cell centres (m), shape (n_cells, 2).
            per_m: Smallest field distance per straight metre (edges and snap lines).
        """
        self._centres, self._per_m = centres, per_m

    def estimate_to(self, target: int, sources: np.ndarray) -> np.ndarray:
        """Distances from ``sources`` to ``target`` where a source's forward field is kept.

        Sources seen in :data:`FORWARD_AFTER` queries (the posts where units wait) get one
        whole search from their node (at most :data:`FORWARD_MAX` of them). Such a search
        adds the edges in the other order than :meth:`to_target`'s, so its values may differ
        from it in the last bits: they only bound how far :meth:`to_target` must look.

        Args:
            target: Flat index of the destination cell.
            sources: Flat indices of the starting cells.

        Returns:
            Effective metres, ``inf`` for sources without a forward field.
        """
        if not self.bounded:
            return np.full(sources.shape, np.inf)
        slots = self._slot[sources]
        self._seen[slots] += 1
        due = self._seen[slots] == FORWARD_AFTER
        if due.any():
            self._add_forward(np.unique(slots[due]))
        out = np.full(sources.shape, np.inf)
        if self._rows is not None:
            row = self._row_of[slots]
            has = row >= 0
            out[has] = self._rows[row[has], self._slot[target]]
        out += self.offset[sources] + self.offset[target]
        out[sources == target] = 0.0
        return out

    def covered_to(self, target: int) -> float:
        """How far (effective metres) a cached search towards ``target`` reaches (0: none).

        A :meth:`to_target` query with a ``limit`` up to this needs no new search.
        """
        reach = self._searches[self.directed].get(int(self._slot[target]))
        return 0.0 if reach is None else reach.limit + float(self.offset[target])

    def _add_forward(self, slots: np.ndarray) -> None:
        """One whole search from each of ``slots``' nodes, while fewer than FORWARD_MAX."""
        from scipy.sparse.csgraph import dijkstra

        if self._rows is None:
            self._rows = np.empty((FORWARD_MAX, self._used.size))
        for slot in slots.tolist():
            if self._n_rows < FORWARD_MAX:
                self._rows[self._n_rows] = dijkstra(self._matrix, directed=True,
                                                    indices=int(self._used[slot]))[self._used]
                self._row_of[slot] = self._n_rows
                self._n_rows += 1

    def _out_of_reach(self, cell: int, others: np.ndarray, limit: float) -> bool:
        if self._centres is None or not np.isfinite(limit) or self._per_m <= 0:
            return False
        gap = self._centres[others] - self._centres[cell]
        return bool((np.hypot(gap[:, 0], gap[:, 1]) * self._per_m > limit).all())

    def _cached(self, slot: int, backward: bool, limit: float,
                want: np.ndarray) -> np.ndarray | None:
        """A cached search's distances to ``want`` if it went far enough, else None."""
        reach = self._searches[backward and self.directed].get(slot)
        if reach is None:
            return None
        values = reach.at(want)
        if reach.limit >= limit or np.isfinite(values).all():
            self._searches[backward and self.directed].move_to_end(slot)
            return values
        return None

    def _fresh(self, slot: int, backward: bool, limit: float, want: np.ndarray) -> np.ndarray:
        """Search from (or to) the node of ``slot`` up to ``limit``; cache it (LRU, bytes)."""
        from scipy.sparse.csgraph import dijkstra

        cache = self._searches[backward and self.directed]
        old = cache.pop(slot, None)
        if old is not None:
            self._bytes -= old.nbytes
        matrix = self._matrix_t if backward else self._matrix
        reach = _Reach(dijkstra(matrix, directed=True, indices=int(self._used[slot]),
                                limit=limit)[self._used], limit)
        cache[slot] = reach
        self._bytes += reach.nbytes
        while self._bytes > CACHE_BYTES and len(cache) > 1:
            self._bytes -= cache.popitem(last=False)[1].nbytes
        return reach.at(want)

    def _cells(self, cell: int, others: np.ndarray, backward: bool,
               limit: float = np.inf) -> np.ndarray:
        """Distances between ``cell`` and ``others``: exact up to ``limit``, maybe ``inf`` beyond.

        A cached search serves when it went as far as ``limit`` (or reached every node wanted);
        else no search is needed when every other cell is out of reach in a straight line;
        else one Dijkstra search from the cell's node (to ``limit``, or whole on a small
        network), cached (least recently used out, within :data:`~sim.travel.CACHE_BYTES`).
        """
        want = self._slot[others]
        slot = int(self._slot[cell])
        node_limit = max(limit - float(self.offset[cell]), 0.0)
        by_node = self._cached(slot, backward, node_limit, want)
        if by_node is None:
            if self._out_of_reach(cell, others, limit):
                return np.full(others.shape, np.inf)
            by_node = self._fresh(slot, backward, np.inf if self._whole else node_limit, want)
        out = by_node + self.offset[others] + self.offset[cell]
        return np.where(others == cell, 0.0, out)

    def target_one(self, target: int, source: int) -> float:
        """Exact distance from ``source`` to ``target`` (:meth:`to_target` for one source).

        No arrays: the same cache and the same arithmetic as the vectorised query.
        """
        if source == target:
            return 0.0
        slot, want = int(self._slot[target]), int(self._slot[source])
        cache = self._searches[self.directed]
        reach = cache.get(slot)
        value = np.inf if reach is None else reach.one(want)
        if reach is not None and (reach.limit == np.inf or np.isfinite(value)):
            cache.move_to_end(slot)
        else:
            value = float(self._fresh(slot, True, np.inf, np.array([want]))[0])
        return value + float(self.offset[source]) + float(self.offset[target])

    def compute(self, source: int) -> np.ndarray:
        """Snap distance + shortest path from the source's node + snap distance."""
        return self._cells(source, np.arange(self.n_cells), backward=False)

    def compute_to(self, target: int) -> np.ndarray:
        """Distances from every cell to ``target`` (a search on the reversed graph)."""
        return self._cells(target, np.arange(self.n_cells), backward=True)

    def to_cells(self, source: int, targets: np.ndarray) -> np.ndarray:
        """Distance from ``source`` to ``targets`` only."""
        return self._cells(int(source), np.asarray(targets), backward=False)

    def to_target(self, target: int, sources: np.ndarray, limit: float = np.inf) -> np.ndarray:
        """Distance from each of ``sources`` to ``target`` (one-way streets count).

        Args:
            target: Flat index of the destination cell.
            sources: Flat indices of the starting cells.
            limit: Distances above it may come back as ``inf`` (a search that stops there).

        Returns:
            Effective metres, one per source.
        """
        return self._cells(int(target), np.asarray(sources), backward=True, limit=limit)


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
    """

    disconnected = f"{FIELD}: the street network is not connected (keep its largest component)"
    car_min_per_m = CAR_MIN_PER_M

    def __init__(self, car: csr_matrix, walk: csr_matrix, directed: bool,
                 node_of_cell: np.ndarray, offset_m: np.ndarray, access_kph: float,
                 segments: np.ndarray) -> None:
        super().__init__(car, directed, node_of_cell, offset_m * REFERENCE_KPH / access_kph)
        self.walking = NetworkField(walk, False, node_of_cell, offset_m)
        self.walk = self.walking
        self.budget = Budget()
        self._segments = segments
        self.offset_m = offset_m

    def segments(self) -> np.ndarray:
        """Street segments the travel uses, end points in cell coordinates, shape (n, 2, 2).

        Cell ``(i, j)`` has its centre at ``(i, j)``; curved streets are split into their
        straight pieces; a two-way street is drawn once.
        """
        return self._segments

    def check_connected(self, sources: list[int], cells: np.ndarray | None = None) -> None:
        """Nothing to check: only the largest strongly connected part was kept."""
