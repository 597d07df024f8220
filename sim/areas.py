"""Areas that units are bound to: adjacency, central cells, and backup ranks.

With ``dispatch.binding`` = ``precinct`` or ``beat`` every unit belongs to the area of its
post cell (``layout.precinct`` or ``layout.beat``), and a call first goes to a free unit of
its own area. Who may back up is a **rank matrix** ``rank[call_area, unit_area]`` (0 = the
call's own area, larger = later, :data:`NEVER` = never):

* ``nearest``: 0 for the own area, 1 for every other: the nearest free unit of any area as
  soon as no own-area unit is free.
* ``neighbours``: 0 own, 1 for areas sharing a cell edge with the call's area, 2 for the
  rest; rank 1 becomes eligible ``dispatch.backup_delay_min`` after the call reaches the
  dispatcher, rank 2 at ``dispatch.backup_any_delay_min`` (both measured from that moment).
* ``preference``: Larson-style preference lists, the rank being the position in the call
  area's list; the default list orders areas by travel time from the call area's reference
  cell (its station for precincts, its central cell for beats) to theirs; a
  ``dispatch.preference_file`` replaces the lists of the areas it names.

Within the eligible ranks the own area is served first; then ``nearest``/``neighbours``
take the nearest unit, ``preference`` the lowest rank and the nearest within it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.datafile import DataError, shorten
from sim.params import ScenarioError

if TYPE_CHECKING:
    from sim.city import CityLayout
    from sim.dispatch import DispatchConfig
    from sim.travel import DistanceField

NEVER = np.iinfo(np.int32).max
"""Rank of an area that never serves a call area."""


def adjacency(labels: np.ndarray, width: int, height: int, mask: np.ndarray | None = None,
              n: int | None = None) -> np.ndarray:
    """Which areas share a cell edge (cells flat-indexed ``x * height + y``).

    Args:
        labels: Area id of each cell (non-negative).
        width: Cells across.
        height: Cells down.
        mask: Cells inside the city (others separate nothing and join nothing).
        n: Number of areas (default: the largest label + 1).

    Returns:
        A symmetric boolean matrix ``(n, n)`` with a False diagonal.
    """
    lab = np.asarray(labels, dtype=np.int64).reshape(width, height)
    inside = (np.ones(lab.shape, dtype=bool) if mask is None
              else np.asarray(mask, dtype=bool).reshape(width, height))
    n = int(lab.max()) + 1 if n is None else int(n)
    adj = np.zeros((n, n), dtype=bool)
    inside &= lab >= 0
    for a, b, ok in ((lab[:-1, :], lab[1:, :], inside[:-1, :] & inside[1:, :]),
                     (lab[:, :-1], lab[:, 1:], inside[:, :-1] & inside[:, 1:])):
        edge = ok & (a != b)
        adj[a[edge], b[edge]] = True
        adj[b[edge], a[edge]] = True
    return adj


def central_cells(labels: np.ndarray, width: int, height: int, mask: np.ndarray,
                  n: int) -> np.ndarray:
    """For each area, its cell (inside the city) nearest its centroid; -1 for an empty area.

    Ties go to the lower flat index.
    """
    labels = np.asarray(labels, dtype=np.int64)
    cells = np.flatnonzero(np.asarray(mask, dtype=bool) & (labels >= 0))
    lab = labels[cells]
    x, y = np.divmod(cells, height)
    count = np.bincount(lab, minlength=n).astype(float)
    cx = np.bincount(lab, weights=x, minlength=n) / np.maximum(count, 1)
    cy = np.bincount(lab, weights=y, minlength=n) / np.maximum(count, 1)
    d2 = (x - cx[lab]) ** 2 + (y - cy[lab]) ** 2
    order = np.lexsort((cells, d2, lab))
    first = np.ones(order.size, dtype=bool)
    first[1:] = lab[order][1:] != lab[order][:-1]
    out = np.full(n, -1, dtype=np.int64)
    out[lab[order][first]] = cells[order][first]
    return out


def neighbour_ranks(adj: np.ndarray) -> np.ndarray:
    """Ranks for ``neighbours``: 0 own, 1 adjacent, 2 any other area."""
    rank = np.where(adj, 1, 2).astype(np.int32)
    np.fill_diagonal(rank, 0)
    return rank


def nearest_ranks(n: int) -> np.ndarray:
    """Ranks for ``nearest``: 0 own, 1 any other area."""
    return (1 - np.eye(n, dtype=np.int32)).astype(np.int32)


def travel_ranks(refs: np.ndarray, travel: DistanceField) -> np.ndarray:
    """Default preference lists: areas by travel distance from their reference cell.

    Distances run from each area's reference cell to the call area's; the own area comes
    first, ties go to the lower id, unreachable areas come last but are still listed.
    """
    n = refs.size
    rank = np.empty((n, n), dtype=np.int32)
    for a in range(n):
        dist = np.asarray(travel.to_target(int(refs[a]), refs), dtype=float).copy()
        dist[a] = -1.0
        order = np.lexsort((np.arange(n), np.nan_to_num(dist, nan=np.inf)))
        rank[a, order] = np.arange(n, dtype=np.int32)
    return rank


def read_preferences(path: str, names: list[str], rank: np.ndarray,
                     field: str = "dispatch.preference_file") -> np.ndarray:
    """Replace the preference lists of the areas a preference table names.

    The table has columns ``area`` (the call's area), ``rank`` (1 = first choice after the
    own area, any increasing numbers) and ``from`` (the area whose units serve it). An area
    named gets exactly its listed areas, after its own area (which always comes first);
    areas not listed for it never serve it. Areas the table does not name keep ``rank``.

    Returns:
        The new rank matrix.
    """
    from agents.staffing import read_table

    df = read_table(path, field)
    missing = [c for c in ("area", "rank", "from") if c not in df.columns]
    if missing:
        raise DataError(f"{field}: no column {', '.join(missing)} (need area, rank, from)")
    index = {name: k for k, name in enumerate(names)}
    out = rank.copy()
    entries: dict[int, list[tuple[float, int]]] = {}
    for k, row in enumerate(df.to_dict("records")):
        where = f"{field}: row {k + 2}"
        a, b = (_area(row[c], index, where) for c in ("area", "from"))
        try:
            r = float(str(row["rank"]).strip())
        except ValueError:
            raise DataError(f"{where}: rank {shorten(row['rank'])} is not a number") from None
        entries.setdefault(a, []).append((r, b))
    for a, listed in entries.items():
        out[a, :] = NEVER
        out[a, a] = 0
        seen = {a}
        for _, b in sorted(listed):
            if b not in seen:
                out[a, b] = len(seen)
                seen.add(b)
    return out


def _area(value: Any, index: dict[str, int], where: str) -> int:
    name = str(value).strip()
    if name not in index:
        raise DataError(f"{where}: {shorten(value)} is not an area of the binding "
                        f"({len(index)} areas)")
    return index[name]


@dataclass
class AreaRules:
    """Which units may serve which calls under area binding.

    Attributes:
        level: ``precinct`` or ``beat``.
        cell_area: Area of each cell (flat).
        rank: ``rank[call_area, unit_area]`` (see the module docstring), with one more
            column, the rank of a unit posted outside every area (``unit_area = -1``): with
            any other area (``nearest``: 1, ``neighbours``: 2), after every listed area
            (``preference``).
        backup: ``nearest``, ``neighbours`` or ``preference``.
        delays: Minutes after which ranks 1 and 2 become eligible (``neighbours`` only).
        names: Area names (dense id order).
    """

    level: str
    cell_area: np.ndarray
    rank: np.ndarray
    backup: str
    delays: tuple[float, float]
    names: list[str]

    @property
    def staged(self) -> bool:
        """Whether backup ranks open up over time (``neighbours``)."""
        return self.backup == "neighbours"

    def initial_stage(self) -> int:
        """The highest rank eligible when a call reaches the dispatcher."""
        if not self.staged:
            return NEVER - 1
        d1, d2 = self.delays
        return 2 if d2 <= 0 else (1 if d1 <= 0 else 0)

    def escalations(self, stage: int) -> list[tuple[float, int]]:
        """The (minutes after the call, stage) steps still to come after ``stage``."""
        if not self.staged:
            return []
        d1, d2 = self.delays
        steps = [(d1, 1)] if d1 < d2 else []
        return [(d, s) for d, s in [*steps, (d2, 2)] if s > stage]

    def choose(self, call_area: int, unit_area: np.ndarray, stage: int) -> np.ndarray:
        """Mask of candidates (by their areas) that are the best eligible for a call.

        Args:
            call_area: The call's area.
            unit_area: Area of each candidate unit.
            stage: Highest rank now eligible.

        Returns:
            Booleans: eligible and of the best class (own area first; then the lowest rank
            for ``preference``, any eligible rank otherwise).
        """
        if call_area < 0:  # a call outside every area: any unit, the nearest
            return np.ones(unit_area.size, dtype=bool)
        r = self.rank[call_area, unit_area]
        ok = (r <= stage) & (r != NEVER)
        if not ok.any():
            return ok
        key = r if self.backup == "preference" else np.minimum(r, 1)
        return ok & (key == key[ok].min())


def area_labels(layout: CityLayout, level: str) -> tuple[np.ndarray, list[str]]:
    """Per-cell area ids and names of ``precinct`` or ``beat``."""
    from agents.staffing import area_names

    labels = np.asarray(layout.precinct if level == "precinct" else layout.beat,
                        dtype=np.int64)
    return labels, area_names(layout, level)


def reference_cells(layout: CityLayout, level: str) -> np.ndarray:
    """A cell per area to measure travel from: the station, or a beat's central cell."""
    if level == "precinct":
        return np.asarray(layout.station_cells, dtype=np.int64)
    labels, names = area_labels(layout, level)
    cells = central_cells(labels, layout.width, layout.height, layout.mask, len(names))
    return np.where(cells < 0, 0, cells)


