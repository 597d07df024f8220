"""Real street networks (GraphML or OpenStreetMap XML), snapped to the grid's cells.

The file (``data.streets_graphml``, read by :mod:`sim.osm`) has nodes with coordinates and
edges with a ``length`` in metres (straight-line length when absent) and a speed
(:mod:`sim.street_speeds`: the ``data.street_speed_attr`` attribute in km/h, OpenStreetMap
``maxspeed``, or the road class's default from ``[streets]``). One-way streets stay one-way
(osmnx graphs, GraphML with ``edgedefault="directed"``); an undirected GraphML is two-way.

Only the largest strongly connected part is kept (weakly for an undirected file), with a
:class:`~sim.datafile.DataWarning` saying how much was dropped: every kept node can reach every
other, so an island (a park on a river) no longer stops the run. Streets are cut into pieces
of at most ``streets.node_spacing_cells`` (:func:`densify`) and every cell centre snaps to its
nearest point of the kept network; the travel distance between two cells is the snap distance
at each end (at ``streets.access_speed_kmh``) plus the shortest path between their nodes, in
*effective metres* (:mod:`sim.street_field`): ``length * REFERENCE_KPH / (speed *
streets.response_speed_factor)``, so a car takes ``effective metres * CAR_MIN_PER_M`` minutes,
which is ``length / speed`` on every edge. Foot officers walk the same streets in both
directions at their own speed (:attr:`GraphTravelField.walk`, plain metres).

Coordinates: in a real city (``layout.frame`` set) nodes are projected into the grid with
``frame.cells_of`` from the file's CRS (EPSG:4326 for OpenStreetMap XML, the ``crs`` graph
attribute of an osmnx GraphML, else EPSG:4326 when ``data.coords = "lonlat"`` or ``data.crs``);
otherwise with ``data.coords`` and the ``[data]`` origin as before.

Every problem with the file is a one-line :class:`~sim.datafile.DataError` starting with
``data.streets_graphml:`` (or ``data.street_speed_attr:`` for a bad speed): a file that is
missing, a folder, empty, not XML or not GraphML; a graph without nodes or streets; a node
whose coordinates are missing, not numbers, NaN or infinite; no node inside the city (wrong
``data.coords`` or origin); an edge length that is not a finite number >= 0, or a speed that
is not a finite number >= 0 (a zero speed is kept, as an almost impassable street).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.datafile import DataError, DataWarning, check_file, shorten
from sim.osm import FIELD, drop_classes, read_network
from sim.street_config import StreetsConfig
from sim.street_field import CAR_MIN_PER_M, REFERENCE_KPH, GraphTravelField, NetworkField
from sim.street_speeds import edge_speed

if TYPE_CHECKING:
    import networkx as nx
    from scipy.sparse import csr_matrix

    from sim.city import CityConfig
    from sim.datafile import DataConfig
    from sim.geo import Frame

__all__ = ["CAR_MIN_PER_M", "REFERENCE_KPH", "GraphTravelField", "NetworkField", "load_graphml"]

MAX_PIECES = 10_000
"""Most pieces one straight stretch of street is cut into (see :func:`densify`)."""


@dataclass
class Network:
    """A street network as arrays, coordinates in metres from the grid's south-west corner.

    Attributes:
        xy: Node coordinates, shape (n, 2).
        u: Start node of each directed edge.
        v: End node of each directed edge.
        length: Edge lengths (m).
        speed: Edge speed limits (km/h).
        directed: Whether the file's edges are one-way as stored.
        shapes: Each edge's polyline (m), shape (k, 2), for drawing.
    """

    xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    speed: np.ndarray
    directed: bool
    shapes: list[np.ndarray]


def load_graphml(cfg: DataConfig, city: CityConfig, streets: StreetsConfig | None = None,
                 frame: Frame | None = None) -> GraphTravelField:
    """Read a street network (GraphML or OpenStreetMap XML) and snap the grid's cells to it.

    Args:
        cfg: The ``[data]`` section (file, coordinate system, origin, speed attribute).
        city: The ``[city]`` section (grid size and cell size).
        streets: The ``[streets]`` section (speeds); None = its defaults.
        frame: Where the grid lies on the ground (a real city), else None.

    Returns:
        The travel field over cells.

    Raises:
        DataError: One line starting with ``data.streets_graphml`` or
            ``data.street_speed_attr`` (see the module docstring).
    """
    streets = streets or StreetsConfig()
    path = check_file(cfg.streets_graphml, FIELD)
    g, crs = read_network(path, streets.not_drivable)
    if g.number_of_nodes() == 0:
        raise DataError(f"{FIELD}: {shorten(str(path))} has no nodes")
    _drop_not_drivable(g, streets.not_drivable)
    net = _largest_part(network_of(g, crs, cfg, city, streets, frame))
    return snap(net, city, streets, _segments(net, city.cell_size_m))


def _drop_not_drivable(g: nx.Graph, classes: tuple[str, ...]) -> None:
    drop_classes(g, classes)
    if g.number_of_nodes() == 0:
        raise DataError(f"{FIELD}: no street for cars is left (every edge's road class is in "
                        "streets.not_drivable)")


def network_of(g: nx.Graph, crs: str, cfg: DataConfig, city: CityConfig,
               streets: StreetsConfig, frame: Frame | None) -> Network:
    """Turn a graph into arrays: projected nodes, directed edges, lengths and speeds."""
    nodes = list(g.nodes)
    to_m = _projector(g, nodes, crs, cfg, city, frame)
    raw = _raw_node_xy(g, nodes, crs, cfg)
    xy = to_m(raw[:, 0], raw[:, 1])
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise DataError(f"{FIELD}: node {shorten(nodes[int(np.argmax(bad))], 30)} is too far "
                        "from the origin (coordinates overflow)")
    _check_overlap(xy, city)
    u, v, length, speed, shapes = _edges(g, nodes, xy, cfg.street_speed_attr, streets, to_m)
    return Network(xy, u, v, length, speed, g.is_directed(), shapes)


def _raw_node_xy(g: nx.Graph, nodes: list, crs: str, cfg: DataConfig) -> np.ndarray:
    lonlat_keys = not crs and cfg.coords != "xy" and "lon" in g.nodes[nodes[0]]
    keys = ("lon", "lat") if lonlat_keys else ("x", "y")
    return np.column_stack([[_node_number(g, n, k) for n in nodes] for k in keys])


def _projector(g: nx.Graph, nodes: list, crs: str, cfg: DataConfig, city: CityConfig,
               frame: Frame | None) -> Any:
    """A function (x, y in the file) -> (n, 2) metres from the grid's south-west corner."""
    if frame is not None:
        src = crs or ("EPSG:4326" if cfg.coords == "lonlat" else str(getattr(cfg, "crs", "")))

        def in_frame(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            cx, cy = frame.cells_of(x, y, src)
            return np.column_stack([(cx + 0.5) * frame.cell_size_m,
                                    (cy + 0.5) * frame.cell_size_m])

        return in_frame
    coords = cfg.coords if not crs else ("lonlat" if _geographic(crs) else "xy")
    local = dataclasses.replace(cfg, coords=coords)

    def from_origin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        from sim.calls import project

        with np.errstate(all="ignore"):
            px, py = project(np.asarray(x, float), np.asarray(y, float), local)
        return np.column_stack([px, py])

    return from_origin


def _geographic(crs: str) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return bool(CRS.from_user_input(crs).is_geographic)
    except CRSError:
        raise DataError(f"{FIELD}: the file's crs {shorten(crs, 40)} is not a known CRS") \
            from None


def _node_number(g: nx.Graph, node: Any, key: str) -> float:
    """A node's coordinate ``key`` as a finite float, or a DataError naming the node."""
    where = f"{FIELD}: node {shorten(node, 30)}"
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
        raise DataError(f"{FIELD}: no street node lies in the {w:g} x {h:g} m city "
                        f"(nodes at x {xy[:, 0].min():.4g} to {xy[:, 0].max():.4g} m, y "
                        f"{xy[:, 1].min():.4g} to {xy[:, 1].max():.4g} m from the origin); "
                        "check data.coords and the origin")


def _edge_length(d: dict, straight: float, edge: str) -> float:
    """An edge's ``length`` as a finite float >= 0 (the straight line when absent)."""
    if "length" not in d:
        return straight
    try:
        value = float(d["length"])
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{FIELD}: edge {edge} has a non-numeric length "
                        f"({shorten(d['length'], 30)})") from None
    if not (math.isfinite(value) and value >= 0):
        raise DataError(f"{FIELD}: edge {edge} has length = {value} (must be a finite number "
                        ">= 0)")
    return value


