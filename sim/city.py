"""The city: a grid of blocks grouped into communities and station precincts, with one HQ.

Cells are city blocks on a Mesa ``OrthogonalVonNeumannGrid`` (movement along streets, so the
grid metric is Manhattan). Every cell has a flat index ``x * height + y`` (the C order of a
``PropertyLayer``'s ``data[x, y]``), a community and a precinct. Communities are squares of
``community_cells`` blocks; a community belongs to the precinct block that contains its
centre. Posts sit at the cell nearest the centre of what they serve.

Two property layers describe the people and the risk: ``population`` (persons per cell, a sum
of Gaussian bumps) and ``risk`` (each cell's share of incidents; it sums to one and puts
``hotspot_incident_share`` of the risk in ``hotspot_cell_share`` of the cells, the
concentration reported by Weisburd 2015).

A real city (``[geo]``, :mod:`sim.geo_city`) fills the same :class:`CityLayout` from boundary
files: the grid then covers the precincts' bounding box, and cells outside every precinct are
masked (``mask`` False: no residents, risk, patrol, posts or streets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.params import param
from sim.travel import ALL_PAIRS_MAX_CELLS, DistanceField, ManhattanField, TravelField

if TYPE_CHECKING:
    import networkx as nx
    from mesa.discrete_space import OrthogonalVonNeumannGrid

    from sim.geo import Frame, GeoConfig


@dataclass(frozen=True)
class CityConfig:
    """The grid city: size, communities, precincts, population, risk and streets."""

    width: int = param(40, "cells", "40 x 125 m = 5 km square city district (assumption). "
        "Synthetic city only: with geo.precincts the grid covers the precincts.",
        lo=1, hi=10_000)
    height: int = param(40, "cells", "Square city by default (see width). Synthetic city only.",
        lo=1, hi=10_000)
    cell_size_m: float = param(
        125.0, "m", "A city block; 100-250 m in the literature's grid models.", lo=1, hi=10_000,
    )
    community_cells: int = param(
        8,
        "cells",
        "Side of a community: 1 km^2 holds ~4,000 residents at the default density, one "
        "community officer per 3,000-5,000 residents (MPS 2022).",
        lo=1, hi=10_000,
    )
    precincts_x: int = param(2, "-", "Station precincts across (4 stations; assumption). "
        "Synthetic city only: geo.precincts gives a real city's.", lo=1, hi=1_000)
    precincts_y: int = param(2, "-", "Station precincts down. Synthetic city only.",
        lo=1, hi=1_000)
    hq_x: float = param(0.5, "-", "HQ position as a fraction of the width (centre). Synthetic "
        "city only: geo.posts places a real city's.", lo=0, hi=1)
    hq_y: float = param(0.5, "-", "HQ position as a fraction of the height. Synthetic city "
        "only.", lo=0, hi=1)
    population: int = param(
        100_000, "persons", "Urban district of 100k: 4,000 per km^2 (assumption). Not used "
        "when geo.population gives the residents per area.",
        lo=0, hi=100_000_000,
    )
    density_peaks: int = param(
        4, "-", "Population centres: density is a sum of Gaussian bumps (assumption).",
        lo=0, hi=1_000,
    )
    density_spread: float = param(
        0.18, "-", "Width of each density bump as a fraction of the city side.", lo=0.01, hi=10
    )
    risk_noise_sd: float = param(
        0.5, "-", "Log-sd of block-to-block variation of risk beyond population (assumption); "
        "0 with no hot spots and a flat density gives uniform risk.", lo=0, hi=5,
    )
    hotspot_cell_share: float = param(
        0.05, "-", "Share of cells that are hot spots (Weisburd 2015: 50% at 2-6%).", lo=0, hi=1
    )
    hotspot_incident_share: float = param(
        0.5, "-", "Share of incident risk in hot-spot cells (Weisburd 2015; Sherman 1989).", lo=0,
        hi=1,
    )
    blocked_street_share: float = param(
        0.0, "-", "Share of street segments removed (rivers, closures); 0 = full grid.", lo=0,
        hi=0.5,
    )
    arterial_spacing: int = param(
        0, "cells", "Every n-th row and column is an arterial road; 0 = none.", lo=0, hi=10_000,
    )
    arterial_speedup: float = param(
        1.5, "-", "Speed factor on arterials relative to ordinary streets (assumption).", lo=1,
        hi=5,
    )


@dataclass
class CityLayout:
    """Everything about the city that does not change during a run (numpy, no Mesa).

    Attributes:
        width: Cells across.
        height: Cells down.
        cell_size_m: Side of a cell in metres.
        community: Community id of each cell (flat index).
        precinct_of_community: Precinct id of each community.
        hq_cell: Flat index of the HQ cell.
        station_cells: Flat index of each precinct's station.
        community_post_cells: Flat index of each community's post.
        population: Persons per cell (flat).
        risk: Share of incidents per cell (flat, sums to 1 when any risk).
        hotspot: Whether each cell is a hot spot.
        graph: Street graph over flat cell indices with ``weight`` in effective metres.
        mask: Whether each cell is inside the city (False: no residents, incidents or patrol).
        beat: Patrol beat of each cell (flat); the community when the city has no beats.
        frame: Where the grid lies on the ground (None for the synthetic city).
        precinct_names: Each precinct's id as given in the boundary file ("0", "1", ... for
            the synthetic city); index = dense precinct id.
        community_names: Each community's id, likewise.
        beat_names: Each beat's id, likewise (the community names when beats are communities).
    """

    width: int
    height: int
    cell_size_m: float
    community: np.ndarray
    precinct_of_community: np.ndarray
    hq_cell: int
    station_cells: np.ndarray
    community_post_cells: np.ndarray
    population: np.ndarray
    risk: np.ndarray
    hotspot: np.ndarray
    graph: nx.Graph
    mask: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    beat: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    frame: Frame | None = None
    precinct_names: list[str] = field(default_factory=list)
    community_names: list[str] = field(default_factory=list)
    beat_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mask.size == 0:
            self.mask = np.ones(self.width * self.height, dtype=bool)
        self.precinct_names = self.precinct_names or [str(i) for i in range(self.n_precincts)]
        self.community_names = self.community_names or [str(i)
                                                        for i in range(self.n_communities)]
        if self.beat.size == 0:
            self.beat = np.asarray(self.community, dtype=np.int64)
            self.beat_names = self.beat_names or list(self.community_names)
        self.beat_names = self.beat_names or [str(i) for i in range(int(self.beat.max()) + 1)]

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.width * self.height

    @property
    def n_communities(self) -> int:
        """Number of communities."""
        return len(self.community_post_cells)

    @property
    def n_precincts(self) -> int:
        """Number of precincts (stations)."""
        return len(self.station_cells)

    @property
    def n_beats(self) -> int:
        """Number of patrol beats."""
        return len(self.beat_names)

    @property
    def in_city(self) -> np.ndarray:
        """Flat indices of the in-city (unmasked) cells."""
        return np.flatnonzero(self.mask)

    @property
    def precinct(self) -> np.ndarray:
        """Precinct id of each cell (flat)."""
        return self.precinct_of_community[self.community]

    def xy(self, cells: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Return the grid coordinates of flat cell indices."""
        return np.divmod(cells, self.height)

    def cell_index(self, x: int, y: int) -> int:
        """Return the flat index of cell ``(x, y)``."""
        return int(x) * self.height + int(y)


