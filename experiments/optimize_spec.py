"""The optimisation spec: what ``grassroots optimize SPEC.toml`` searches and how.

A spec names a base scenario, the decision variables (officers per station, officers per
community post, the head-count kept at HQ), the constraints, the objectives (indicators of the
run summary, each minimised or maximised as the indicator registry says is better), the
evaluation budget (replications on common random numbers, days, number of plans, NSGA-II
population) and the fresh-seed check. Layout::

    name = "optimize_default"
    base = "default"
    seed = 20261202
    replications = 3          # per plan, on common random numbers
    days = 90
    plans = 240               # evaluation budget (plans evaluated in all)
    population = 24           # NSGA-II population (plans per generation)
    objectives = ["response_time_mean", "response_time_p90", "satisfaction_mean",
                  "trust_mean", "response_time_gini"]

    [variables]
    station_min = 5           # officers per station: integer in [station_min, station_max]
    station_max = 60
    community_max = 2         # officers per community post: 0 (no post) .. community_max
    min_hq = 10               # constraint: officers kept at HQ
    max_vehicles = 0          # constraint: vehicles in service (0 = no limit)
    tech = false              # the smart-policing layer on/off as a decision too
    shifts = false            # staffing weights 1..4 of each shift as decisions too

    [set]                     # scenario keys fixed for every plan
    "strategy.tech" = false

    [check]                   # fresh-seed check of the front
    replications = 10
    strategies = ["centralized", "station", "community", "grid", "smart", "adaptive"]
    status_quo = "centralized"
    plans = 20                # plans of the front re-evaluated

    [quick]                   # what --quick changes
    plans = 48
    population = 12
    replications = 2
    days = 30
    check_replications = 4
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from experiments.spec import _base_scenario
from experiments.spec_fields import (
    check_known,
    check_strategy,
    int_field,
    names_field,
    text_field,
)
from experiments.spec_model import MAX_DAYS, MAX_REPLICATIONS, MAX_SEED, SpecError
from sim.params import echo
from sim.scenario import Scenario, parse_toml_file

TOP_KEYS = {"name", "description", "base", "seed", "replications", "days", "plans",
            "population", "objectives", "variables", "set", "check", "quick"}
VARIABLE_KEYS = {"station_min", "station_max", "community_max", "min_hq", "max_vehicles", "tech",
                 "shifts"}
CHECK_KEYS = {"replications", "strategies", "status_quo", "seed", "plans"}
QUICK_KEYS = {"plans", "population", "replications", "days", "check_replications"}
DEFAULT_OBJECTIVES = ("response_time_mean", "response_time_p90", "satisfaction_mean",
                      "trust_mean", "response_time_gini")
BUILT_INS = ("centralized", "station", "community", "grid", "smart", "adaptive")
MAX_PLANS = 100_000
MAX_RUNS = 1_000_000


@dataclass(frozen=True)
class Variables:
    """The decision variables and constraints.

    Attributes:
        station_min: Fewest officers at a station.
        station_max: Most officers at a station.
        community_max: Most officers at one community post (0 = no community posts).
        min_hq: Fewest officers kept at HQ (a constraint).
        max_vehicles: Most vehicles in service (a constraint; 0 = no limit).
        tech: Whether the smart-policing layer is a decision too (on or off per plan).
        shifts: Whether the staffing of each shift is a decision too (weights 1..4 per shift,
            every officer on one fixed shift).
    """

    station_min: int = 0
    station_max: int = 60
    community_max: int = 2
    min_hq: int = 0
    max_vehicles: int = 0
    tech: bool = False
    shifts: bool = False


@dataclass(frozen=True)
class Check:
    """The fresh-seed check of the front.

    Attributes:
        replications: Replications per plan and per built-in strategy on fresh seeds.
        strategies: Built-in strategies compared with the plans.
        status_quo: The strategy the plans are compared with first.
        seed: Root entropy of the fresh seeds (never the evaluation's).
        plans: Most plans of the front re-evaluated (spread evenly along the first objective).
    """

    replications: int = 10
    strategies: tuple[str, ...] = BUILT_INS
    status_quo: str = "centralized"
    seed: int = 0
    plans: int = 20


@dataclass(frozen=True)
class OptimizeSpec:
    """A validated optimisation.

    Attributes:
        name: Label (default: the file stem).
        description: Free text.
        base: The base scenario as given.
        scenario: The base scenario with ``[set]`` applied.
        seed: Root entropy; replication ``r`` of every plan uses
            ``SeedSequence(seed, spawn_key=(r,))`` (common random numbers).
        replications: Replications per plan.
        days: Simulated days per run.
        plans: Plans evaluated in all (the budget).
        population: Plans per generation (NSGA-II population size).
        objectives: Summary indicators optimised.
        variables: Decision variables and constraints.
        check: The fresh-seed check.
        fixed: The ``[set]`` entries.
    """

    name: str
    description: str
    base: str
    scenario: Scenario
    seed: int
    replications: int
    days: int
    plans: int
    population: int
    objectives: tuple[str, ...]
    variables: Variables
    check: Check
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def generations(self) -> int:
        """Generations needed for the budget (the last may be partly used)."""
        return -(-self.plans // self.population)

    def fingerprint(self) -> str:
        """A hash of everything that decides the search's results (not the check)."""
        data = {"base": self.scenario.to_dict(), "seed": self.seed,
                "replications": self.replications, "days": self.days,
                "population": self.population, "objectives": self.objectives,
                "variables": asdict(self.variables)}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()
                              ).hexdigest()[:16]


