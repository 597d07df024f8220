"""Sweep specifications: a TOML file (or dict) turned into a validated, frozen object.

A spec names a base scenario, the factors to vary, the design, the replications and the
days. Example (see ``experiments/*.toml``)::

    name = "strategy_comparison"
    base = "default"            # preset name or path (relative to the spec file)
    seed = 20261128             # one root seed per experiment (default sim.rng.DEFAULT_SEED)
    replications = 20
    days = 365
    design = "factorial"        # factorial | lhs | sobol | morris | saltelli
    baseline = "centralized"    # level of `baseline_factor` (default strategy.name)

    [set]                       # fixed overrides of the base scenario
    "police.officers" = 120

    [factors]                   # any scenario key; levels (factorial) or [lo, hi] ranges
    "strategy.name" = ["centralized", "community"]

    [quick]                     # what `--quick` changes
    replications = 3
    days = 60

Designs: ``factorial`` crosses the listed levels; ``lhs`` and ``sobol`` draw ``samples``
space-filling points (:mod:`scipy.stats.qmc`) in the ``[lo, hi]`` ranges; ``morris`` draws
``samples`` trajectories and ``saltelli`` a Saltelli sample of base size ``samples`` (both
with SALib, for sensitivity indices). Integer parameters are rounded. For sampled designs a
``[cross]`` table gives levels (e.g. strategies) crossed with the whole sample.

Every problem raises :class:`SpecError` with one line naming the field, before anything runs.
TOML is parsed as data only (:mod:`tomllib`); nothing is ever evaluated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.params import echo, shorten
from sim.rng import DEFAULT_SEED
from sim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_toml_file,
    resolve_source,
)

DESIGNS = ("factorial", "lhs", "sobol", "morris", "saltelli", "custom")
SAMPLED = ("lhs", "sobol", "morris", "saltelli")
SAMPLE_PREFIX = "sample:"
QUICK_DEFAULTS = {"replications": 3, "days": 60}
TOP_KEYS = {
    "name", "description", "base", "seed", "replications", "days", "design", "samples",
    "morris_levels", "baseline", "baseline_factor", "outputs", "daily", "set", "factors",
    "cross", "quick", "report",
}
QUICK_KEYS = {"replications", "days", "samples", "set"}
REPORT_KEYS = {"indicators", "baseline"}
# Limits that catch a typo before it hangs a machine (checked before any design is drawn).
MAX_SEED = 2**63 - 1
MAX_DAYS = 36_500
MAX_REPLICATIONS = 10_000
MAX_SAMPLES = 1_000_000
MAX_LEVELS = 10_000
MAX_RUNS = 100_000
MAX_RUN_DAYS = 50_000_000
# Wall time of one run on one core: start-up plus a cost per simulated incident, measured on
# the benchmark machine (default city: ~7 s for 365 days of ~300 incidents a day).
RUN_START_S = 0.5
INCIDENT_S = 6.5e-5


class SpecError(ValueError):
    """A sweep spec is invalid; the one-line message names the field and the problem."""


@dataclass(frozen=True)
class Factor:
    """One varied scenario key.

    Attributes:
        key: Dotted scenario key, e.g. ``police.officers``.
        levels: Levels (factorial designs and ``[cross]`` tables), coerced to the key's type.
        lo: Lower bound (sampled designs).
        hi: Upper bound (sampled designs).
        integer: Whether sampled values are rounded to integers.
    """

    key: str
    levels: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """Whether the factor is a ``[lo, hi]`` range of a sampled design."""
        return self.lo is not None


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep.

    Attributes:
        name: Label of the experiment (default: the file stem).
        description: Free text.
        base: The base scenario as given (preset name or path).
        scenario: The base scenario with ``[set]`` applied.
        seed: Root entropy; replication ``r`` uses ``SeedSequence(seed, spawn_key=(r,))``.
        replications: Replications per design point.
        days: Simulated days per run.
        design: One of :data:`DESIGNS`.
        factors: Varied keys (levels or ranges).
        cross: Levels crossed with a sampled design.
        samples: Sample size of sampled designs.
        morris_levels: Grid levels of a Morris design.
        baseline: Baseline level for paired differences (or None).
        baseline_factor: The factor whose baseline level is compared against.
        outputs: Summary indicators to keep (None: all).
        daily: Keep the daily series (True), none (False) or the named columns.
        fixed: The ``[set]`` overrides as ``(key, value)`` pairs.
        report_indicators: Indicators the report features (None: a default list).
        points: The design: one row per point, factor columns (scenario values) and, for
            sampled designs, the raw sample in ``sample:<key>`` columns.
    """

    name: str
    description: str
    base: str
    scenario: Scenario
    seed: int
    replications: int
    days: int
    design: str
    factors: tuple[Factor, ...]
    cross: tuple[Factor, ...] = ()
    samples: int | None = None
    morris_levels: int = 4
    baseline: Any = None
    baseline_factor: str | None = None
    outputs: tuple[str, ...] | None = None
    daily: bool | tuple[str, ...] = True
    fixed: tuple[tuple[str, Any], ...] = ()
    report_indicators: tuple[str, ...] | None = None
    points: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)

    @property
    def factor_keys(self) -> list[str]:
        """Columns of the design that are scenario keys (cross factors first)."""
        return [f.key for f in (*self.cross, *self.factors)]

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.points)

    @property
    def n_runs(self) -> int:
        """Number of runs: points times replications."""
        return self.n_points * self.replications

    def overrides(self, point: int) -> dict[str, Any]:
        """The scenario overrides of one design point."""
        row = self.points.iloc[point]
        return {k: _plain(row[k]) for k in self.factor_keys}

    def scenario_for(self, point: int) -> Scenario:
        """The scenario of one design point (base, ``[set]`` and the point's levels)."""
        return self.scenario.with_overrides(self.overrides(point))

    def to_dict(self) -> dict[str, Any]:
        """The spec as TOML-ready data (a custom design is kept out: see ``points``)."""
        out: dict[str, Any] = {
            "name": self.name, "description": self.description, "base": self.base,
            "seed": self.seed, "replications": self.replications, "days": self.days,
            "design": self.design, "morris_levels": self.morris_levels,
            "daily": self.daily if isinstance(self.daily, bool) else list(self.daily),
            "set": dict(self.fixed),
            "factors": {f.key: _factor_data(f) for f in self.factors},
            "cross": {f.key: list(f.levels) for f in self.cross},
        }
        optional = {"samples": self.samples, "baseline": self.baseline,
                    "baseline_factor": self.baseline_factor,
                    "outputs": None if self.outputs is None else list(self.outputs)}
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.report_indicators is not None:
            out["report"] = {"indicators": list(self.report_indicators)}
        if self.design == "custom":
            out["factors"] = {}
        return out

    def fingerprint(self) -> str:
        """A hash of everything that determines the results (spec, base scenario, design)."""
        data = {"spec": self.to_dict(), "scenario": self.scenario.to_dict(),
                "points": self.points.to_dict(orient="split")}
        data["spec"].pop("description", None)
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _factor_data(f: Factor) -> list[Any]:
    return [f.lo, f.hi] if f.is_range else list(f.levels)


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones (TOML, JSON and scenario checks want those)."""
    return value.item() if isinstance(value, np.generic) else value


# -- loading ------------------------------------------------------------------------------
def load_spec(source: str | Path | dict[str, Any] | pd.DataFrame, quick: bool = False,
              **overrides: Any) -> SweepSpec:
    """Read and validate a sweep spec.

    Args:
        source: A TOML file path, a dict with the same layout, or a design DataFrame (one
            row per design point, one column per scenario key).
        quick: Apply the spec's ``[quick]`` table (default: 3 replications, 60 days).
        **overrides: Top-level spec entries that replace the file's (e.g. ``days=5``);
            ``set`` is merged into the file's ``[set]``.

    Returns:
        The validated spec with its design generated.

    Raises:
        SpecError: One line naming the field and the problem.
    """
    try:
        return _load_spec(source, quick, overrides)
    except RecursionError:
        raise SpecError("spec: nested too deeply") from None


def _load_spec(source: Any, quick: bool, overrides: dict[str, Any]) -> SweepSpec:
    data, origin, design_df = _source_data(source)
    for key, value in overrides.items():
        if key == "set" and isinstance(data.get("set"), dict) and isinstance(value, dict):
            data["set"] = {**_flatten(data["set"], "set"), **_flatten(value, "set")}
        else:
            data[key] = value
    if quick:
        data = _apply_quick(data)
    return build_spec(data, origin, design_df)


def _source_data(source: Any) -> tuple[dict[str, Any], Path | None, pd.DataFrame | None]:
    if isinstance(source, pd.DataFrame):
        return {"design": "custom", "name": "custom"}, None, source
    if isinstance(source, dict):
        return dict(source), None, None
    try:
        path = Path(source)
        is_file = path.is_file()
    except (OSError, ValueError, TypeError):
        raise SpecError(f"{shorten(source)}: not a usable file name") from None
    if not is_file:
        raise SpecError(f"{shorten(path)}: no such spec file")
    data = parse_toml_file(path, SpecError)
    data.setdefault("name", path.stem)
    return data, path.parent, None


def _apply_quick(data: dict[str, Any]) -> dict[str, Any]:
    quick = data.pop("quick", None)
    if quick is None:  # never longer than the spec itself
        quick = {k: min(v, data[k]) if isinstance(data.get(k), int) else v
                 for k, v in QUICK_DEFAULTS.items()}
    if not isinstance(quick, dict):
        raise SpecError(f"quick: expected a table, got {echo(quick)}")
    _check_known(quick, QUICK_KEYS, "quick.")
    out = dict(data)
    for key, value in quick.items():
        if key == "set":
            out["set"] = {**_flatten(out.get("set", {}), "set"), **_flatten(value, "quick.set")}
        else:
            out[key] = value
    out["name"] = f"{out.get('name', 'sweep')}-quick"
    return out


def _check_known(data: dict[str, Any], known: set[str], prefix: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError(f"{prefix}{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")


def build_spec(data: dict[str, Any], origin: Path | None = None,
               design_df: pd.DataFrame | None = None) -> SweepSpec:
    """Validate spec data and generate its design.

    Args:
        data: Parsed TOML (or an equivalent dict).
        origin: Folder of the spec file, against which a relative ``base`` path is resolved.
        design_df: A ready design for ``design = "custom"``.

    Returns:
        The spec.
    """
    if not isinstance(data, dict):
        raise SpecError(f"spec: expected a table, got {echo(data)}")
    data = {k: v for k, v in data.items() if k != "quick"}
    _check_known(data, TOP_KEYS, "")
    design = _choice(data, "design", DESIGNS, "factorial")
    if design == "custom" and design_df is None:
        raise SpecError("design: 'custom' needs a design DataFrame (pass it to run_sweep)")
    base, scenario, fixed = _base_scenario(data, origin)
    days = _int(data, "days", scenario.run.days, lo=1, hi=MAX_DAYS)
    samples = _samples(data, design)
    if design == "custom":
        design_df = _custom_frame(design_df)
        factors = tuple(Factor(str(k)) for k in design_df.columns if k != "point")
    else:
        factors = _factors(data.get("factors", {}), "factors", scenario,
                           ranges=design in SAMPLED)
    cross = _factors(data.get("cross", {}), "cross", scenario, ranges=False)
    if design == "factorial":
        factors, cross = cross + factors, ()
    elif design in SAMPLED and not factors:
        raise SpecError(f"factors: a {design} design needs at least one [lo, hi] range")
    _no_duplicates(factors, cross)
    spec = SweepSpec(
        name=_text(data, "name", "sweep"), description=_text(data, "description", ""),
        base=base, scenario=scenario, seed=_int(data, "seed", DEFAULT_SEED, lo=0, hi=MAX_SEED),
        replications=_int(data, "replications", 10, lo=1, hi=MAX_REPLICATIONS), days=days,
        design=design,
        factors=factors, cross=cross, samples=samples,
        morris_levels=_morris_levels(data),
        outputs=_names(data, "outputs"), daily=_daily(data), fixed=fixed,
        report_indicators=_report_indicators(data),
    )
    check_size(spec, len(design_df) if design_df is not None else None)
    points = design_df if design_df is not None else make_design(spec)
    spec = dataclasses.replace(spec, points=_check_points(points, spec))
    if design == "custom":
        spec = dataclasses.replace(spec, factors=tuple(
            Factor(f.key, tuple(_plain(v) for v in pd.unique(spec.points[f.key])))
            for f in spec.factors))
    return _with_baseline(spec, data)


def _base_scenario(data: dict[str, Any],
                   origin: Path | None) -> tuple[str, Scenario, tuple[tuple[str, Any], ...]]:
    base = _text(data, "base", "default")
    source: str | Path = base
    if origin is not None and (origin / base).is_file():
        source = (origin / base).resolve()
    fixed = _flatten(data.get("set", {}), "set")
    _check_keys(fixed, "set")
    try:
        resolve_source(source)
        scenario = load_scenario(source)
    except ScenarioError as exc:
        raise SpecError(f"base: {exc}") from None
    try:
        scenario = scenario.with_overrides(fixed)
    except ScenarioError as exc:
        raise SpecError(f"set.{exc}") from None
    _check_strategy(scenario.strategy.name, "set.strategy.name")
    return str(source), scenario, tuple(fixed.items())


def _flatten(table: Any, name: str) -> dict[str, Any]:
    """Flatten nested tables into dotted keys (``{police: {officers: 1}}``: ``police.officers``)."""
    if not isinstance(table, dict):
        raise SpecError(f"{name}: expected a table, got {echo(table)}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in _flatten(value, f"{name}.{key}").items()})
        else:
            out[str(key)] = value
    return out


def scenario_keys() -> dict[str, Any]:
    """Every settable scenario key and its default value."""
    return {name: value for name, value, _ in Scenario().params()}


def _check_keys(table: dict[str, Any], name: str) -> None:
    known = scenario_keys()
    for key in table:
        if key not in known:
            raise SpecError(f"{name}.{key}: unknown scenario key")
        if name != "set" and key.startswith("run."):
            raise SpecError(f"{name}.{key}: set `seed` and `days` in the spec, not as factors")


def _factors(table: Any, name: str, scenario: Scenario, ranges: bool) -> tuple[Factor, ...]:
    flat = _flatten(table, name)
    _check_keys(flat, name)
    defaults = scenario_keys()
    out = []
    for key, value in flat.items():
        where = f"{name}.{key}"
        if ranges:
            out.append(_range_factor(where, key, value, defaults[key], scenario))
        else:
            out.append(Factor(key, _levels(where, key, value, scenario)))
    return tuple(out)


def _levels(where: str, key: str, value: Any, scenario: Scenario) -> tuple[Any, ...]:
    if not isinstance(value, list) or not value:
        raise SpecError(f"{where}: expected a non-empty list of levels, got {echo(value)}")
    if len(value) > MAX_LEVELS:
        raise SpecError(f"{where}: {len(value):,} levels is more than the limit of "
                        f"{MAX_LEVELS:,}")
    levels = []
    for level in value:
        if isinstance(level, dict | list):
            raise SpecError(f"{where}: a level must be a single value, got {echo(level)}")
        try:
            sc = scenario.with_overrides({key: level})
        except ScenarioError as exc:
            raise SpecError(f"{where}: level {echo(level)}: {_strip(exc, key)}") from None
        levels.append(_get(sc, key))
    if key == "strategy.name":
        for level in levels:
            _check_strategy(level, where)
    if len(set(levels)) != len(levels):
        raise SpecError(f"{where}: levels must be distinct, got {echo(value)}")
    return tuple(levels)


def _range_factor(where: str, key: str, value: Any, default: Any,
                  scenario: Scenario) -> Factor:
    if isinstance(default, bool) or not isinstance(default, int | float):
        raise SpecError(f"{where}: a sampled design can only vary numbers "
                        f"(put it in [cross] to cross its levels)")
    ok = isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        for v in value)
    if not ok:
        raise SpecError(f"{where}: expected a range [lo, hi] of two numbers, got {echo(value)}")
    lo, hi = float(value[0]), float(value[1])
    if not lo < hi:
        raise SpecError(f"{where}: range [lo, hi] needs lo < hi, got {echo(value)}")
    for end in (lo, hi):
        try:
            scenario.with_overrides({key: round(end) if isinstance(default, int) else end})
        except ScenarioError as exc:
            raise SpecError(f"{where}: range end {end:g}: {_strip(exc, key)}") from None
    return Factor(key, lo=lo, hi=hi, integer=isinstance(default, int))


def _strip(exc: Exception, key: str) -> str:
    """A scenario error without its leading ``key: `` (the caller names the field)."""
    text = str(exc)
    return text.removeprefix(f"{key}: ")


def _get(scenario: Scenario, key: str) -> Any:
    node: Any = scenario
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _check_strategy(name: str, where: str) -> None:
    from sim.strategies import available_strategies

    known = available_strategies()
    if name not in known:
        raise SpecError(f"{where}: unknown strategy {echo(name)} (known: {', '.join(known)})")


def _no_duplicates(factors: tuple[Factor, ...], cross: tuple[Factor, ...]) -> None:
    seen: set[str] = set()
    for f in (*cross, *factors):
        if f.key in seen:
            raise SpecError(f"factors.{f.key}: given in both [cross] and [factors]")
        seen.add(f.key)


# -- scalar fields ------------------------------------------------------------------------
def _int(data: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{key}: expected an integer, got {echo(value)}")
    if value < lo:
        raise SpecError(f"{key}: must be >= {lo}, got {echo(value)}")
    if value > hi:
        raise SpecError(f"{key}: must be <= {hi:,}, got {echo(value)}")
    return value


def _text(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise SpecError(f"{key}: expected text, got {echo(value)}")
    return value


def _choice(data: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = _text(data, key, default)
    if value not in choices:
        raise SpecError(f"{key}: must be one of {', '.join(choices)}, got {echo(value)}")
    return value


def _samples(data: dict[str, Any], design: str) -> int | None:
    if design not in SAMPLED:
        if "samples" in data:
            raise SpecError(f"samples: only for sampled designs ({', '.join(SAMPLED)})")
        return None
    if "samples" not in data:
        raise SpecError(f"samples: a {design} design needs `samples` (the sample size)")
    n = _int(data, "samples", 0, lo=2 if design == "morris" else 1, hi=MAX_SAMPLES)
    if design in ("sobol", "saltelli") and n & (n - 1):
        raise SpecError(f"samples: a {design} design needs a power of 2, got {n}")
    return n


def _morris_levels(data: dict[str, Any]) -> int:
    n = _int(data, "morris_levels", 4, lo=2, hi=100)
    if n % 2:
        raise SpecError(f"morris_levels: must be even, got {n}")
    return n


def _names(data: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{key}: expected a list of names, got {echo(value)}")
    return tuple(value)


def _daily(data: dict[str, Any]) -> bool | tuple[str, ...]:
    value = data.get("daily", True)
    if isinstance(value, bool):
        return value
    names = _names(data, "daily")
    assert names is not None
    return names


def _report_indicators(data: dict[str, Any]) -> tuple[str, ...] | None:
    report = data.get("report", {})
    if not isinstance(report, dict):
        raise SpecError(f"report: expected a table, got {echo(report)}")
    _check_known(report, REPORT_KEYS, "report.")
    if "baseline" in report and "baseline" not in data:
        data["baseline"] = report["baseline"]
    names = _names(report, "indicators")
    return names


def _with_baseline(spec: SweepSpec, data: dict[str, Any]) -> SweepSpec:
    factor = data.get("baseline_factor")
    baseline = data.get("baseline")
    if factor is None and baseline is None:
        return spec
    factor = factor if factor is not None else "strategy.name"
    if not isinstance(factor, str):
        raise SpecError(f"baseline_factor: expected a scenario key, got {echo(factor)}")
    by_key = {f.key: f for f in (*spec.cross, *spec.factors)}
    if factor not in by_key or not by_key[factor].levels:
        raise SpecError(f"baseline: needs a factor with levels named by baseline_factor "
                        f"({echo(factor)} is not one)")
    levels = by_key[factor].levels
    if baseline is None:
        baseline = levels[0]
    if baseline not in levels:
        raise SpecError(f"baseline: {echo(baseline)} is not a level of {factor} "
                        f"({', '.join(map(str, levels))})")
    return dataclasses.replace(spec, baseline=baseline, baseline_factor=factor)


# -- size ---------------------------------------------------------------------------------
def predicted_points(spec: SweepSpec) -> int:
    """How many design points a spec will generate (computed, not generated)."""
    cross = math.prod(len(f.levels) for f in spec.cross)
    k = len(spec.factors)
    n = spec.samples or 0
    if spec.design == "factorial":
        return math.prod(len(f.levels) for f in spec.factors)
    if spec.design == "morris":
        return n * (k + 1) * cross
    if spec.design == "saltelli":
        return n * (k + 2) * cross
    return n * cross


def estimate_seconds(spec: SweepSpec, runs: int) -> float:
    """Rough single-core wall time of ``runs`` runs of the spec's base scenario."""
    sc = spec.scenario
    daily = max(sc.incidents.rate_per_1000_day * sc.city.population / 1000, 1.0)
    return runs * (RUN_START_S + spec.days * daily * INCIDENT_S)