def build_layout(cfg: CityConfig, rng: np.random.Generator,
                 geo: GeoConfig | None = None) -> CityLayout:
    """Build the static city from its configuration and the city stream.

    Args:
        cfg: The ``[city]`` section.
        rng: The city random stream.
        geo: The ``[geo]`` section; with ``geo.precincts`` set the city is read from its
            files (:func:`sim.geo_city.build_geo_layout`), else it is the synthetic rectangle.

    Returns:
        The layout.
    """
    if geo is not None and geo.precincts:
        from sim.geo_city import build_geo_layout

        return build_geo_layout(cfg, geo, rng)
    w, h = cfg.width, cfg.height
    community, n_cx, n_cy = _communities(w, h, cfg.community_cells)
    centres = _community_centres(w, h, community, n_cx * n_cy)
    precinct_of_comm = _precincts(centres, w, h, cfg.precincts_x, cfg.precincts_y)
    population = _population(cfg, rng)
    risk, hotspot = _risk(population, cfg, rng)
    graph = street_graph(w, h, cfg, rng)
    comm_posts = np.array([_nearest_cell_of(community == c, centres[c], h)
                           for c in range(len(centres))], dtype=np.int64)
    station_cells = _station_cells(precinct_of_comm, community, h)
    hq = int(round(cfg.hq_x * (w - 1))) * h + int(round(cfg.hq_y * (h - 1)))
    return CityLayout(w, h, cfg.cell_size_m, community, precinct_of_comm, hq, station_cells,
                      comm_posts, population, risk, hotspot, graph)


