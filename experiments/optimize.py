"""``grassroots optimize``: the Pareto front of sinking plans (NSGA-II through optuna).

A *plan* says how many officers work at each station and at each community post; the rest
stay at HQ (:mod:`sim.strategies.plan`). The search evaluates plans generation by generation:
optuna's :class:`~optuna.samplers.NSGAIISampler` (integer variables, crowding-distance
selection, constraint handling) proposes a generation, every plan is run with the same
replications on common random numbers (replication ``r`` of every plan uses
``SeedSequence(seed, spawn_key=(r,))``), in parallel on local processes or a Dask cluster
(the sweeps' backends), and the objectives are the replication means of summary indicators.

Why optuna rather than a hand-written GA: it is a maintained library with NSGA-II for mixed
integer spaces, constraints (infeasible plans are dominated by feasible ones) and an ask/tell
interface that lets us evaluate a whole generation in parallel and keep our own resumable
store. pymoo would do as well; optuna was already a small, pure-Python dependency with no
compiled parts to build.

The store (``--out``) keeps one Parquet file per finished generation, written atomically, so a
search killed at any moment resumes (``--resume``) from its last finished generation, and the
sampler of generation ``g`` is seeded by ``(seed, g)`` and sees only finished generations: a
resumed search proposes exactly the plans an uninterrupted one would, and the result does not
depend on the number of workers.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.optimize_spec import OptimizeSpec
from sim.outputs import OutputError, check_location, check_replaceable, write_marker
from sim.scenario import Scenario

KIND = "optimize"
PATTERNS = ("generations/g*.parquet", "plans/t*.toml", "figures/*.png", "front.parquet",
            "trials.parquet", "check.parquet", "paired.csv", "report.md", "base.toml",
            "manifest.json")
GEN_KEY = "NSGAIISampler:generation"
SHIFT_WEIGHT_MAX = 4
"""Shift staffing weights run 1..4: from equal shifts to one shift four times another."""
NOT_OFFICERS = ("tech", "shift_")
"""Variables that are not officer counts."""


class OptimizeError(ValueError):
    """The optimisation cannot proceed; the one-line message names the field or option."""


@dataclass(frozen=True)
class CityShape:
    """What the decision variables are over: the base city's stations and communities.

    Attributes:
        precincts: Station (precinct) names, in order.
        communities: Community names, in order.
        officers: Size of the force.
    """

    precincts: tuple[str, ...]
    communities: tuple[str, ...]
    officers: int


def city_shape(scenario: Scenario) -> CityShape:
    """Read the base city's stations, communities and force size (builds the model once)."""
    from sim.api import build_model

    lay = build_model(scenario, days=1).layout
    names = getattr(lay, "precinct_names", None) or [str(k) for k in range(lay.n_precincts)]
    comms = getattr(lay, "community_names", None) or [str(k) for k in range(lay.n_communities)]
    return CityShape(tuple(map(str, names)), tuple(map(str, comms)), scenario.police.officers)


# -- the plan as variables -----------------------------------------------------------------
def variable_names(shape: CityShape, spec: OptimizeSpec) -> list[str]:
    """Decision variables: ``station_<k>`` for every station, ``community_<j>`` if posts."""
    out = [f"station_{k}" for k in range(len(shape.precincts))]
    if spec.variables.community_max > 0:
        out += [f"community_{j}" for j in range(len(shape.communities))]
    if spec.variables.shifts:
        out += [f"shift_{k}" for k in range(spec.scenario.police.shifts_per_day)]
    if spec.variables.tech:
        out.append("tech")
    return out


def distributions(shape: CityShape, spec: OptimizeSpec) -> dict[str, Any]:
    """Optuna integer distributions of every decision variable."""
    from optuna.distributions import IntDistribution

    v = spec.variables
    out: dict[str, Any] = {}
    for name in variable_names(shape, spec):
        hi = v.station_max if name.startswith("station_") else \
            1 if name == "tech" else SHIFT_WEIGHT_MAX if name.startswith("shift_") else \
            v.community_max
        lo = v.station_min if name.startswith("station_") else \
            1 if name.startswith("shift_") else 0
        out[name] = IntDistribution(lo, hi)
    return out


