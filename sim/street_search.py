"""Who reaches a cell first: an exact nearest-unit search on a street network, compiled.

Dispatch asks, for every call: of these units, each at a cell, with their own turnout and
minutes per metre, who gets to the incident's cell first, and when? On a street network
the answer needs shortest paths. :meth:`SearchGraph.nearest_minutes` runs one search from
the incident's node over the reversed graph (the direction of travel counts) and stops as
soon as no unit not yet reached can beat the best time found. Given the nodes' coordinates
it is an A* search: a node's key is its distance plus a lower bound on the rest of the way to
the nearest unit (the straight line times the network's smallest ratio of weight to
straight line), so the search heads towards the units instead of settling every node closer
than the nearest. Units slower than the fastest get ``inf``; every finite time is exact.

Exact means bit for bit what a whole search gives. Dijkstra's labels are the unique
solution of ``d(v) = min over edges (v -> u) of d(u) + w`` in floating point (addition of a
non-negative weight is monotone, so any label-setting order reaches the same labels), which
is also what :func:`scipy.sparse.csgraph.dijkstra` computes; a unit's minutes are then
``turnout + ((d + source offset) + target offset) * minutes per metre``, in that order, as in
:class:`sim.street_field.NetworkField`.

The A* search keeps that exactness without needing its bound to be consistent: a node whose
label falls is searched again, and a node is taken off the heap in the order of its key. Along
the (floating-point) shortest path to a unit every node's key is at most the unit's distance,
because the bound is lowered by a margin larger than any rounding of the path's sums
(:attr:`SearchGraph.slack`). So if the unit can be the fastest, the search reaches every node of
that path with its exact label before it stops; a unit found slower than the fastest may carry a
longer path's time and is given ``inf``.

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
        xy: The nodes' coordinates (metres), shape (n, 2): the search is then an A* search
            towards the units. Without them it is a Dijkstra search.

    Attributes:
        scale: Lower bound on a path's weight per metre of straight line between its ends:
            the smallest of every edge's weight over its ends' distance, less one part in
            10**9 (0 without coordinates: no bound).
        slack: Subtracted from every bound: more than the rounding of any path's sum
            (``8 * (nodes + 2) * total weight * 2**-53``).
    """

    def __init__(self, matrix: csr_matrix, xy: np.ndarray | None = None) -> None:
        csr = matrix.tocsr()
        self.indptr = csr.indptr.astype(np.int64)
        self.indices = csr.indices.astype(np.int64)
        self.weights = csr.data.astype(np.float64)
        n = csr.shape[0]
        self.xy = np.zeros((n, 2)) if xy is None else np.asarray(xy, np.float64).reshape(n, 2)
        self.scale = 0.0 if xy is None else _scale(self.indptr, self.indices, self.weights,
                                                   self.xy)
        self.slack = 8 * (n + 2) * float(self.weights.sum()) * 2.0**-53
        self._dist = np.full(n, np.inf)
        self._bound = np.zeros(n)
        self._done = np.zeros(n, dtype=np.bool_)
        self._touched = np.empty(n, dtype=np.int64)
        self._heap_key = np.empty(max(self.weights.size, n) + 1)
        self._heap_node = np.empty(max(self.weights.size, n) + 1, dtype=np.int64)

    def nearest_minutes(self, target: int, target_off: float, nodes: np.ndarray,
                        src_off: np.ndarray, same: np.ndarray, turnout: np.ndarray,
                        per_m: np.ndarray, best: float = np.inf) -> np.ndarray:
        """Minutes of each unit to the target node; ``inf`` where it is not the fastest.

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
            Minutes, one per unit: exact for the fastest and every unit as fast (if no
            slower than ``best``), else ``inf``.
        """
        return _nearest(self.indptr, self.indices, self.weights, self.xy, self.scale,
                        self.slack, int(target), float(target_off),
                        np.asarray(nodes, np.int64), np.asarray(src_off, np.float64),
                        np.asarray(same, np.bool_), np.asarray(turnout, np.float64),
                        np.asarray(per_m, np.float64), float(best), self._dist, self._bound,
                        self._done, self._touched, self._heap_key, self._heap_node)


@njit(cache=True)
def _scale(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
           xy: np.ndarray) -> float:
    """The smallest weight per metre of straight line over all edges, less 1e-9 of it."""
    scale = np.inf
    for u in range(indptr.size - 1):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            gap = np.hypot(xy[u, 0] - xy[v, 0], xy[u, 1] - xy[v, 1])
            if gap > 0:
                scale = min(scale, weights[e] / gap)
    return 0.0 if not np.isfinite(scale) else scale * (1.0 - 1e-9)


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


