"""Real street networks from GraphML, snapped to the grid's cells.

The GraphML file (for example exported from OpenStreetMap with common tools) has nodes with
coordinates (``x``/``y`` in projected metres, or longitude/latitude in ``x``/``y`` or
``lon``/``lat`` when ``data.coords = "lonlat"``) and edges with a ``length`` in metres
(straight-line length when absent) and optionally a speed. Every cell centre is snapped to its
nearest node; the travel distance between two cells is the snap distance at each end plus the
shortest path between their nodes, in *effective metres* (metres times base speed over the
edge's speed), so a unit's travel time is still ``turnout + effective metres / speed``.

Every problem with the file is a one-line :class:`~sim.calls.DataError` starting with
``data.streets_graphml:`` (or ``data.street_speed_attr:`` for a bad speed): a file that is
missing, a folder, empty, not XML or not GraphML; a graph without nodes; a node whose
coordinates are missing, not numbers, NaN or infinite; no node inside the city (wrong
``data.coords`` or origin); an edge length that is not a finite number >= 0, or a speed that
is not a finite number >= 0 (a zero speed is kept, as an almost impassable street).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from sim.calls import DataError, check_file, project, reason, shorten
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

    Raises:
        DataError: One line starting with ``data.streets_graphml`` or
            ``data.street_speed_attr`` (see the module docstring).
    """
    path = check_file(cfg.streets_graphml, "data.streets_graphml")
    name = shorten(path)
    try:
        g = nx.read_graphml(path)
    except ET.ParseError as exc:
        raise DataError(f"data.streets_graphml: {name} is not XML ({reason(exc)})") from None
    except MemoryError:
        raise DataError(f"data.streets_graphml: {name} is too large to read into memory") \
            from None
    except OSError as exc:
        raise DataError(f"data.streets_graphml: cannot read {name} "
                        f"({exc.strerror or reason(exc)})") from None
    except (nx.NetworkXException, KeyError, ValueError, TypeError, OverflowError,
            IndexError) as exc:
        raise DataError(f"data.streets_graphml: {name} is not valid GraphML "
                        f"({type(exc).__name__}: {reason(exc)})") from None
    if g.number_of_nodes() == 0:
        raise DataError(f"data.streets_graphml: {name} has no nodes")
    nodes = list(g.nodes)
    xy = _node_xy(g, nodes, cfg)
    _check_overlap(xy, city)
    matrix = _edge_matrix(g, nodes, xy, cfg.street_speed_attr)
    cx, cy = np.divmod(np.arange(city.width * city.height), city.height)
    centres = np.column_stack([(cx + 0.5) * city.cell_size_m, (cy + 0.5) * city.cell_size_m])
    dist, node_of_cell = cKDTree(xy).query(centres)
    return GraphTravelField(matrix, node_of_cell.astype(np.int64), dist)


def _node_xy(g: nx.Graph, nodes: list, cfg: DataConfig) -> np.ndarray:
    keys = ("x", "y") if cfg.coords == "xy" else (("lon", "lat") if "lon" in
                                                   g.nodes[nodes[0]] else ("x", "y"))
    cols = [np.array([_node_number(g, n, key) for n in nodes]) for key in keys]
    with np.errstate(all="ignore"):
        x, y = project(cols[0], cols[1], cfg)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise DataError(f"data.streets_graphml: node {shorten(nodes[int(np.argmax(bad))], 30)} "
                        "is too far from the origin (coordinates overflow)")
    return np.column_stack([x, y])


def _node_number(g: nx.Graph, node: Any, key: str) -> float:
    """A node's coordinate ``key`` as a finite float, or a DataError naming the node."""
    where = f"data.streets_graphml: node {shorten(node, 30)}"
    attrs = g.nodes[node]
    if key not in attrs:
        raise DataError(f"{where} has no {key!r} (every node needs numeric coordinates)")
    try:
        value = float(attrs[key])
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{where} has a non-numeric {key!r} ({shorten(attrs[key], 30)})") \
            from None
    if not math.isfinite(value):
        raise DataError(f"{where} has {key!r} = {value} (coordinates must be finite)")
    return value


def _check_overlap(xy: np.ndarray, city: CityConfig) -> None:
    """Refuse a network with no node in the city (one cell of margin): wrong coords/origin."""
    w, h, m = city.width * city.cell_size_m, city.height * city.cell_size_m, city.cell_size_m
    inside = (xy[:, 0] >= -m) & (xy[:, 0] <= w + m) & (xy[:, 1] >= -m) & (xy[:, 1] <= h + m)
    if not inside.any():
        raise DataError(f"data.streets_graphml: no street node lies in the {w:g} x {h:g} m city "
                        f"(nodes at x {xy[:, 0].min():.4g} to {xy[:, 0].max():.4g} m, y "
                        f"{xy[:, 1].min():.4g} to {xy[:, 1].max():.4g} m from the origin); "
                        "check data.coords and the origin")


def _edge_number(d: dict, key: str, default: float, field_name: str, edge: str) -> float:
    """An edge attribute as a finite float >= 0 (``default`` when absent)."""
    if key not in d:
        return default
    try:
        value = float(d[key])
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{field_name}: edge {edge} has a non-numeric {shorten(key, 30)} "
                        f"({shorten(d[key], 30)})") from None
    if not (math.isfinite(value) and value >= 0):
        raise DataError(f"{field_name}: edge {edge} has {shorten(key, 30)} = {value} "
                        "(must be a finite number >= 0)")
    return value


def _edge_matrix(g: nx.Graph, nodes: list, xy: np.ndarray, speed_attr: str) -> csr_matrix:
    index = {n: k for k, n in enumerate(nodes)}
    rows, cols, data = [], [], []
    for u, v, d in g.edges(data=True):
        i, j = index[u], index[v]
        edge = f"({shorten(u, 30)}, {shorten(v, 30)})"
        with np.errstate(over="ignore"):
            straight = float(np.hypot(*(xy[i] - xy[j])))
        length = _edge_number(d, "length", straight, "data.streets_graphml", edge)
        speed = _edge_number(d, speed_attr, BASE_SPEED_KPH, "data.street_speed_attr", edge)
        w = max(length, 1e-6) * BASE_SPEED_KPH / max(speed, 1e-6)
        if not math.isfinite(w):
            raise DataError(f"data.streets_graphml: edge {edge} is too long ({length:g} m at "
                            f"{speed:g} km/h)")
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