def plan_overrides(params: dict[str, int], shape: CityShape) -> dict[str, Any]:
    """The scenario overrides of a plan (``strategy.name = "plan"`` and its counts)."""
    from sim.strategies.plan import format_counts

    stations = np.array([params[f"station_{k}"] for k in range(len(shape.precincts))])
    comms = np.array([params.get(f"community_{j}", 0) for j in range(len(shape.communities))])
    out: dict[str, Any] = {"strategy.name": "plan",
                           "strategy.plan_stations": format_counts(stations),
                           "strategy.plan_communities": format_counts(comms)}
    if "tech" in params:
        out["strategy.tech"] = bool(params["tech"])
    shifts = [params[f"shift_{k}"] for k in range(sum(1 for p in params if
                                                      p.startswith("shift_")))]
    if shifts:
        out["strategy.plan_shifts"] = ",".join(str(int(w)) for w in shifts)
    return out


def hq_officers(params: dict[str, int], shape: CityShape) -> int:
    """Officers left at HQ by a plan."""
    return shape.officers - int(sum(v for k, v in params.items()
                                    if not k.startswith(NOT_OFFICERS)))


# -- evaluation (runs in workers) -------------------------------------------------------------
@dataclass(frozen=True)
class PlanRun:
    """One replication of one plan (or of a built-in strategy, in the check).

    Attributes:
        key: The plan's id (``t0042``) or the strategy's name.
        rep: Replication (the spawn key).
        scenario: The scenario to run.
        days: Simulated days.
        seed: Root entropy.
    """

    key: str
    rep: int
    scenario: Scenario
    days: int
    seed: int

    def __str__(self) -> str:
        return f"{self.key}-r{self.rep}"


def evaluate(task: PlanRun) -> dict[str, Any]:
    """Run one replication and return its summary (plus vehicles in service).

    Exactly what ``grassroots run PLAN.toml --spawn-key REP`` computes.
    """
    from sim.api import build_model, collect

    seed = np.random.SeedSequence(entropy=task.seed, spawn_key=(task.rep,))
    try:
        model = build_model(task.scenario, seed, task.days)
        vehicles = int(model.force.vehicle.sum())
        model.run_days(task.days)
        summary = collect(model).summary
    except Exception as exc:  # a plan the city cannot take: infeasible, reported
        return {"key": task.key, "rep": task.rep, "error": " ".join(str(exc).split())[:300]}
    row = {k: v for k, v in summary.items() if isinstance(v, int | float | np.number)}
    return {"key": task.key, "rep": task.rep, "error": "", "vehicles": vehicles, **row}


