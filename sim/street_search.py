"""Who reaches a cell first: an exact nearest-unit search on a street network, compiled.

Dispatch asks, for every call: of these units, each at a cell, with their own turnout and
minutes per metre, who gets to the incident's cell first, and when? On a street network
the answer needs shortest paths. :meth:`SearchGraph.nearest_minutes` runs one Dijkstra search
from the incident's node over the reversed graph (the direction of travel counts) and stops
as soon as no unit not yet reached can beat the best time found: it settles every node
closer than the nearest unit, and no more than a few beyond. Units the search did not reach
get ``inf``; every finite time is exact.

Exact means bit for bit what a whole search gives. Dijkstra's labels are the unique
solution of ``d(v) = min over edges (v -> u) of d(u) + w`` in floating point (addition of a
non-negative weight is monotone, so any label-setting order reaches the same labels), which
is also what :func:`scipy.sparse.csgraph.dijkstra` computes; a unit's minutes are then
``turnout + ((d + source offset) + target offset) * minutes per metre``, in that order, as in
:class:`sim.street_field.NetworkField`.

The search is compiled with numba (cached on disk after the first run) because it is the hot
loop of a run on streets: a call to :func:`scipy.sparse.csgraph.dijkstra` costs 0.07 ms
before it searches anything and cannot stop at the nearest unit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix


class SearchGraph:
    """A graph prepared for nearest-unit searches, with its scratch arrays.

    Args:
        matrix: Adjacency (CSR, non-negative weights), row = from, column = to; searches
            run along its rows, so pass the reversed graph to search towards a target.
    """

    def __init__(self, matrix: csr_matrix) -> None:
        csr = matrix.tocsr()
        self.indptr = csr.indptr.astype(np.int64)
        self.indices = csr.indices.astype(np.int64)
        self.weights = csr.data.astype(np.float64)
        n = csr.shape[0]
        self._dist = np.full(n, np.inf)
        self._done = np.zeros(n, dtype=np.bool_)
        self._touched = np.empty(n, dtype=np.int64)
        self._heap_key = np.empty(self.weights.size + 1)
        self._heap_node = np.empty(self.weights.size + 1, dtype=np.int64)

    def nearest_minutes(self, target: int, target_off: float, nodes: np.ndarray,
                        src_off: np.ndarray, same: np.ndarray, turnout: np.ndarray,
                        per_m: np.ndarray, best: float = np.inf) -> np.ndarray:
        """Minutes of each unit to the target node; ``inf`` where it cannot be the nearest.

        Args:
            target: Node searched from (the incident's).
            target_off: Distance from the incident's cell to that node.
            nodes: Node of each unit.
            src_off: Distance from each unit's cell to its node.
            same: Units at the target cell itself (distance 0, no search needed).
            turnout: Minutes before each unit sets off.
            per_m: Minutes per metre of each unit.
            best: A time already achieved by some other unit: units slower than it are not
                searched for (``inf``).

        Returns:
            Minutes, one per unit: exact for the nearest (ties: every unit as fast) and for
            any unit reached before the search stopped, else ``inf``.
        """
        return _nearest(self.indptr, self.indices, self.weights, int(target),
                        float(target_off), np.asarray(nodes, np.int64),
                        np.asarray(src_off, np.float64), np.asarray(same, np.bool_),
                        np.asarray(turnout, np.float64), np.asarray(per_m, np.float64),
                        float(best), self._dist, self._done, self._touched, self._heap_key,
                        self._heap_node)


@njit(cache=True, inline="always")
def _push(keys: np.ndarray, vals: np.ndarray, size: int, key: float, val: int) -> int:
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return size + 1


@njit(cache=True, inline="always")
def _pop(keys: np.ndarray, vals: np.ndarray, size: int) -> int:
    """Remove the top (read ``keys[0]``, ``vals[0]`` first); return the new size."""
    size -= 1
    key, val = keys[size], vals[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i] = keys[child]
        vals[i] = vals[child]
        i = child
    keys[i] = key
    vals[i] = val
    return size


@njit(cache=True)
def _nearest(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, target: int,
             target_off: float, nodes: np.ndarray, src_off: np.ndarray, same: np.ndarray,
             turnout: np.ndarray, per_m: np.ndarray, best: float, dist: np.ndarray,
             done: np.ndarray, touched: np.ndarray, heap_key: np.ndarray,
             heap_node: np.ndarray) -> np.ndarray:
    """The search of :meth:`SearchGraph.nearest_minutes` (scratch arrays left as found)."""
    n_units = nodes.size
    times = np.full(n_units, np.inf)
    waiting = 0  # units still to reach
    # The smallest turnout, offset and pace of those: a lower bound on their minutes once
    # the search has reached distance d is t_min + ((d + o_min) + target_off) * p_min.
    t_min, o_min, p_min = np.inf, np.inf, np.inf
    for k in range(n_units):
        if same[k]:
            times[k] = turnout[k] + 0.0 * per_m[k]
            best = min(best, times[k])
        else:
            waiting += 1
            t_min = min(t_min, turnout[k])
            o_min = min(o_min, src_off[k])
            p_min = min(p_min, per_m[k])
    if waiting == 0:
        return times
    order = np.argsort(nodes)
    sorted_nodes = nodes[order]
    dist[target] = 0.0
    touched[0] = target
    n_touched = 1
    size = _push(heap_key, heap_node, 0, 0.0, target)
    while size > 0 and waiting > 0:
        d, u = heap_key[0], heap_node[0]
        size = _pop(heap_key, heap_node, size)
        if done[u] or d > dist[u]:
            continue
        if t_min + ((d + o_min) + target_off) * p_min > best:
            break
        done[u] = True
        j = np.searchsorted(sorted_nodes, u)
        while j < n_units and sorted_nodes[j] == u:
            k = order[j]
            if not same[k]:
                times[k] = turnout[k] + ((d + src_off[k]) + target_off) * per_m[k]
                waiting -= 1
                best = min(best, times[k])
            j += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if done[v]:
                continue
            nd = d + weights[e]
            if nd < dist[v]:
                if dist[v] == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = nd
                size = _push(heap_key, heap_node, size, nd, v)
    for i in range(n_touched):
        dist[touched[i]] = np.inf
        done[touched[i]] = False
    return times
