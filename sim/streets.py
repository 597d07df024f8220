"""Real street networks from GraphML, snapped to the grid's cells.

The GraphML file (for example exported from OpenStreetMap with common tools) has nodes with
coordinates (``x``/``y`` in projected metres, or longitude/latitude in ``x``/``y`` or
``lon``/``lat`` when ``data.coords = "lonlat"``) and edges with a ``length`` in metres
(straight-line length when absent) and optionally a speed. Every cell centre is snapped to its
nearest node; the travel distance between two cells is the snap distance at each end plus the
shortest path between their nodes, in *effective metres* (metres times base speed over the
edge's speed), so a unit's travel time is still ``turnout + effective metres / speed``.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from sim.calls import DataError, project
from sim.scenario import CityConfig, DataConfig
from sim.travel import DistanceField

BASE_SPEED_KPH = 30.0


class GraphTravelField(DistanceField):
    """Cell-to-cell travel distances over a snapped street network.

    Args:
        matrix: Node adjacency (effective metres).
        node_of_cell: Nearest node of every cell.
        offset: Distance from every cell centre to its node (metres).
    """

    disconnected = ("data.streets_graphml: the street network is not connected "
                    "(keep its largest component)")

    def __init__(self, matrix: csr_matrix, node_of_cell: np.ndarray, offset: np.ndarray) -> None:
        self._init_cache(node_of_cell.size)
        self._matrix = matrix
        self.node_of_cell = node_of_cell
        self.offset = offset

    def compute(self, source: int) -> np.ndarray:
        """Snap distance + shortest path from the source's node + snap distance."""
        by_node = dijkstra(self._matrix, directed=False,
                           indices=int(self.node_of_cell[source]))
        field = by_node[self.node_of_cell] + self.offset + self.offset[source]
        field[source] = 0.0
        return field


def load_graphml(cfg: DataConfig, city: CityConfig) -> GraphTravelField:
    """Read a GraphML street network and snap the grid's cells to it.

    Args:
        cfg: The ``[data]`` section (file, coordinate system, origin, speed attribute).
        city: The ``[city]`` section (grid size and cell size).

    Returns:
        The travel field over cells.
    """
    path = Path(cfg.streets_graphml)
    if not path.is_file():
        raise DataError(f"data.streets_graphml: no such file {path}")
    try:
        g = nx.read_graphml(path)
    except Exception as exc:
        raise DataError(f"data.streets_graphml: cannot read {path} ({type(exc).__name__})") \
            from None
    if g.number_of_nodes() == 0:
        raise DataError(f"data.streets_graphml: {path} has no nodes")
    nodes = list(g.nodes)
    xy = _node_xy(g, nodes, cfg)
    matrix = _edge_matrix(g, nodes, xy, cfg.street_speed_attr)
    cx, cy = np.divmod(np.arange(city.width * city.height), city.height)
    centres = np.column_stack([(cx + 0.5) * city.cell_size_m, (cy + 0.5) * city.cell_size_m])
    dist, node_of_cell = cKDTree(xy).query(centres)
    return GraphTravelField(matrix, node_of_cell.astype(np.int64), dist)


def _node_xy(g: nx.Graph, nodes: list, cfg: DataConfig) -> np.ndarray:
    keys = ("x", "y") if cfg.coords == "xy" else (("lon", "lat") if "lon" in
                                                   g.nodes[nodes[0]] else ("x", "y"))
    try:
        a = np.array([float(g.nodes[n][keys[0]]) for n in nodes])
        b = np.array([float(g.nodes[n][keys[1]]) for n in nodes])
    except (KeyError, TypeError, ValueError):
        raise DataError(f"data.streets_graphml: every node needs numeric {keys[0]!r} and "
                        f"{keys[1]!r}") from None
    x, y = project(a, b, cfg)
    return np.column_stack([x, y])


def _edge_matrix(g: nx.Graph, nodes: list, xy: np.ndarray, speed_attr: str) -> csr_matrix:
    index = {n: k for k, n in enumerate(nodes)}
    rows, cols, data = [], [], []
    for u, v, d in g.edges(data=True):
        i, j = index[u], index[v]
        try:
            length = float(d.get("length", np.hypot(*(xy[i] - xy[j]))))
            speed = float(d.get(speed_attr, BASE_SPEED_KPH))
        except (TypeError, ValueError):
            raise DataError("data.streets_graphml: edge length and speed must be numbers") \
                from None
        w = max(length, 1e-6) * BASE_SPEED_KPH / max(speed, 1e-6)
        rows += [i, j]
        cols += [j, i]
        data += [w, w]
    return _min_parallel(rows, cols, data, len(nodes))


def _min_parallel(rows: list, cols: list, data: list, n: int) -> csr_matrix:
    """Adjacency keeping the shortest of parallel edges (csr would add them up)."""
    best: dict[tuple[int, int], float] = {}
    for i, j, w in zip(rows, cols, data, strict=True):
        key = (i, j)
        if w < best.get(key, np.inf):
            best[key] = w
    if not best:
        return csr_matrix((n, n))
    r = [k[0] for k in best]
    c = [k[1] for k in best]
    return csr_matrix((list(best.values()), (r, c)), shape=(n, n))