def make_rules(cfg: DispatchConfig, layout: CityLayout, travel: DistanceField,
               staffed: bool) -> AreaRules | None:
    """The binding rules of a scenario (None with ``dispatch.binding = none``).

    Args:
        cfg: The ``[dispatch]`` section.
        layout: The city.
        travel: Travel distances (default preference lists).
        staffed: Whether a staffing table posts the units (needed for beat binding).
    """
    if cfg.preference_file and (cfg.binding == "none" or cfg.backup != "preference"):
        raise ScenarioError("dispatch.preference_file: used only with dispatch.backup = "
                            "'preference' and a binding (precinct or beat)")
    if cfg.binding == "none":
        return None
    if cfg.binding == "beat" and not staffed:
        raise ScenarioError("dispatch.binding: 'beat' needs police.staffing_file with beat "
                            "rows (the default organisation posts units only at stations)")
    labels, names = area_labels(layout, cfg.binding)
    n = len(names)
    if cfg.backup == "nearest":
        rank = nearest_ranks(n)
    elif cfg.backup == "neighbours":
        rank = neighbour_ranks(adjacency(labels, layout.width, layout.height, layout.mask, n))
    else:
        rank = travel_ranks(reference_cells(layout, cfg.binding), travel)
        if cfg.preference_file:
            rank = read_preferences(cfg.preference_file, names, rank)
    if cfg.backup == "preference":
        outside = np.where(rank == NEVER, -1, rank).max(axis=1, keepdims=True) + 1
    else:
        outside = np.full((n, 1), 2 if cfg.backup == "neighbours" else 1)
    rank = np.hstack([rank, outside.astype(np.int32)])
    return AreaRules(cfg.binding, labels, rank, cfg.backup,
                     (cfg.backup_delay_min, cfg.backup_any_delay_min), names)