@njit(cache=True, inline="always")
def _bound(xy: np.ndarray, v: int, unit_xy: np.ndarray, n_at: int, scale: float,
           slack: float) -> float:
    """Lower bound on the distance from node ``v`` on to the nearest unit (at least 0).

    The straight line to the nearest of ``unit_xy[:n_at]`` times ``scale``, less ``slack``.
    """
    if scale == 0.0:
        return 0.0
    near = np.inf
    for i in range(n_at):
        dx, dy = xy[v, 0] - unit_xy[i, 0], xy[v, 1] - unit_xy[i, 1]
        near = min(near, dx * dx + dy * dy)
    return max(0.0, scale * np.sqrt(near) - slack)


@njit(cache=True)
def _nearest(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, xy: np.ndarray,
             scale: float, slack: float, target: int, target_off: float, nodes: np.ndarray,
             src_off: np.ndarray, same: np.ndarray, turnout: np.ndarray, per_m: np.ndarray,
             best: float, dist: np.ndarray, bound: np.ndarray, done: np.ndarray,
             touched: np.ndarray, heap_key: np.ndarray, heap_node: np.ndarray) -> np.ndarray:
    """The search of :meth:`SearchGraph.nearest_minutes` (scratch arrays left as found)."""
    n_units = nodes.size
    times = np.full(n_units, np.inf)
    reached = same.copy()
    waiting = 0  # units still to reach
    # The smallest turnout, offset and pace of those: a lower bound on their minutes once
    # the search's keys have reached k is t_min + ((k + o_min) + target_off) * p_min.
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
    unit_xy = np.empty((n_units, 2))  # the distinct nodes of units still to reach
    n_at, last = 0, -1
    for j in range(n_units):
        node = sorted_nodes[j]
        if not same[order[j]] and node != last:
            unit_xy[n_at, 0], unit_xy[n_at, 1] = xy[node, 0], xy[node, 1]
            n_at, last = n_at + 1, node
    dist[target] = 0.0
    bound[target] = _bound(xy, target, unit_xy, n_at, scale, slack)
    touched[0] = target
    n_touched = 1
    size = _push(heap_key, heap_node, 0, bound[target], target)
    while size > 0 and (waiting > 0 or scale > 0.0):
        key, u = heap_key[0], heap_node[0]
        size = _pop(heap_key, heap_node, size)
        if done[u] or key > dist[u] + bound[u]:
            continue  # a stale entry: u's label has fallen since
        if t_min + ((key + o_min) + target_off) * p_min > best:
            break
        done[u] = True
        d = dist[u]
        j = np.searchsorted(sorted_nodes, u)
        while j < n_units and sorted_nodes[j] == u:
            k = order[j]
            if not same[k]:
                times[k] = turnout[k] + ((d + src_off[k]) + target_off) * per_m[k]
                if not reached[k]:
                    reached[k] = True
                    waiting -= 1
                best = min(best, times[k])
            j += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd < dist[v]:
                if dist[v] == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                    bound[v] = _bound(xy, v, unit_xy, n_at, scale, slack)
                dist[v] = nd
                done[v] = False  # searched again if it was (a bound is not consistent)
                if size == heap_key.size:
                    size = _compact(heap_key, heap_node, touched, n_touched, dist, bound, done)
                size = _push(heap_key, heap_node, size, nd + bound[v], v)
    for i in range(n_touched):
        dist[touched[i]] = np.inf
        done[touched[i]] = False
    for k in range(n_units):
        if times[k] > best:
            times[k] = np.inf  # slower than the fastest: perhaps not its shortest path
    return times


@njit(cache=True)
def _compact(heap_key: np.ndarray, heap_node: np.ndarray, touched: np.ndarray,
             n_touched: int, dist: np.ndarray, bound: np.ndarray, done: np.ndarray) -> int:
    """Rebuild a full heap with one entry per open node (stale entries dropped)."""
    size = 0
    for i in range(n_touched):
        v = touched[i]
        if not done[v]:
            size = _push(heap_key, heap_node, size, dist[v] + bound[v], v)
    return size