def _edges(g: nx.Graph, nodes: list, xy: np.ndarray, speed_attr: str, streets: StreetsConfig,
           to_m: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    index = {n: k for k, n in enumerate(nodes)}
    classes = streets.class_speeds()
    rows, cols, lengths, speeds, shapes = [], [], [], [], []
    geometries: list[tuple[int, Any]] = []
    for a, b, d in g.edges(data=True):
        i, j = index[a], index[b]
        edge = f"({shorten(a, 30)}, {shorten(b, 30)})"
        with np.errstate(over="ignore"):
            straight = float(np.hypot(*(xy[i] - xy[j])))
        rows.append(i)
        cols.append(j)
        lengths.append(_edge_length(d, straight, edge))
        speeds.append(edge_speed(d, speed_attr, classes, edge))
        shapes.append(xy[[i, j]])
        if "geometry" in d and hasattr(d["geometry"], "coords"):
            geometries.append((len(shapes) - 1, d["geometry"]))
    _apply_geometries(shapes, geometries, to_m)
    return (np.asarray(rows, np.int64), np.asarray(cols, np.int64),
            np.asarray(lengths, float), np.asarray(speeds, float), shapes)


def _apply_geometries(shapes: list[np.ndarray], geometries: list[tuple[int, Any]],
                      to_m: Any) -> None:
    """Replace straight shapes by the edges' own polylines (projected in one call)."""
    if not geometries:
        return
    parts = [np.asarray(geom.coords, dtype=float)[:, :2] for _, geom in geometries]
    flat = np.concatenate(parts)
    projected = to_m(flat[:, 0], flat[:, 1])
    bounds = np.cumsum([0] + [len(p) for p in parts])
    for (k, _), lo, hi in zip(geometries, bounds[:-1], bounds[1:], strict=True):
        if hi - lo >= 2 and np.isfinite(projected[lo:hi]).all():
            shapes[k] = projected[lo:hi]


def _largest_part(net: Network) -> Network:
    """Keep the largest strongly (directed) or weakly connected part; warn what was dropped."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(net.xy)
    adj = csr_matrix((np.ones(net.u.size), (net.u, net.v)), shape=(n, n))
    _, labels = connected_components(adj, directed=net.directed, connection="strong")
    keep = labels == np.argmax(np.bincount(labels))
    edge_kept = keep[net.u] & keep[net.v]
    if keep.sum() < 2 or not edge_kept.any():
        raise DataError(f"{FIELD}: no two street nodes are connected (the network has no "
                        "usable street)")
    if not keep.all():
        _warn_dropped(net, keep, edge_kept)
    new_id = np.cumsum(keep) - 1
    return Network(net.xy[keep], new_id[net.u[edge_kept]], new_id[net.v[edge_kept]],
                   net.length[edge_kept], net.speed[edge_kept], net.directed,
                   [s for s, k in zip(net.shapes, edge_kept, strict=True) if k])


def _warn_dropped(net: Network, keep: np.ndarray, edge_kept: np.ndarray) -> None:
    gone = ~edge_kept
    pairs = np.sort(np.column_stack([net.u[gone], net.v[gone]]), axis=1)
    _, first = np.unique(pairs, axis=0, return_index=True)
    km = float(net.length[gone][first].sum()) / 1000.0 if first.size else 0.0
    kind, why = (("strongly connected", "that cannot be reached from it and back")
                 if net.directed else ("connected", "not connected to it"))
    warnings.warn(f"{FIELD}: kept the largest {kind} part of the street network; dropped "
                  f"{int((~keep).sum()):,} of {keep.size:,} nodes, {int(gone.sum()):,} of "
                  f"{gone.size:,} edges ({km:,.2f} km of street) {why}", DataWarning,
                  stacklevel=4)


def densify(net: Network, gap: float, keep: np.ndarray | None = None) -> Network:
    """Cut every street into pieces of at most ``gap`` metres along its shape.

    Interior points of an edge's polyline and evenly spaced points on its long pieces become
    nodes; the edge's length is shared between its pieces in proportion to their lengths, so
    a path's length and time are unchanged. The two directions of a two-way street share the
    new nodes.

    Args:
        net: The network.
        gap: Longest piece (m); 0 = keep the network as it is.
        keep: Which of the new points to keep (in the order a first call creates them);
            None = all. Dropped points merge their pieces again.

    Returns:
        The network with the new nodes appended after the old ones.
    """
    if gap <= 0:
        return net
    plain = np.array([len(s) == 2 for s in net.shapes]) & (net.length <= gap) & \
        (np.hypot(*(net.xy[net.u] - net.xy[net.v]).T) <= gap)
    groups: dict[tuple[int, int, float], list[int]] = {}
    for k in np.flatnonzero(~plain).tolist():
        a, b = sorted((int(net.u[k]), int(net.v[k])))
        groups.setdefault((a, b, round(float(net.length[k]), 3)), []).append(k)
    xy, u, v, length, speed = [net.xy], [net.u[plain]], [net.v[plain]], \
        [net.length[plain]], [net.speed[plain]]
    next_id, seen = len(net.xy), 0
    for (a, _, _), edges in groups.items():
        first = edges[0]
        shape = net.shapes[first] if net.u[first] == a else net.shapes[first][::-1]
        points, frac = _chain_points(shape, gap)
        if keep is not None:
            chosen = keep[seen:seen + len(points)]
            seen += len(points)
            points, frac = points[chosen], frac[chosen]
        xy.append(points)
        chain = np.concatenate([[a], np.arange(next_id, next_id + len(points)), [-1]])
        next_id += len(points)
        share = np.diff(np.concatenate([[0.0], frac, [1.0]]))
        for k in edges:
            chain[-1] = net.v[k] if net.u[k] == a else net.u[k]
            ends = (chain[:-1], chain[1:]) if net.u[k] == a else (chain[1:], chain[:-1])
            u.append(ends[0].copy())
            v.append(ends[1].copy())
            length.append(net.length[k] * share)
            speed.append(np.full(share.size, net.speed[k]))
    return Network(np.concatenate(xy), np.concatenate(u).astype(np.int64),
                   np.concatenate(v).astype(np.int64), np.concatenate(length),
                   np.concatenate(speed), net.directed, [])


def snap_nodes(net: Network, city: CityConfig, gap: float) -> tuple[Network, np.ndarray,
                                                                     np.ndarray]:
    """Cut the streets (:func:`densify`) and snap every cell centre to its nearest node.

    Only the new points some cell snapped to are kept (the others would only slow searches).

    Returns:
        The network, the node of every cell and the cell centres' distances to them (m).
    """
    from scipy.spatial import cKDTree

    dense = densify(net, gap)
    dist, node = cKDTree(dense.xy).query(_centres(city))
    n0 = len(net.xy)
    if len(dense.xy) > n0:
        keep = np.zeros(len(dense.xy) - n0, dtype=bool)
        keep[node[node >= n0] - n0] = True
        dense = densify(net, gap, keep)
        new_id = np.concatenate([np.arange(n0), n0 + np.cumsum(keep) - 1])
        node = new_id[node]
    return dense, node.astype(np.int64), dist


def _chain_points(shape: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Interior points of a polyline every ``gap`` metres or less, with their fractions."""
    seg = np.diff(shape, axis=0)
    seglen = np.hypot(seg[:, 0], seg[:, 1])
    total = float(seglen.sum())
    if not (total > 0 and math.isfinite(total)):
        return np.zeros((0, 2)), np.zeros(0)
    m = np.clip(np.ceil(seglen / gap), 1, MAX_PIECES).astype(np.int64)
    piece = np.repeat(np.arange(seglen.size), m)
    step = (np.arange(piece.size) - np.repeat(np.cumsum(m) - m, m) + 1) / m[piece]
    points = shape[piece] + seg[piece] * step[:, None]
    at = np.concatenate([[0.0], np.cumsum(seglen)])[piece] + seglen[piece] * step
    return points[:-1], at[:-1] / total


def snap(net: Network, city: CityConfig, streets: StreetsConfig,
         segments: np.ndarray) -> GraphTravelField:
    """Build the travel field: edge weights, the cells' nearest nodes, the map segments."""
    gap = streets.node_spacing_cells * city.cell_size_m
    net, node_of_cell, dist = snap_nodes(net, city, gap)
    n = len(net.xy)
    factor = streets.response_speed_factor
    with np.errstate(over="ignore", divide="ignore"):
        eff = np.maximum(net.length, 1e-6) * REFERENCE_KPH / np.maximum(net.speed * factor,
                                                                         1e-6)
    if not np.isfinite(eff).all():
        k = int(np.argmax(~np.isfinite(eff)))
        raise DataError(f"{FIELD}: edge {k} is too long ({net.length[k]:g} m at "
                        f"{net.speed[k]:g} km/h)")
    u, v = net.u, net.v
    if not net.directed:
        u, v, eff = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([eff, eff])
    car = min_matrix(u, v, eff, n)
    both_u, both_v = np.concatenate([net.u, net.v]), np.concatenate([net.v, net.u])
    metres = np.maximum(np.concatenate([net.length, net.length]), 1e-6)
    walk = min_matrix(both_u, both_v, metres, n)
    field = GraphTravelField(car, walk, net.directed, node_of_cell, dist,
                             streets.access_speed_kmh, segments, net.xy)
    field.prepare()
    return field


def _centres(city: CityConfig) -> np.ndarray:
    """Cell centres in metres from the grid's south-west corner, by flat index."""
    cx, cy = np.divmod(np.arange(city.width * city.height), city.height)
    return np.column_stack([(cx + 0.5) * city.cell_size_m, (cy + 0.5) * city.cell_size_m])


def min_matrix(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int) -> csr_matrix:
    """Adjacency keeping the shortest of parallel edges and no loops (csr would add them)."""
    from scipy.sparse import csr_matrix

    ok = rows != cols
    rows, cols, w = rows[ok], cols[ok], w[ok]
    order = np.lexsort((w, cols, rows))
    r, c, ww = rows[order], cols[order], w[order]
    first = np.ones(r.size, dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return csr_matrix((ww[first], (r[first], c[first])), shape=(n, n))


def _segments(net: Network, cell_size_m: float) -> np.ndarray:
    """Straight pieces of every street (a two-way street once), in cell coordinates."""
    if not net.shapes:
        return np.zeros((0, 2, 2))
    pairs = np.sort(np.column_stack([net.u, net.v]), axis=1)
    _, first = np.unique(pairs, axis=0, return_index=True)
    pieces = [np.stack([s[:-1], s[1:]], axis=1) for s in (net.shapes[k] for k in
                                                          np.sort(first))]
    return np.concatenate(pieces) / cell_size_m - 0.5