def run_all(tasks: list[PlanRun], workers: int | None, dask: Any,
            progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Run every task on the chosen backend; one row per task, in task order."""
    from experiments.execute import describe_error, make_backend

    def lost(task: PlanRun, exc: BaseException) -> dict[str, Any]:
        return {"key": task.key, "rep": task.rep, "error": describe_error(exc)}

    backend = make_backend(workers, dask, lost, len(tasks))
    rows = {}
    for task, row in backend.map(evaluate, tasks):
        rows[str(task)] = row
        if progress is not None:
            progress(1)
    return pd.DataFrame([rows[str(t)] for t in tasks])


# -- the store ------------------------------------------------------------------------------
class OptimizeStore:
    """An optimisation's folder: the spec, one Parquet file per finished generation, results.

    Args:
        path: The folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.generations = path / "generations"

    @classmethod
    def open(cls, path: str | Path, spec: OptimizeSpec, resume: bool, force: bool
             ) -> OptimizeStore:
        """Create the folder, or reopen one of the same search (``--resume``).

        Raises:
            OptimizeError: The folder may not be used (names ``--out``).
        """
        try:
            target = check_location(path, "--out")
            store = cls(target)
            manifest = store.manifest()
            if manifest is not None and resume:
                if manifest.get("fingerprint") != spec.fingerprint():
                    raise OptimizeError(f"--resume: {target} holds a different search (its "
                                        "base, seed, days, replications, population, "
                                        "objectives or variables differ); use --force or "
                                        "another --out")
                return store
            check_replaceable(target, "--out", KIND, force, PATTERNS,
                              hint="use --resume to continue it or --force to start over")
        except OutputError as exc:
            raise OptimizeError(str(exc)) from None
        store._create(spec)
        return store

    def _create(self, spec: OptimizeSpec) -> None:
        from sim.outputs import make_stage, remove_own, swap_in

        stage = make_stage(self.path)
        try:
            (stage / "generations").mkdir()
            (stage / "base.toml").write_text(base_toml(spec))
            manifest = {"format": 1, "name": spec.name, "fingerprint": spec.fingerprint(),
                        "seed": spec.seed, "days": spec.days,
                        "replications": spec.replications, "population": spec.population,
                        "objectives": list(spec.objectives)}
            (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            write_marker(stage, KIND, patterns=PATTERNS)
            left = swap_in(stage, self.path, PATTERNS)
        except BaseException:
            remove_own(stage, anything=True)
            raise
        if left is not None:
            warnings.warn(f"the replaced folder was kept in {left}", stacklevel=2)

    def manifest(self) -> dict[str, Any] | None:
        """The manifest of an optimisation folder, or None."""
        try:
            data = json.loads((self.path / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def finished(self) -> list[int]:
        """Generations stored completely, in order."""
        return sorted(int(p.stem[1:]) for p in self.generations.glob("g[0-9]*.parquet"))

    def trials(self) -> pd.DataFrame:
        """Every evaluated plan of every finished generation."""
        parts = [pd.read_parquet(self.generations / f"g{g:04d}.parquet")
                 for g in self.finished()]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def write_generation(self, g: int, frame: pd.DataFrame) -> None:
        """Store one finished generation atomically."""
        tmp = self.generations / f".g{g:04d}.{os.getpid()}.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, self.generations / f"g{g:04d}.parquet")


def base_toml(spec: OptimizeSpec) -> str:
    """The base scenario with the search's days and seed (every plan file starts from it)."""
    sc = spec.scenario.with_overrides({"run.days": spec.days, "run.seed": spec.seed})
    return sc.to_toml()


# -- the search -------------------------------------------------------------------------------
def _sampler(spec: OptimizeSpec, generation: int) -> Any:
    import optuna

    seed = int(np.random.SeedSequence(entropy=spec.seed, spawn_key=(generation, 7)
                                      ).generate_state(1)[0])
    return optuna.samplers.NSGAIISampler(population_size=spec.population, seed=seed)


def _directions(spec: OptimizeSpec) -> list[str]:
    from sim.indicators import find

    return ["minimize" if find(o).better == "lower" else "maximize"  # type: ignore[union-attr]
            for o in spec.objectives]


def _study(spec: OptimizeSpec, done: pd.DataFrame, dists: dict[str, Any], generation: int
           ) -> Any:
    """An in-memory study holding the finished trials, with generation ``generation``'s sampler."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=_directions(spec), sampler=_sampler(spec, generation))
    frozen = []
    for row in done.itertuples(index=False):
        frozen.append(optuna.trial.create_trial(
            params={k: int(getattr(row, k)) for k in dists}, distributions=dists,
            values=[float(getattr(row, o)) for o in spec.objectives],
            system_attrs=json.loads(row.system_attrs)))
    if frozen:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optuna's ExperimentalWarning on add_trials
            study.add_trials(frozen)
    return study


def search(spec: OptimizeSpec, store: OptimizeStore, workers: int | None = None,
           dask: Any = None, log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Run the generations the store still lacks; return every evaluated plan.

    Args:
        spec: The optimisation.
        store: Its folder.
        workers: Local worker processes (None: one per core).
        dask: A Dask scheduler address or ``"local"`` (None: local processes).
        log: Receives one line per generation.

    Returns:
        One row per evaluated plan: its id, generation, variables, objective means,
        constraint values and errors.
    """
    shape = city_shape(spec.scenario)
    dists = distributions(shape, spec)
    done = store.trials()
    for g in range(spec.generations):
        if g in store.finished():
            continue
        start = time.perf_counter()
        n = min(spec.population, spec.plans - len(done))
        if n <= 0:
            break
        frame = _generation(spec, shape, dists, done, g, n, workers, dask)
        store.write_generation(g, frame)
        done = pd.concat([done, frame], ignore_index=True)
        if log is not None:
            feasible = frame["feasible"].sum()
            log(f"generation {g + 1}/{spec.generations}: {n} plans ({feasible} feasible) in "
                f"{time.perf_counter() - start:.1f} s")
    return done


def _generation(spec: OptimizeSpec, shape: CityShape, dists: dict[str, Any], done: pd.DataFrame,
                g: int, n: int, workers: int | None, dask: Any) -> pd.DataFrame:
    study = _study(spec, done, dists, g)
    asked = [study.ask(dists) for _ in range(n)]
    keys = [f"t{len(done) + k:05d}" for k in range(n)]
    seen = _evaluated(done, list(dists))
    new = {key: t for key, t in zip(keys, asked, strict=True)
           if _params_key(t.params, list(dists)) not in seen}
    unique: dict[tuple[int, ...], str] = {}  # the same plan twice in one generation runs once
    for key, t in new.items():
        unique.setdefault(_params_key(t.params, list(dists)), key)
    tasks = [PlanRun(key, r, spec.scenario.with_overrides(plan_overrides(new[key].params, shape)),
                     spec.days, spec.seed)
             for key in unique.values() for r in range(spec.replications)]
    runs = run_all(tasks, workers, dask) if tasks else pd.DataFrame({"key": []})
    rows = []
    for key, trial in zip(keys, asked, strict=True):
        pk = _params_key(trial.params, list(dists))
        source = unique.get(pk, seen.get(pk, key))
        mine = runs[runs["key"] == source] if source in unique.values() else None
        rows.append(_tell(spec, study, trial, key, g, mine, shape,
                          done_row=None if mine is not None else _row_of(done, source)))
    return pd.DataFrame(rows)


def _params_key(params: dict[str, int], names: list[str]) -> tuple[int, ...]:
    return tuple(int(params[n]) for n in names)


def _evaluated(done: pd.DataFrame, names: list[str]) -> dict[tuple[int, ...], str]:
    """Plans already evaluated (the results are deterministic: never run twice)."""
    if done.empty:
        return {}
    keys = done[names].to_numpy(dtype=np.int64)
    return {tuple(int(x) for x in k): p for k, p in zip(keys, done["plan"], strict=True)}


def _row_of(done: pd.DataFrame, plan: str) -> pd.Series:
    return done[done["plan"] == plan].iloc[0]


def _tell(spec: OptimizeSpec, study: Any, trial: Any, key: str, g: int,
          runs: pd.DataFrame | None, shape: CityShape, done_row: pd.Series | None = None
          ) -> dict[str, Any]:
    """Aggregate a plan's replications, tell the study, and return the plan's row.

    A plan evaluated before (``done_row``) is told its stored results without running again.
    """
    if runs is None:
        assert done_row is not None
        runs = _stored_runs(spec, done_row)
    errors = [e for e in runs["error"] if e]
    v = spec.variables
    hq = hq_officers(trial.params, shape)
    if errors:
        values = [float("inf") if d == "minimize" else -float("inf")
                  for d in _directions(spec)]
        constraints = {"runs_fail": 1.0}
    else:
        values = [float(runs[o].mean()) for o in spec.objectives]
        vehicles = float(runs["vehicles"].mean())
        constraints = {"min_hq": float(v.min_hq - hq),
                       "max_vehicles": float(vehicles - v.max_vehicles) if v.max_vehicles
                       else 0.0}
    for name, value in constraints.items():  # feasible when every value is <= 0
        trial.set_constraint(name, value)
    finite = [x if np.isfinite(x) else (1e300 if x > 0 else -1e300) for x in values]
    study.tell(trial, finite)
    told = study.trials[trial.number]
    row: dict[str, Any] = {"plan": key, "generation": g, **trial.params, "hq": hq}
    row |= dict(zip(spec.objectives, values, strict=True))
    for o in spec.objectives:  # the replications' spread, for the report
        sd = runs[f"{o}_sd"] if f"{o}_sd" in runs else runs[o].std(ddof=1) if len(runs) > 1 \
            else np.nan
        row[f"{o}_sd"] = float(np.asarray(sd).ravel()[0]) if not errors else np.nan
    row |= {"vehicles": float(runs["vehicles"].mean()) if not errors else np.nan,
            "feasible": not errors and all(c <= 0 for c in constraints.values()),
            "error": errors[0] if errors else "",
            "system_attrs": json.dumps(told.system_attrs, sort_keys=True)}
    return row


def _stored_runs(spec: OptimizeSpec, row: pd.Series) -> pd.DataFrame:
    """A stored plan's results in the shape of its runs (one row with the means and SDs)."""
    data = {"error": [row["error"]], "vehicles": [row["vehicles"]]}
    for o in spec.objectives:
        data[o] = [row[o]]
        data[f"{o}_sd"] = [row[f"{o}_sd"]]
    return pd.DataFrame(data)


# -- the front --------------------------------------------------------------------------------
def pareto_front(trials: pd.DataFrame, spec: OptimizeSpec) -> pd.DataFrame:
    """The feasible plans no other feasible plan dominates (duplicates kept once)."""
    ok = trials[trials["feasible"]].copy()
    if ok.empty:
        return ok
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in _directions(spec)])
    values = ok[list(spec.objectives)].to_numpy(float) * sign
    keep = np.ones(len(ok), dtype=bool)
    for i in range(len(ok)):
        better_eq = (values <= values[i]).all(axis=1)
        strictly = (values < values[i]).any(axis=1)
        if (better_eq & strictly).any():
            keep[i] = False
    front = ok[keep]
    varcols = [c for c in front.columns if c.startswith(("station_", "community_", "shift_"))
               or c == "tech"]
    return front.drop_duplicates(subset=varcols).reset_index(drop=True)
