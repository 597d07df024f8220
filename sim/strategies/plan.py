"""An explicit sinking plan: how many officers at each station and at each community post.

The built-in strategies move *shares* of the force; a police service deciding where to put
its officers asks for *counts*: so many at each station, so many resident officers in these
communities, the rest at headquarters. :class:`Plan` posts exactly that and otherwise works
like community sinking (stations dispatch, community officers answer locally, the tech layer
and rotation as configured). It is what ``grassroots optimize`` searches over, and every plan
on an optimised front is a scenario file with ``strategy.name = "plan"``.

Who moves follows the same fixed random order as every built-in (officers keep their
identity): station officers stay at their station while it needs them, the station surplus
and then HQ officers (in the strategy stream's order) fill the stations short of officers and
then the community posts; whoever is not needed below HQ is at HQ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from agents.enums import Tier
from agents.officers import Assignment
from sim.params import param
from sim.strategies.builtin import Community, SinkingParams
from sim.strategies.registry import register_strategy

if TYPE_CHECKING:
    from sim.model import PoliceModel
    from sim.scenario import Scenario

MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class PlanParams(SinkingParams):
    """The plan: officers per station and per community post (the rest stay at HQ)."""

    plan_stations: str = param(
        "", "officers", "Plan: officers at each station, comma-separated in precinct order "
        "(e.g. '30,25,25,20'); empty = the configured station staffing (police.share_station).",
    )
    plan_communities: str = param(
        "", "officers", "Plan: officers posted to each community, comma-separated in "
        "community order (0 = no post); empty = none.",
    )
    plan_shifts: str = param(
        "", "-", "Plan: relative staffing of the day's shifts (police.shifts_per_day "
        "comma-separated weights, e.g. '2,3,3' for night, day, evening); every officer then "
        "works one fixed shift, each post's officers split by these weights; empty = rotating "
        "equal shifts.",
    )


def parse_counts(text: str, n: int, field: str) -> np.ndarray | None:
    """Parse a comma-separated list of ``n`` officer counts (None for an empty text).

    Args:
        text: The parameter's value.
        n: Number of entries the city needs (stations or communities).
        field: Dotted name for error messages.

    Returns:
        The counts, or None when ``text`` is empty.

    Raises:
        ValueError: One line naming ``field``: wrong number of entries or a bad count.
    """
    if not text.strip():
        return None
    parts = text.split(",")
    if len(parts) != n:
        raise ValueError(f"{field}: needs {n} comma-separated counts (one per "
                         f"{'station' if 'station' in field else 'community'}), got {len(parts)}")
    out = np.zeros(n, dtype=np.int64)
    for k, part in enumerate(parts):
        word = part.strip()
        if not word.isdigit() or len(word) > 9:
            raise ValueError(f"{field}: entry {k + 1} is {word[:20]!r}, not a whole number of "
                             "officers >= 0")
        out[k] = int(word)
    return out


def parse_weights(text: str, n: int) -> np.ndarray | None:
    """Parse ``strategy.plan_shifts``: ``n`` non-negative weights, not all zero (or None)."""
    if not text.strip():
        return None
    field = "strategy.plan_shifts"
    parts = text.split(",")
    if len(parts) != n:
        raise ValueError(f"{field}: needs {n} comma-separated weights (police.shifts_per_day),"
                         f" got {len(parts)}")
    try:
        w = np.array([float(p) for p in parts])
    except ValueError:
        raise ValueError(f"{field}: expected numbers, got {text[:40]!r}") from None
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"{field}: weights must be finite, >= 0 and not all 0")
    return w


def fixed_shifts(assignments: list[Assignment], weights: np.ndarray) -> np.ndarray:
    """One shift per officer: each post's officers split by ``weights`` (largest remainder).

    Officers are taken in index order within their post, so the split is deterministic.
    """
    from sim.strategies.base import split_counts

    shift = np.zeros(len(assignments), dtype=np.int64)
    posts: dict[tuple[int, int], list[int]] = {}
    for i, a in enumerate(assignments):
        posts.setdefault((int(a.tier), int(a.post_cell)), []).append(i)
    keys = list(range(weights.size))
    for members in posts.values():
        counts: dict[Any, int] = split_counts(
            len(members), dict(zip(keys, weights.tolist(), strict=True)))  # type: ignore[arg-type]
        labels = np.repeat(keys, [counts[k] for k in keys])
        shift[members] = labels
    return shift


def format_counts(counts: np.ndarray) -> str:
    """The inverse of :func:`parse_counts`: ``'30,25,25,20'``."""
    return ",".join(str(int(c)) for c in counts)


@register_strategy
class Plan(Community):
    """An explicit plan: officers per station and per community post, the rest at HQ."""

    name = "plan"
    description = "Officers per station and per community post as planned (for optimize)."
    Params: ClassVar[type] = PlanParams

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        for field in ("plan_stations", "plan_communities"):
            if len(getattr(self.cfg, field)) > 10 * MAX_ENTRIES:
                raise ValueError(f"strategy.{field}: too long")
        self.stations: np.ndarray = np.zeros(0, dtype=np.int64)
        self.communities: np.ndarray = np.zeros(0, dtype=np.int64)

    def organise(self, model: PoliceModel) -> list[Assignment]:
        """The plan's postings; with ``plan_shifts`` every officer gets a fixed shift."""
        out = super().organise(model)
        weights = parse_weights(self.cfg.plan_shifts, model.config.police.shifts_per_day)
        if weights is not None:
            if model.force.staffing is not None:
                raise ValueError("strategy.plan_shifts: not with police.staffing_file (the "
                                 "table sets every shift)")
            model.force.fixed_shift = fixed_shifts(out, weights)
        return out

    def current_fraction(self, day: int) -> float:
        """A plan is posted whole on day 0 (no gradual schedule)."""
        return 1.0

    def prepare(self, model: PoliceModel) -> None:
        """Read the plan against the city (counts per station and per community)."""
        lay = model.layout
        base_station = np.bincount([a.precinct for a in self.base if a.tier == Tier.STATION],
                                   minlength=lay.n_precincts)
        stations = parse_counts(self.cfg.plan_stations, lay.n_precincts,
                                "strategy.plan_stations")
        communities = parse_counts(self.cfg.plan_communities, lay.n_communities,
                                   "strategy.plan_communities")
        self.stations = base_station if stations is None else stations
        self.communities = (np.zeros(lay.n_communities, dtype=np.int64) if communities is None
                            else communities)

    def target(self, model: PoliceModel, fraction: float) -> list[Assignment]:
        """Every officer's posting under the plan (``fraction`` is not used)."""
        out = list(self.base)
        free = self._free_officers(model, out)
        wanted = [(model.station_assignment(k), int(self.stations[k]) - self._kept[k])
                  for k in range(self.stations.size)]
        wanted += [(model.community_assignment(c), int(self.communities[c]))
                   for c in range(self.communities.size)]
        need = sum(max(n, 0) for _, n in wanted)
        if need > len(free):
            self._too_many(model, need - len(free))
        it = iter(free)
        for assignment, n in wanted:
            for _ in range(max(n, 0)):
                out[next(it)] = assignment
        for i in it:  # not needed below HQ
            out[i] = model.hq_assignment()
        return out

    def _free_officers(self, model: PoliceModel, out: list[Assignment]) -> list[int]:
        """Officers the plan may move: station surplus first, then HQ's movable officers."""
        self._kept = np.zeros(self.stations.size, dtype=np.int64)
        surplus: list[int] = []
        for i in self.local_order.tolist():
            a = out[i]
            if a.tier != Tier.STATION:
                continue
            if self._kept[a.precinct] < self.stations[a.precinct]:
                self._kept[a.precinct] += 1
            else:
                surplus.append(i)
        return surplus + self.hq_order.tolist()

    def _too_many(self, model: PoliceModel, short: int) -> None:
        below = int(self.stations.sum() + self.communities.sum())
        movable = below - short
        civilians = "" if self.cfg.sink_civilians else " (HQ civilians stay at HQ: " \
            "strategy.sink_civilians = false)"
        raise ValueError(f"strategy.plan_stations: the plan posts {below} officers below HQ, "
                         f"but only {movable} of police.officers = {model.force.n} can be "
                         f"posted there{civilians}")

    def describe(self) -> dict[str, Any]:
        """The plan's counts."""
        return {**super().describe(), "plan_stations": format_counts(self.stations),
                "plan_communities": format_counts(self.communities)}