def _communities(w: int, h: int, size: int) -> tuple[np.ndarray, int, int]:
    n_cx, n_cy = -(-w // size), -(-h // size)
    x, y = np.divmod(np.arange(w * h), h)
    return (x // size) * n_cy + (y // size), n_cx, n_cy


def _community_centres(w: int, h: int, community: np.ndarray, n: int) -> np.ndarray:
    x, y = np.divmod(np.arange(w * h), h)
    counts = np.bincount(community, minlength=n)
    cx = np.bincount(community, weights=x, minlength=n) / counts
    cy = np.bincount(community, weights=y, minlength=n) / counts
    return np.column_stack([cx, cy])


def _precincts(centres: np.ndarray, w: int, h: int, px: int, py: int) -> np.ndarray:
    """Assign each community to the precinct block containing its centre; renumber densely."""
    bx = np.minimum((centres[:, 0] + 0.5) * px // w, px - 1).astype(np.int64)
    by = np.minimum((centres[:, 1] + 0.5) * py // h, py - 1).astype(np.int64)
    raw = bx * py + by
    _, dense = np.unique(raw, return_inverse=True)
    return dense.astype(np.int64)


def _nearest_cell_of(mask: np.ndarray, centre: np.ndarray, h: int) -> int:
    cells = np.flatnonzero(mask)
    x, y = np.divmod(cells, h)
    d = np.abs(x - centre[0]) + np.abs(y - centre[1])
    return int(cells[np.argmin(d)])


def _station_cells(precinct_of_comm: np.ndarray, community: np.ndarray, h: int) -> np.ndarray:
    precinct = precinct_of_comm[community]
    out = []
    for p in range(int(precinct_of_comm.max()) + 1):
        mask = precinct == p
        x, y = np.divmod(np.flatnonzero(mask), h)
        out.append(_nearest_cell_of(mask, np.array([x.mean(), y.mean()]), h))
    return np.asarray(out, dtype=np.int64)


def _population(cfg: CityConfig, rng: np.random.Generator,
                shape: tuple[int, int] | None = None,
                mask: np.ndarray | None = None) -> np.ndarray:
    """Persons per cell: a floor plus Gaussian bumps, scaled to the total population.

    Args:
        cfg: The ``[city]`` section.
        rng: The city stream.
        shape: Grid size ``(width, height)``; default the synthetic city's.
        mask: In-city cells (the others get nobody); default all.
    """
    w, h = shape if shape is not None else (cfg.width, cfg.height)
    x, y = np.divmod(np.arange(w * h, dtype=np.float64), h)
    density = np.full(w * h, 0.25)
    side = max(w, h)
    for _ in range(cfg.density_peaks):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        sigma = cfg.density_spread * side * rng.uniform(0.7, 1.3)
        density += rng.uniform(0.5, 1.5) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) /
                                                 (2 * sigma**2))
    if mask is not None:
        density = np.where(mask, density, 0.0)
    return cfg.population * density / density.sum()


def _risk(population: np.ndarray, cfg: CityConfig, rng: np.random.Generator,
          mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Share of incidents per cell with the configured hot-spot concentration.

    Masked cells (``mask`` False) get no risk; hot spots are a share of the in-city cells.
    """
    n = population.size
    base = (population + 1e-9) * rng.lognormal(0.0, cfg.risk_noise_sd, n)
    n_in = n
    if mask is not None:
        base = np.where(mask, base, 0.0)
        n_in = int(mask.sum())
    n_hot = int(round(cfg.hotspot_cell_share * n_in))
    hotspot = np.zeros(n, dtype=bool)
    if n_hot in (0, n_in):
        return base / base.sum(), hotspot
    hot = rng.choice(n, size=n_hot, replace=False, p=base / base.sum())
    hotspot[hot] = True
    risk = np.empty(n)
    s = cfg.hotspot_incident_share
    risk[hotspot] = s * base[hotspot] / base[hotspot].sum()
    risk[~hotspot] = (1 - s) * base[~hotspot] / base[~hotspot].sum()
    return risk / risk.sum(), hotspot


def street_graph(w: int, h: int, cfg: CityConfig, rng: np.random.Generator,
                 mask: np.ndarray | None = None) -> nx.Graph:
    """Build the street graph: 4-neighbour streets, optional arterials and closures.

    Closures never disconnect the city: a random spanning tree is kept intact. Masked cells
    (``mask`` False) have no streets; pieces of the city that touch the rest only diagonally
    or across masked cells are joined to it by one straight link each (with a warning).

    Args:
        w: Cells across.
        h: Cells down.
        cfg: The ``[city]`` section.
        rng: The city random stream.
        mask: In-city cells; default all.

    Returns:
        Graph over flat cell indices with ``length_m`` and ``weight`` (effective metres).
    """
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(w * h))
    inside = np.ones(w * h, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    u, v, fast = _grid_streets(w, h, cfg.arterial_spacing, inside)
    cell, speedup = cfg.cell_size_m, cfg.arterial_speedup
    g.add_edges_from((a, b, {"length_m": cell, "weight": cell / (speedup if f else 1.0)})
                     for a, b, f in zip(u.tolist(), v.tolist(), fast.tolist(), strict=True))
    if cfg.blocked_street_share > 0 and g.number_of_edges() > 0:
        _close_streets(g, cfg.blocked_street_share, rng)
    if mask is not None:
        join_pieces(g, inside, h, cfg.cell_size_m)
    return g


def join_pieces(g: nx.Graph, inside: np.ndarray, h: int, cell_size_m: float) -> int:
    """Join every piece of the in-city street graph to the largest by its shortest link.

    A real boundary rasterised onto blocks leaves pieces that touch the rest only at a corner
    (or an exclave across a river); each gets one straight street to the nearest cell of the
    largest piece, its length the straight-line distance (a bridge, a diagonal street).
    Pieces are the 4-connected components of the in-city cells (closures never split them).

    Args:
        g: The street graph (changed in place).
        inside: In-city cells.
        h: Cells down.
        cell_size_m: Side of a cell.

    Returns:
        The number of links added.
    """
    import warnings

    from scipy.ndimage import label
    from scipy.spatial import cKDTree

    from sim.datafile import DataWarning

    pieces, n = label(inside.reshape(-1, h))
    if n <= 1:
        return 0
    piece = pieces.ravel()
    sizes = np.bincount(piece, minlength=n + 1)
    sizes[0] = -1
    main_id = int(np.argmax(sizes))  # the largest (ties: the first)
    main = np.flatnonzero(piece == main_id)
    tree = cKDTree(np.column_stack(np.divmod(main, h)))
    for k in range(1, n + 1):
        if k == main_id:
            continue
        cells = np.flatnonzero(piece == k)
        d, j = tree.query(np.column_stack(np.divmod(cells, h)))
        best = int(np.argmin(d))
        length = float(d[best]) * cell_size_m
        g.add_edge(int(cells[best]), int(main[j[best]]), length_m=length, weight=length)
    warnings.warn(f"geo.precincts: {n - 1:,} piece(s) of the city touch the rest only at "
                  f"corners or across masked cells; each is joined by one straight street",
                  DataWarning, stacklevel=3)
    return n - 1


def _grid_streets(w: int, h: int, spacing: int,
                  inside: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street segments between 4-neighbour in-city cells, cell by cell, east before north.

    Returns:
        End cells ``u``, ``v`` and whether each segment is an arterial (every ``spacing``-th
        row for east-west streets, column for north-south ones).
    """
    n = w * h
    i = np.arange(n)
    x, y = np.divmod(i, h)
    east_in = np.zeros(n, dtype=bool)
    east_in[: n - h] = inside[h:]
    north_in = np.zeros(n, dtype=bool)
    north_in[: n - 1] = inside[1:]
    ok = np.column_stack([(x + 1 < w) & inside & east_in, (y + 1 < h) & inside & north_in])
    if spacing > 0:
        fast = np.column_stack([y % spacing == 0, x % spacing == 0])
    else:
        fast = np.zeros((n, 2), dtype=bool)
    u = np.column_stack([i, i])
    v = np.column_stack([i + h, i + 1])
    keep = ok.ravel()
    return u.ravel()[keep], v.ravel()[keep], fast.ravel()[keep]


def _close_streets(g: nx.Graph, share: float, rng: np.random.Generator) -> None:
    import networkx as nx

    edges = sorted(g.edges())
    for (u, v), wt in zip(edges, rng.random(len(edges)), strict=True):
        g[u][v]["_order"] = float(wt)
    keep = {tuple(sorted(e)) for e in nx.minimum_spanning_edges(g, weight="_order", data=False)}
    removable = [e for e in edges if e not in keep]
    n_remove = min(int(round(share * len(edges))), len(removable))
    picks: list[int] = (rng.choice(len(removable), size=n_remove, replace=False).tolist()
                        if n_remove else [])
    g.remove_edges_from([removable[i] for i in sorted(picks)])
    for _, _, d in g.edges(data=True):
        d.pop("_order", None)


def build_grid(layout: CityLayout, random: object) -> OrthogonalVonNeumannGrid:
    """Create the Mesa grid with ``population``, ``risk``, ``community`` and ``mask`` layers.

    ``mask`` (bool) is True on in-city cells, False on masked ones.

    Args:
        layout: The static city.
        random: The model's ``random.Random`` (Mesa spaces take it explicitly).

    Returns:
        The grid; cell ``(x, y)`` is flat index ``x * height + y``.
    """
    from mesa.discrete_space import OrthogonalVonNeumannGrid

    grid = OrthogonalVonNeumannGrid((layout.width, layout.height), torus=False,
                                    random=random)
    shape = (layout.width, layout.height)
    for name, values in (("population", layout.population), ("risk", layout.risk),
                         ("community", layout.community.astype(float))):
        grid.create_property_layer(name, default_value=0.0, dtype=float)
        getattr(grid, name).data[:] = values.reshape(shape)
    grid.create_property_layer("mask", default_value=True, dtype=bool)
    grid.mask.data[:] = layout.mask.reshape(shape)
    return grid


def make_travel(layout: CityLayout, cfg: CityConfig | None = None) -> TravelField | ManhattanField:
    """Build the travel field of a layout and check the city is connected.

    A full grid of equal streets needs no search (Manhattan distances are exact); any
    closure or arterial, or masked cells (a real city's boundary: no streets there, travel
    goes around them), make it a shortest-path problem over the street graph. Only in-city
    cells need to be reachable.
    """
    full = bool(layout.mask.all())
    if cfg is not None and cfg.blocked_street_share == 0 and cfg.arterial_spacing == 0 and \
            full and layout.n_cells > ALL_PAIRS_MAX_CELLS:
        return ManhattanField(layout.width, layout.height, layout.cell_size_m)
    field = TravelField(layout.graph, layout.n_cells)
    if full:
        field.check_connected([layout.hq_cell])
    else:
        field.check_connected([layout.hq_cell], cells=layout.mask)
    return field


def travel_for(city: CityConfig, data: Any, layout: CityLayout,
               streets: Any = None) -> DistanceField:
    """The travel field of a scenario: the grid's streets, or its street network file.

    Args:
        city: The ``[city]`` section.
        data: The ``[data]`` section (``streets_graphml``).
        layout: The city (its ``frame`` places a real city's street network).
        streets: The ``[streets]`` section (speeds, hour of day); None = its defaults.

    Returns:
        The field; a street network keeps only its largest strongly connected part, so every
        cell reaches every other.
    """
    if data.streets_graphml:
        import dataclasses

        from sim.streets import load_graphml

        # a real city's grid is sized by its boundaries, not by [city]
        grid = dataclasses.replace(city, width=layout.width, height=layout.height,
                                   cell_size_m=layout.cell_size_m)
        field: DistanceField = load_graphml(data, grid, streets, layout.frame)
    else:
        field = make_travel(layout, city)
    if streets is not None:
        field.hour_factors = streets.hour_factors()
    return field
