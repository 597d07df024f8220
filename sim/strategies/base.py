"""The strategy protocol: four decisions a sinking strategy makes.

1. **Allocation** (:meth:`Strategy.organise`): which tier and post each officer has.
2. **Dispatch** (:meth:`Strategy.chain_hops`, :meth:`Strategy.eligible`): how many relay hops
   a call passes before a unit is assigned, and which available units may take it (the model
   then picks the nearest of them by travel time).
3. **Patrol** (:meth:`Strategy.patrol_weights`): where free officers patrol within their area.
4. **Evaluation** (:meth:`Strategy.on_day`): a daily hook, where a strategy may evaluate the
   indicators and re-post officers with :meth:`sim.model.PoliceModel.repost`.

The base class implements the plain organisation described by the ``[police]`` and
``[dispatch]`` sections, so a new strategy overrides only what it changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from agents.enums import Tier
from agents.officers import Assignment
from sim.params import param

if TYPE_CHECKING:
    from sim.model import PoliceModel
    from sim.scenario import Scenario


@dataclass(frozen=True)
class StrategyConfig:
    """Which sinking strategy organises the force, and the parameters of every strategy.

    The section is composed (see :func:`sim.strategies.registry.strategy_config_class`): this
    base holds ``name``; each strategy's ``Params`` adds its own parameters.
    """

    name: str = param("centralized", "-", "Registered strategy name (see `grassroots scenarios`).")

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        from sim.strategies.registry import rebuild_strategy_config

        return rebuild_strategy_config, (dataclasses.asdict(self),)


@dataclass(frozen=True)
class NoParams:
    """A strategy without parameters of its own."""


class Strategy:
    """Base strategy: the force as configured in ``[police]``, dispatched as in ``[dispatch]``.

    A strategy declares its own parameters as a frozen dataclass of
    :func:`sim.params.param` fields in ``Params``; the ``[strategy]`` section of every
    scenario is composed of the parameters of all known strategies (plug-ins included), so
    they are set, swept and documented like any other. ``self.params`` holds this strategy's
    values.

    Args:
        scenario: The scenario to run; ``self.scenario`` is it after :meth:`resolve`.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Params: ClassVar[type] = NoParams

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario = self.resolve(scenario)
        section = scenario.strategy
        self.params: Any = self.Params(**{f.name: getattr(section, f.name)
                                          for f in dataclasses.fields(self.Params)})

    @classmethod
    def resolve(cls, scenario: Scenario) -> Scenario:
        """The scenario as this strategy really runs it (default: unchanged).

        A strategy that fixes a parameter (``smart`` turns the tech layer on) says so here, so
        that the scenario written with a run states what was used.
        """
        return scenario

    def look_back_days(self) -> int:
        """Days of past incidents the strategy reads (kept in memory in long runs)."""
        return 0

    def equipment_follows(self) -> bool:
        """Whether a sunk officer keeps the vehicle of their old tier (default yes)."""
        return True

    # -- allocation -------------------------------------------------------------------------
    def tier_counts(self, n: int) -> dict[Tier, int]:
        """Officers per tier (largest-remainder rounding of the configured shares)."""
        p = self.scenario.police
        return split_counts(n, {Tier.HQ: p.share_hq, Tier.STATION: p.share_station,
                                Tier.COMMUNITY: p.share_community})

    def organise(self, model: PoliceModel) -> list[Assignment]:
        """Assign every officer a tier, a post and a patrol area.

        Station officers are spread evenly over stations, community officers over communities
        in order of population (the most populous first). With a staffing table
        (``police.staffing_file``) every person is posted where their row says.
        """
        staffing = getattr(model.force, "staffing", None)
        if staffing is not None:
            return staffing.assignments(model)
        counts = self.tier_counts(model.force.n)
        out = [model.hq_assignment() for _ in range(counts[Tier.HQ])]
        out += [model.station_assignment(k % model.layout.n_precincts)
                for k in range(counts[Tier.STATION])]
        order = model.communities_by_population()
        out += [model.community_assignment(int(order[k % len(order)]))
                for k in range(counts[Tier.COMMUNITY])]
        return out

    # -- dispatch ---------------------------------------------------------------------------
    def chain_hops(self, priority: int) -> int:
        """Relay hops between the call centre and the assigned unit, per incident class."""
        return self.scenario.dispatch.hops

    def handling_factor(self) -> float:
        """Call-handling time relative to ``dispatch.call_handling_min`` (default 1)."""
        return 1.0

    def eligible(self, model: PoliceModel, row: int, candidates: np.ndarray) -> np.ndarray:
        """Which of the available ``candidates`` (officer indices) may take incident ``row``."""
        return np.ones(candidates.size, dtype=bool)

    def clearance_bonus(self, model: PoliceModel) -> float:
        """Log-odds added to every clearance (e.g. shared data); default none."""
        return 0.0

    # -- patrol -----------------------------------------------------------------------------
    def patrol_weights(self, model: PoliceModel, cells: np.ndarray) -> np.ndarray:
        """Relative patrol time over ``cells`` of one patrol area (default: uniform)."""
        return np.ones(cells.size)

    # -- evaluation -------------------------------------------------------------------------
    def on_day(self, model: PoliceModel, day: int) -> None:
        """Called at the start of every day after the first; may re-post officers."""

    def describe(self) -> dict[str, object]:
        """Key facts of this strategy for summaries."""
        return {"strategy": self.name}


def split_counts(n: int, shares: dict[Tier, float]) -> dict[Tier, int]:
    """Split ``n`` into integer counts proportional to ``shares`` (largest remainder).

    Args:
        n: Total to split.
        shares: Non-negative shares (need not sum to one).

    Returns:
        Counts that add up to ``n`` exactly.
    """
    keys = list(shares)
    w = np.array([shares[k] for k in keys], dtype=float)
    if n == 0 or w.sum() <= 0:
        return dict.fromkeys(keys, 0) | ({keys[0]: n} if w.sum() <= 0 else {})
    raw = n * w / w.sum()
    base = np.floor(raw).astype(int)
    rest = n - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return {k: int(c) for k, c in zip(keys, base, strict=True)}