def describe_seconds(seconds: float) -> str:
    """A duration in words (``3.2 hours``, ``41 CPU-years``)."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600),
                       ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.0f} s"


def check_size(spec: SweepSpec, custom_points: int | None = None) -> None:
    """Refuse a design too large to run, with its run count and an estimated time.

    Raises:
        SpecError: Naming ``design`` (or ``replications``) and the limit.
    """
    points = custom_points if custom_points is not None else predicted_points(spec)
    runs = points * spec.replications
    if runs <= MAX_RUNS and runs * spec.days <= MAX_RUN_DAYS:
        return
    field_ = "replications" if points <= MAX_RUNS and spec.replications > 1 and \
        points * spec.days <= MAX_RUN_DAYS else "design"
    raise SpecError(f"{field_}: {points:,} points x {spec.replications:,} replications = "
                    f"{runs:,} runs of {spec.days:,} days is more than the limit of "
                    f"{MAX_RUNS:,} runs or {MAX_RUN_DAYS:,} run-days (about "
                    f"{describe_seconds(estimate_seconds(spec, runs))} on one core); use "
                    f"fewer levels, samples, replications or days")


# -- designs ------------------------------------------------------------------------------
def make_design(spec: SweepSpec) -> pd.DataFrame:
    """Generate the design points of a spec.

    Args:
        spec: The spec (its ``points`` are ignored).

    Returns:
        One row per point: ``point``, one column per factor (scenario values) and, for
        sampled designs, ``sample:<key>`` columns with the unrounded sample.
    """
    if spec.design == "factorial":
        keys = [f.key for f in spec.factors]
        rows = list(itertools.product(*(f.levels for f in spec.factors)))
        frame = pd.DataFrame(rows, columns=keys) if keys else pd.DataFrame(index=[0])
        return _number(frame)
    raw = _sample(spec)
    sample = pd.DataFrame(raw, columns=[f.key for f in spec.factors])
    for f in spec.factors:
        values = sample[f.key]
        sample[f.key] = values.round().astype("int64") if f.integer else values
    for f in spec.factors:
        sample[SAMPLE_PREFIX + f.key] = raw[:, spec.factors.index(f)]
    combos = list(itertools.product(*(f.levels for f in spec.cross)))
    cross_keys = [f.key for f in spec.cross]
    blocks = [sample.assign(**dict(zip(cross_keys, combo, strict=True))) for combo in combos]
    frame = pd.concat(blocks, ignore_index=True)
    order = cross_keys + [f.key for f in spec.factors]
    rest = [c for c in frame.columns if c not in order]
    return _number(frame[order + rest])


def _number(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame.insert(0, "point", np.arange(len(frame), dtype=np.int64))
    return frame


def design_rng(seed: int) -> np.random.Generator:
    """The generator of a sampled design: derived from the root seed, distinct from runs."""
    return np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))


def _sample(spec: SweepSpec) -> np.ndarray:
    """The raw sample of a sampled design, in the factors' units."""
    k = len(spec.factors)
    lo = np.array([f.lo for f in spec.factors], dtype=float)
    hi = np.array([f.hi for f in spec.factors], dtype=float)
    rng = design_rng(spec.seed)
    n = int(spec.samples or 0)
    if spec.design in ("lhs", "sobol"):
        from scipy.stats import qmc

        if spec.design == "lhs":
            unit = qmc.LatinHypercube(d=k, rng=rng).random(n)
        else:
            unit = qmc.Sobol(d=k, rng=rng).random_base2(int(math.log2(n)))
        return qmc.scale(unit, lo, hi)
    problem = salib_problem(spec)
    seed = int(rng.integers(2**31 - 1))
    if spec.design == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=spec.morris_levels, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(problem, n, calc_second_order=False, seed=seed)


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem definition of a sampled design."""
    return {"num_vars": len(spec.factors), "names": [f.key for f in spec.factors],
            "bounds": [[f.lo, f.hi] for f in spec.factors]}


def _custom_frame(df: Any) -> pd.DataFrame:
    """Check a user-given design DataFrame and number its points."""
    if not isinstance(df, pd.DataFrame):
        raise SpecError(f"design: expected a DataFrame, got {type(df).__name__}")
    df = df.drop(columns=["point"], errors="ignore").reset_index(drop=True)
    if df.empty or not len(df.columns):
        raise SpecError("design: the design DataFrame has no rows or no columns")
    cols = {str(c): df[c].to_numpy() for c in df.columns}
    _check_keys(cols, "design")
    return _number(pd.DataFrame(cols))


def _check_points(points: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """Apply every point to the base scenario; store the coerced values; report the first error."""
    keys = spec.factor_keys
    coerced: dict[str, list[Any]] = {k: [] for k in keys}
    checked: set[str] = set()
    for i in range(len(points)):
        over = {k: _plain(points.at[i, k]) for k in keys}
        try:
            sc = spec.scenario.with_overrides(over)
        except ScenarioError as exc:
            where = "design" if spec.design == "custom" else "factors"
            raise SpecError(f"{where}: point {i} ({_describe(over)}): {exc}") from None
        for k in keys:
            coerced[k].append(_get(sc, k))
        if sc.strategy.name not in checked:
            _check_strategy(sc.strategy.name, f"design: point {i}: strategy.name")
            checked.add(sc.strategy.name)
    out = points.copy()
    for k in keys:
        out[k] = pd.Series(coerced[k], index=out.index)
    return out


def _describe(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={echo(v)}" for k, v in overrides.items())


def spec_toml(spec: SweepSpec) -> str:
    """The spec as TOML text (what the store keeps as ``spec.toml``)."""
    import tomli_w

    return tomli_w.dumps(spec.to_dict())
