"""Built-in sinking strategies (registered on import).

All built-ins share one mechanism for moving people, :class:`Sinking`: officers keep their
identity, and a fixed random order (from the strategy stream) decides *who* moves, so a larger
``sink_fraction`` — or the next step of a gradual schedule — moves the same officers plus
some more. Officers are never created or lost: every re-posting goes through
:meth:`sim.model.PoliceModel.repost` and is logged in the ``allocations`` table.

* ``centralized`` — the baseline: the force as configured (half at HQ), long chain.
* ``station`` — ``sink_fraction`` of HQ officers move to stations; stations dispatch (one hop
  fewer).
* ``community`` — as station, then ``community_share`` of station officers go to community
  posts: foot patrol and household visits in their community, first response to local calls.
* ``grid`` — as station, then ``community_share`` of station officers (auxiliaries first)
  each take responsibility for small grids of about ``grid_households`` households; routine
  calls are handled in-grid, emergencies and urgent calls by station vehicles.
* ``smart`` — the information platform on the configured force: direct dispatch, shorter
  call handling, predictive (risk-weighted) patrol, data sharing for clearance. The same layer
  is added to any strategy with ``tech = true``.
* ``adaptive`` — community sinking plus an evaluation every ``eval_period_days``: community
  officers move from the best-served to the worst-served communities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from agents.enums import Tier
from agents.officers import Assignment
from sim.params import param
from sim.strategies.base import Strategy
from sim.strategies.registry import register_strategy
from sim.units import MIN_PER_DAY, QUARTER_DAYS

_COMMUNITY = int(Tier.COMMUNITY)

if TYPE_CHECKING:
    from sim.model import PoliceModel
    from sim.scenario import Scenario


@dataclass(frozen=True)
class SinkingParams:
    """Parameters of every built-in strategy: how far to sink, the tech layer, rotation."""

    sink_fraction: float = param(
        0.5, "-", "Share of HQ officers moved down (MPS 2022: stations >= 40% of the force).",
        lo=0, hi=1,
    )
    sink_per_quarter: float = param(
        0.0, "-", "Gradual sinking: share of HQ officers moved per quarter; 0 = all at once.",
        lo=0, hi=1,
    )
    community_share: float = param(
        0.4, "-", "Share of station officers posted to communities or grids (MPS 2022: "
        "community officers >= 40% of station police).", lo=0, hi=1,
    )
    sink_civilians: bool = param(
        True, "-", "Head-count sinking moves HQ civilians too (who add no response capacity); "
        "false sinks sworn officers only (right person, right post).",
    )
    equipment_follows: bool = param(
        True, "-", "Vehicles follow officers down (resource tilt); false: sunk officers walk."
    )
    tech: bool = param(False, "-", "Add the smart-policing layer to any strategy.")
    tech_hops: int = param(0, "-", "Relay hops with the platform: direct dispatch (Zhuhai).",
                           lo=0, hi=10)
    tech_handling_factor: float = param(
        0.6, "-", "Call handling time with the platform relative to without (assumption).",
        lo=0, hi=1, plausible=(0.4, 0.8),
    )
    tech_clearance_bonus: float = param(
        0.3, "logit", "Clearance log-odds from data sharing (assumption).", lo=0, hi=5,
        plausible=(0.1, 0.5),
    )
    patrol_focus: float = param(
        1.0, "-", "Predictive patrol: patrol weight proportional to risk^focus (hot-spot "
        "policing, Braga et al. 2019).", lo=0, hi=5,
    )
    rotation_days: int = param(0, "d", "Rotation (轮岗) period; 0 = no rotation.", lo=0, hi=36_500)
    rotation_share: float = param(
        0.25, "-", "Share of community officers rotated each period.", lo=0, hi=1
    )





@dataclass(frozen=True)
class GridParams(SinkingParams):
    """Grid management: grid size and which calls the grid's officer answers."""

    grid_households: float = param(
        300.0, "households", "Households per grid (Yangjiang scheme: 150-500).", lo=1, hi=1_000_000,
    )
    grid_fallback: bool = param(
        True, "-", "Routine calls go to other units when the grid officer is busy."
    )
    grid_classes: tuple[str, ...] = param(
        ("routine",), "-", "Incident classes handled in-grid by the grid's officer; other "
        "classes go to station vehicles (Yangjiang scheme: routine service calls).",
    )