def officer_minutes(car: SearchGraph, car_node: np.ndarray, car_off: np.ndarray,
                    walk: SearchGraph | None, walk_node: np.ndarray, walk_off: np.ndarray,
                    target: int, pos: np.ndarray, idx: np.ndarray, turnout: np.ndarray,
                    min_per_m: np.ndarray, vehicle: np.ndarray, car_min_per_m: float | None,
                    speed: float) -> np.ndarray:
    """Minutes of officers ``idx`` at cells ``pos`` to reach cell ``target``, in one call.

    What :meth:`SearchGraph.nearest_minutes` gives, for a force of cars and walkers: cars
    search the car graph first, walkers (when there is a walking graph) the walking graph
    only as far as the fastest car. A car's minutes per metre is ``car_min_per_m / speed``
    (its own pace ``/ speed`` if None), a walker's its own. Each field maps a cell to its node
    (``*_node``) and the distance from the cell to it (``*_off``).

    Args:
        car: The car graph (reversed, to search towards the target).
        car_node: Node of every cell on the car graph.
        car_off: Each cell's distance to its node on the car graph.
        walk: The walking graph, or None (everyone uses the car graph).
        walk_node: As ``car_node`` for the walking graph (ignored without it).
        walk_off: As ``car_off`` for the walking graph (ignored without it).
        target: The incident's cell.
        pos: Each officer's cell.
        idx: Officer indices into the force's arrays.
        turnout: Every officer's turnout (minutes).
        min_per_m: Every officer's own minutes per metre.
        vehicle: Whether each officer drives.
        car_min_per_m: Minutes per effective metre of cars, or None (their own pace).
        speed: The hour's speed multiplier for cars.

    Returns:
        Minutes, one per officer of ``idx``: exact for the fastest and every officer as fast,
        ``inf`` for some slower.
    """
    if len(pos) != len(idx):
        raise ValueError(f"pos has {len(pos)} cells for {len(idx)} officers")
    w = car if walk is None else walk
    return _officer_minutes(
        car.indptr, car.indices, car.weights, car.xy, car.scale, car.slack, car._dist,
        car._bound, car._done, car._touched, car._heap_key, car._heap_node, car_node, car_off,
        w.indptr, w.indices, w.weights, w.xy, w.scale, w.slack, w._dist, w._bound, w._done,
        w._touched, w._heap_key, w._heap_node, walk_node if walk is not None else car_node,
        walk_off if walk is not None else car_off, walk is not None, int(target),
        np.asarray(pos, np.int64), np.asarray(idx, np.int64), turnout, min_per_m, vehicle,
        0.0 if car_min_per_m is None else float(car_min_per_m), car_min_per_m is None,
        float(speed))


@njit(cache=True)
def _officer_minutes(c_indptr: np.ndarray, c_indices: np.ndarray, c_weights: np.ndarray,
                     c_xy: np.ndarray, c_scale: float, c_slack: float, c_dist: np.ndarray,
                     c_bound: np.ndarray, c_done: np.ndarray, c_touched: np.ndarray,
                     c_key: np.ndarray, c_heap: np.ndarray, c_node: np.ndarray,
                     c_off: np.ndarray, w_indptr: np.ndarray, w_indices: np.ndarray,
                     w_weights: np.ndarray, w_xy: np.ndarray, w_scale: float, w_slack: float,
                     w_dist: np.ndarray, w_bound: np.ndarray, w_done: np.ndarray,
                     w_touched: np.ndarray, w_key: np.ndarray, w_heap: np.ndarray,
                     w_node: np.ndarray, w_off: np.ndarray, has_walk: bool, target: int,
                     pos: np.ndarray, idx: np.ndarray, turnout_all: np.ndarray,
                     min_per_m_all: np.ndarray, vehicle_all: np.ndarray,
                     car_min_per_m: float, own_car_pace: bool, speed: float) -> np.ndarray:
    """The search of :func:`officer_minutes` (the same arithmetic as its Python parts)."""
    n = idx.size
    n_cells = min(c_node.size, c_off.size, w_node.size, w_off.size)
    n_officers = min(turnout_all.size, min_per_m_all.size, vehicle_all.size)
    if target < 0 or target >= n_cells:
        raise IndexError("target cell out of range")
    turnout, per_m = np.empty(n), np.empty(n)
    foot = np.zeros(n, dtype=np.bool_)
    n_foot = 0
    for k in range(n):
        i = idx[k]
        if i < 0 or i >= n_officers or pos[k] < 0 or pos[k] >= n_cells:
            raise IndexError("officer index or cell out of range")
        turnout[k] = turnout_all[i]
        if vehicle_all[i]:
            per_m[k] = (min_per_m_all[i] if own_car_pace else car_min_per_m) / speed
        else:
            per_m[k] = min_per_m_all[i]
            if has_walk:
                foot[k] = True
                n_foot += 1
    if n_foot == 0:
        return _nearest(c_indptr, c_indices, c_weights, c_xy, c_scale, c_slack,
                        c_node[target], c_off[target], c_node[pos], c_off[pos], pos == target,
                        turnout, per_m, np.inf, c_dist, c_bound, c_done, c_touched, c_key,
                        c_heap)
    times = np.full(n, np.inf)
    best = np.inf
    if n_foot < n:
        sel = np.nonzero(~foot)[0]
        at = pos[sel]
        got = _nearest(c_indptr, c_indices, c_weights, c_xy, c_scale, c_slack,
                       c_node[target], c_off[target], c_node[at], c_off[at], at == target,
                       turnout[sel], per_m[sel], np.inf, c_dist, c_bound, c_done, c_touched,
                       c_key, c_heap)
        times[sel] = got
        best = got.min()
    sel = np.nonzero(foot)[0]
    at = pos[sel]
    times[sel] = _nearest(w_indptr, w_indices, w_weights, w_xy, w_scale, w_slack,
                          w_node[target], w_off[target], w_node[at], w_off[at], at == target,
                          turnout[sel], per_m[sel], best, w_dist, w_bound, w_done, w_touched,
                          w_key, w_heap)
    return times