def load_optimize_spec(source: str | Path | dict[str, Any], quick: bool = False
                       ) -> OptimizeSpec:
    """Read and validate an optimisation spec.

    Args:
        source: A TOML file or a dict with the same layout.
        quick: Apply the ``[quick]`` table (a small budget that finishes in minutes).

    Returns:
        The spec.

    Raises:
        SpecError: One line naming the field and the problem.
    """
    origin: Path | None = None
    if isinstance(source, dict):
        data = dict(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise SpecError(f"{str(source)[:200]}: no such spec file")
        data = parse_toml_file(path, SpecError)
        data.setdefault("name", path.stem)
        origin = path.parent
    check_known(data, TOP_KEYS, "")
    if quick:
        data = _apply_quick(data)
    return _build(data, origin)


def _apply_quick(data: dict[str, Any]) -> dict[str, Any]:
    quick = data.get("quick", {"plans": 48, "population": 12, "replications": 2, "days": 30,
                               "check_replications": 4})
    if not isinstance(quick, dict):
        raise SpecError(f"quick: expected a table, got {echo(quick)}")
    check_known(quick, QUICK_KEYS, "quick.")
    out = {k: v for k, v in data.items() if k != "quick"}
    for key, value in quick.items():
        if key == "check_replications":
            out["check"] = {**out.get("check", {}), "replications": value}
        else:
            out[key] = value
    out["name"] = f"{out.get('name', 'optimize')}-quick"
    return out


def _build(data: dict[str, Any], origin: Path | None) -> OptimizeSpec:
    base, scenario, fixed = _base_scenario(data, origin)
    population = int_field(data, "population", 24, lo=4, hi=10_000)
    spec = OptimizeSpec(
        name=text_field(data, "name", "optimize"),
        description=text_field(data, "description", ""),
        base=base, scenario=scenario,
        seed=int_field(data, "seed", scenario.run.seed, lo=0, hi=MAX_SEED),
        replications=int_field(data, "replications", 3, lo=1, hi=MAX_REPLICATIONS),
        days=int_field(data, "days", 90, lo=1, hi=MAX_DAYS),
        plans=int_field(data, "plans", 10 * population, lo=population, hi=MAX_PLANS),
        population=population,
        objectives=_objectives(data),
        variables=_variables(data.get("variables", {})),
        check=_check(data.get("check", {})),
        fixed=fixed,
    )
    if spec.check.seed == 0:
        spec = replace(spec, check=replace(spec.check, seed=(spec.seed + 1) % MAX_SEED))
    if spec.check.seed == spec.seed:
        raise SpecError("check.seed: must differ from seed (the check uses fresh seeds)")
    runs = spec.plans * spec.replications
    if runs > MAX_RUNS:
        raise SpecError(f"plans: {spec.plans:,} plans x {spec.replications} replications = "
                        f"{runs:,} runs, more than {MAX_RUNS:,}")
    return spec


def _objectives(data: dict[str, Any]) -> tuple[str, ...]:
    from sim.indicators import find

    names = names_field(data, "objectives") or DEFAULT_OBJECTIVES
    if len(set(names)) != len(names):
        raise SpecError("objectives: each indicator once")
    for name in names:
        ind = find(name, "summary")
        if ind is None or ind.table != "summary":
            raise SpecError(f"objectives: {name!r} is not a summary indicator")
        if ind.better is None:
            raise SpecError(f"objectives: {name!r} has no better direction to optimise")
    return names


def _variables(table: Any) -> Variables:
    if not isinstance(table, dict):
        raise SpecError(f"variables: expected a table, got {echo(table)}")
    check_known(table, VARIABLE_KEYS, "variables.")
    flags = {}
    for key in ("tech", "shifts"):
        flags[key] = table.get(key, False)
        if not isinstance(flags[key], bool):
            raise SpecError(f"variables.{key}: expected true or false, got {echo(flags[key])}")
    flat = {f"variables.{k}": v for k, v in table.items()}
    ints = {k: int_field(flat, f"variables.{k}", getattr(Variables, k), lo=0, hi=1_000_000)
            for k in sorted(VARIABLE_KEYS - set(flags))}
    v = Variables(**ints, **flags)
    if v.station_max < v.station_min:
        raise SpecError(f"variables.station_max: must be >= station_min ({v.station_min}), "
                        f"got {v.station_max}")
    return v


def _check(table: Any) -> Check:
    if not isinstance(table, dict):
        raise SpecError(f"check: expected a table, got {echo(table)}")
    check_known(table, CHECK_KEYS, "check.")
    flat = {f"check.{k}": v for k, v in table.items()}
    strategies = names_field(flat, "check.strategies") or BUILT_INS
    for name in strategies:
        check_strategy(name, "check.strategies")
    status_quo = text_field(flat, "check.status_quo", strategies[0] if "centralized"
                            not in strategies else "centralized")
    if status_quo not in strategies:
        raise SpecError(f"check.status_quo: {status_quo!r} is not in check.strategies")
    return Check(replications=int_field(flat, "check.replications", 10, lo=2,
                                        hi=MAX_REPLICATIONS),
                 strategies=strategies, status_quo=status_quo,
                 seed=int_field(flat, "check.seed", 0, lo=0, hi=MAX_SEED),
                 plans=int_field(flat, "check.plans", 20, lo=1, hi=10_000))