@dataclass(frozen=True)
class AdaptiveParams(SinkingParams):
    """Adaptive re-allocation: how often to evaluate and how many officers to move."""

    eval_period_days: int = param(
        QUARTER_DAYS, "d", "Adaptive: evaluate every quarter (the essay's regular evaluation).",
        lo=1, hi=36_500,
    )
    adaptive_max_moves: int = param(
        4, "officers", "Adaptive: most officers re-posted per evaluation.", lo=0, hi=100_000,
    )


class Sinking(Strategy):
    """Shared machinery: configured force, optional sinking, tech layer, rotation."""

    Params: ClassVar[type] = SinkingParams
    sinks_to_station = False
    local_tier: Tier | None = None  # tier posted below stations (community or grid)

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        self.cfg: Any = self.params
        self.base: list[Assignment] = []
        self.hq_order: np.ndarray = np.zeros(0, dtype=np.int64)
        self.local_order: np.ndarray = np.zeros(0, dtype=np.int64)
        self.applied_fraction = 0.0

    # -- who moves --------------------------------------------------------------------------
    def current_fraction(self, day: int) -> float:
        """Share of HQ officers sunk on ``day`` (a step schedule if gradual).

        A gradual schedule adds ``sink_per_quarter`` on days 0, ``QUARTER_DAYS`` (90),
        2 x ``QUARTER_DAYS``, ... until ``sink_fraction`` is reached (:mod:`sim.units`).
        """
        if not self.sinks_to_station:
            return 0.0
        step = self.cfg.sink_per_quarter
        if step <= 0:
            return self.cfg.sink_fraction
        return min(self.cfg.sink_fraction, step * (day // QUARTER_DAYS + 1))

    def organise(self, model: PoliceModel) -> list[Assignment]:
        """The configured force, then sinking at the fraction due on day 0."""
        self.base = super().organise(model)
        rng = model.streams.strategy
        tiers = np.array([a.tier for a in self.base])
        movable = tiers == Tier.HQ
        if not self.cfg.sink_civilians:
            movable &= ~model.force.civilian
        self.hq_order = rng.permutation(np.flatnonzero(movable))
        # Auxiliaries first for grids (the "1+1+N" grid head), then a random order.
        below = rng.permutation(len(self.base))
        if isinstance(self, Grid):
            below = below[np.argsort(model.force.sworn[below], kind="stable")]
        self.local_order = below
        self.prepare(model)
        self.applied_fraction = self.current_fraction(0)
        return self.target(model, self.applied_fraction)

    def equipment_follows(self) -> bool:
        """Vehicles follow sunk officers unless ``equipment_follows`` is false."""
        return bool(self.cfg.equipment_follows)

    def prepare(self, model: PoliceModel) -> None:
        """Hook for strategies that need extra structure (e.g. grids) before posting."""

    def target(self, model: PoliceModel, fraction: float) -> list[Assignment]:
        """Assignments of every officer when ``fraction`` of HQ officers have sunk."""
        out = list(self.base)
        n_sink = int(round(fraction * self.hq_order.size))
        n_prec = model.layout.n_precincts
        for k, i in enumerate(self.hq_order[:n_sink].tolist()):
            out[i] = model.station_assignment(k % n_prec)
        if self.local_tier is not None:
            station = [i for i in self.local_order.tolist() if out[i].tier == Tier.STATION]
            n_local = int(round(self.cfg.community_share * len(station)))
            for k, i in enumerate(station[:n_local]):
                out[i] = self.local_assignment(model, k, out[i])
        return out

    def local_assignment(self, model: PoliceModel, k: int, current: Assignment) -> Assignment:
        """The ``k``-th posting below the stations (community posts by population)."""
        order = model.communities_by_population()
        return model.community_assignment(int(order[k % order.size]))

    # -- dispatch ---------------------------------------------------------------------------
    def chain_hops(self, priority: int) -> int:
        """Relay hops: one fewer once stations dispatch; the platform's own with tech."""
        if self.cfg.tech:
            return int(self.cfg.tech_hops)
        hops = self.scenario.dispatch.hops
        return max(hops - 1, 0) if self.sinks_to_station else hops

    def handling_factor(self) -> float:
        """The platform shortens call handling."""
        return float(self.cfg.tech_handling_factor) if self.cfg.tech else 1.0

    def clearance_bonus(self, model: PoliceModel) -> float:
        """Data sharing adds to clearance."""
        return float(self.cfg.tech_clearance_bonus) if self.cfg.tech else 0.0

    def eligible(self, model: PoliceModel, row: int, candidates: np.ndarray) -> np.ndarray:
        """Community officers answer in their community, and in their precinct by car."""
        f = model.force
        local = f.tier[candidates] == _COMMUNITY
        if not local.any():  # no community officer among them: everyone may answer
            return ~local
        log = model.log
        own = f.community[candidates] == log.get("community", row)
        near = f.vehicle[candidates] & (f.precinct[candidates] == log.get("precinct", row))
        return ~local | own | near

    # -- patrol -----------------------------------------------------------------------------
    def patrol_weights(self, model: PoliceModel, cells: np.ndarray) -> np.ndarray:
        """Predictive patrol towards risk with the platform; uniform otherwise."""
        if self.cfg.tech:
            return model.layout.risk[cells] ** self.cfg.patrol_focus
        return np.ones(cells.size)

    # -- over time --------------------------------------------------------------------------
    def on_day(self, model: PoliceModel, day: int) -> None:
        """Gradual sinking and rotation."""
        due = self.current_fraction(day)
        if due != self.applied_fraction:
            self.applied_fraction = due
            self.apply(model, self.target(model, due), reason="schedule")
        if self.cfg.rotation_days and day % self.cfg.rotation_days == 0:
            self.rotate(model)

    def apply(self, model: PoliceModel, assignments: list[Assignment], reason: str) -> None:
        """Re-post every officer whose assignment differs from ``assignments``."""
        f = model.force
        for i, a in enumerate(assignments):
            if (f.tier[i], f.post_cell[i], f.area[i]) != (a.tier, a.post_cell, a.area):
                model.repost(i, a, reason)

    def rotate(self, model: PoliceModel) -> None:
        """Rotation (轮岗): a random share of community officers swap communities in a cycle."""
        f = model.force
        local = np.flatnonzero(f.tier == Tier.COMMUNITY)
        k = int(round(self.cfg.rotation_share * local.size))
        if k < 2:
            return
        movers = model.streams.strategy.choice(local, size=k, replace=False)
        posts = [model.assignment_of(int(i)) for i in movers]
        for i, a in zip(movers.tolist(), posts[1:] + posts[:1], strict=True):
            model.repost(i, a, "rotation")


@register_strategy
class Centralized(Sinking):
    """Baseline: capacity held at HQ, every call relayed down the chain from the HQ centre."""

    name = "centralized"
    description = "Most capacity at HQ; all dispatch through the HQ command centre."


@register_strategy
class Station(Sinking):
    """Streamline HQ, strengthen stations (精简机关、充实基层)."""

    name = "station"
    description = "sink_fraction of HQ officers moved to stations; stations dispatch."
    sinks_to_station = True


@register_strategy
class Community(Sinking):
    """Community policing (社区警务): officers posted to community posts."""

    name = "community"
    description = "Station sinking plus community posts: foot patrol, visits, local response."
    sinks_to_station = True
    local_tier = Tier.COMMUNITY


@register_strategy
class Grid(Sinking):
    """Grid management (网格化管理): small grids, each with a responsible officer."""

    name = "grid"
    description = "Grids of ~grid_households households, each with a responsible officer."
    Params = GridParams
    sinks_to_station = True
    local_tier = Tier.COMMUNITY

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        names = scenario.incidents.names
        for name in self.cfg.grid_classes:
            if name not in names:
                raise ValueError(f"strategy.grid_classes: unknown incident class {name!r} "
                                 f"(classes: {', '.join(names)})")
        self.in_grid = np.array([n in self.cfg.grid_classes for n in names])
        self.sworn_only = np.array([c.sworn_only for c in scenario.incidents.by_index()])

    def prepare(self, model: PoliceModel) -> None:
        """Cut every community into square grids of about ``grid_households`` households."""
        lay = model.layout
        # Persons per cell inside the city (masked cells of a real city have nobody).
        households_per_cell = (lay.population[lay.mask].mean() /
                               self.scenario.residents.household_size)
        side = max(1, int(round(np.sqrt(self.cfg.grid_households /
                                        max(households_per_cell, 1e-9)))))
        x, y = lay.xy(np.arange(lay.n_cells))
        key = lay.community * 1_000_000 + (x // side) * 1000 + (y // side)
        _, grid_of_cell = np.unique(key, return_inverse=True)
        self.grid_of_cell = grid_of_cell
        areas = [np.flatnonzero(grid_of_cell == g) for g in range(grid_of_cell.max() + 1)]
        grid_comm = np.array([lay.community[a[0]] for a in areas])
        # Grids of the most populous communities first, so officers cover people first.
        pop = np.array([lay.population[a].sum() for a in areas])
        self.grid_order = np.lexsort((np.arange(pop.size), -pop))
        self.grid_comm = grid_comm
        self.first_area = model.add_patrol_areas(areas)

    def local_assignment(self, model: PoliceModel, k: int, current: Assignment) -> Assignment:
        """The ``k``-th grid officer takes the ``k``-th most populous grid."""
        g = int(self.grid_order[k % self.grid_order.size])
        comm = int(self.grid_comm[g])
        base = model.community_assignment(comm)
        return Assignment(Tier.COMMUNITY, base.post_cell, base.precinct, comm,
                          self.first_area + g)

    def eligible(self, model: PoliceModel, row: int, candidates: np.ndarray) -> np.ndarray:
        """In-grid classes go to the grid's officer (fallback: vehicles), others to vehicles."""
        f = model.force
        grid_officer = f.tier[candidates] == Tier.COMMUNITY
        log = model.log
        klass = int(log.get("priority", row))
        if not self.in_grid[klass]:
            return ~grid_officer & f.vehicle[candidates]
        own = grid_officer & (
            f.area[candidates] == self.first_area + self.grid_of_cell[log.get("cell", row)])
        if self.sworn_only[klass]:
            own &= f.sworn[candidates]
        # Fallback only when the grid's officer is not among the available candidates.
        if self.cfg.grid_fallback and not own.any():
            return ~grid_officer & f.vehicle[candidates]
        return own


@register_strategy
class Smart(Sinking):
    """Technology-enabled policing (科技强警) on the configured force."""

    name = "smart"
    description = "Information platform: direct dispatch, predictive patrol, data sharing."

    @classmethod
    def resolve(cls, scenario: Scenario) -> Scenario:
        """The platform is what this strategy is: the scenario it runs has ``tech = true``."""
        return scenario.with_overrides({"strategy.tech": True})


@register_strategy
class Adaptive(Community):
    """Evaluate regularly and keep improving (效果评估与持续改进)."""

    name = "adaptive"
    description = "Community sinking; every eval period officers move to the worst communities."
    Params = AdaptiveParams

    def look_back_days(self) -> int:
        """The evaluation reads the last period's incidents."""
        return int(self.cfg.eval_period_days)

    def on_day(self, model: PoliceModel, day: int) -> None:
        """Evaluate every ``eval_period_days`` and re-post towards the worst communities."""
        super().on_day(model, day)
        period = self.cfg.eval_period_days
        if day > 0 and day % period == 0:
            self.rebalance(model, day, period)

    def scores(self, model: PoliceModel, day: int, period: int) -> np.ndarray:
        """Need of each community (higher = worse served).

        The period's mean response time relative to the city mean, plus the satisfaction
        shortfall relative to the city mean.
        """
        log = model.log
        n = model.layout.n_communities
        t0 = (day - period) * MIN_PER_DAY
        arrive = log.column("t_arrive")
        sel = log.ids()[arrive >= t0]
        rt = log.get("t_arrive", sel) - log.get("t_report", sel)
        comm = log.get("community", sel)
        total = np.bincount(comm, weights=rt, minlength=n)
        count = np.bincount(comm, minlength=n)
        mean_rt = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        city = np.nanmean(mean_rt) if np.isfinite(mean_rt).any() else 1.0
        rel = np.nan_to_num(mean_rt / city, nan=1.0)
        sat = np.nan_to_num(model.residents.by_community("satisfaction"), nan=0.0)
        return rel + (sat.mean() - sat)

    def rebalance(self, model: PoliceModel, day: int, period: int) -> None:
        """Move up to ``adaptive_max_moves`` community officers from best to worst served."""
        f = model.force
        need = self.scores(model, day, period)
        order = np.argsort(need, kind="stable")  # best first
        for _ in range(self.cfg.adaptive_max_moves):
            counts = np.bincount(f.community[f.tier == Tier.COMMUNITY],
                                 minlength=need.size)
            donors = [c for c in order if counts[c] >= 2 or (counts[c] == 1 and
                                                               need[c] < np.median(need))]
            if not donors:
                return
            worst, best = int(order[-1]), int(donors[0])
            if worst == best or need[worst] - need[best] <= 0.05:
                return
            i = int(np.flatnonzero((f.tier == Tier.COMMUNITY) & (f.community == best))[0])
            model.repost(i, model.community_assignment(worst), "evaluation")
            need[worst] -= (need[worst] - need[best]) / 2
            order = np.argsort(need, kind="stable")
