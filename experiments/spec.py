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

This module loads and assembles a spec; the pieces live in :mod:`experiments.spec_model`
(the :class:`SweepSpec` model and limits), :mod:`experiments.spec_fields` (field checks),
:mod:`experiments.design` (design generators) and :mod:`experiments.spec_size` (size checks).
Every name they define that was importable from here still is.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.design import check_points, custom_frame, design_rng, make_design, salib_problem
from experiments.spec_fields import (
    check_keys,
    check_known,
    check_no_duplicates,
    check_strategy,
    choice_field,
    daily_field,
    flatten,
    int_field,
    morris_levels_field,
    names_field,
    parse_factors,
    report_indicators_field,
    samples_field,
    scenario_keys,
    text_field,
    with_baseline,
)
from experiments.spec_model import (
    DESIGNS,
    MAX_DAYS,
    MAX_LEVELS,
    MAX_REPLICATIONS,
    MAX_RUN_DAYS,
    MAX_RUNS,
    MAX_SAMPLES,
    MAX_SEED,
    QUICK_DEFAULTS,
    QUICK_KEYS,
    REPORT_KEYS,
    SAMPLE_PREFIX,
    SAMPLED,
    TOP_KEYS,
    Factor,
    SpecError,
    SweepSpec,
    plain,
    spec_toml,
)
from experiments.spec_size import (
    INCIDENT_S,
    RUN_START_S,
    check_size,
    describe_seconds,
    estimate_seconds,
    predicted_points,
)
from sim.params import echo, shorten
from sim.rng import DEFAULT_SEED
from sim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_toml_file,
    resolve_source,
)

__all__ = [
    "DEFAULT_SEED",
    "DESIGNS",
    "INCIDENT_S",
    "MAX_DAYS",
    "MAX_LEVELS",
    "MAX_REPLICATIONS",
    "MAX_RUNS",
    "MAX_RUN_DAYS",
    "MAX_SAMPLES",
    "MAX_SEED",
    "QUICK_DEFAULTS",
    "QUICK_KEYS",
    "REPORT_KEYS",
    "RUN_START_S",
    "SAMPLED",
    "SAMPLE_PREFIX",
    "TOP_KEYS",
    "Factor",
    "SpecError",
    "SweepSpec",
    "build_spec",
    "check_size",
    "describe_seconds",
    "design_rng",
    "estimate_seconds",
    "load_spec",
    "make_design",
    "predicted_points",
    "salib_problem",
    "scenario_keys",
    "spec_toml",
]


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
            data["set"] = {**flatten(data["set"], "set"), **flatten(value, "set")}
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
    check_known(quick, QUICK_KEYS, "quick.")
    out = dict(data)
    for key, value in quick.items():
        if key == "set":
            out["set"] = {**flatten(out.get("set", {}), "set"), **flatten(value, "quick.set")}
        else:
            out[key] = value
    out["name"] = f"{out.get('name', 'sweep')}-quick"
    return out


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
    check_known(data, TOP_KEYS, "")
    design = choice_field(data, "design", DESIGNS, "factorial")
    if design == "custom" and design_df is None:
        raise SpecError("design: 'custom' needs a design DataFrame (pass it to run_sweep)")
    base, scenario, fixed = _base_scenario(data, origin)
    days = int_field(data, "days", scenario.run.days, lo=1, hi=MAX_DAYS)
    samples = samples_field(data, design)
    if design == "custom":
        design_df = custom_frame(design_df)
        factors = tuple(Factor(str(k)) for k in design_df.columns if k != "point")
    else:
        factors = parse_factors(data.get("factors", {}), "factors", scenario,
                                ranges=design in SAMPLED)
    cross = parse_factors(data.get("cross", {}), "cross", scenario, ranges=False)
    if design == "factorial":
        factors, cross = cross + factors, ()
    elif design in SAMPLED and not factors:
        raise SpecError(f"factors: a {design} design needs at least one [lo, hi] range")
    check_no_duplicates(factors, cross)
    spec = SweepSpec(
        name=text_field(data, "name", "sweep"),
        description=text_field(data, "description", ""),
        base=base, scenario=scenario,
        seed=int_field(data, "seed", DEFAULT_SEED, lo=0, hi=MAX_SEED),
        replications=int_field(data, "replications", 10, lo=1, hi=MAX_REPLICATIONS), days=days,
        design=design,
        factors=factors, cross=cross, samples=samples,
        morris_levels=morris_levels_field(data),
        outputs=names_field(data, "outputs"), daily=daily_field(data), fixed=fixed,
        report_indicators=report_indicators_field(data),
    )
    check_size(spec, len(design_df) if design_df is not None else None)
    points = design_df if design_df is not None else make_design(spec)
    spec = dataclasses.replace(spec, points=check_points(points, spec))
    if design == "custom":
        spec = dataclasses.replace(spec, factors=tuple(
            Factor(f.key, tuple(plain(v) for v in pd.unique(spec.points[f.key])))
            for f in spec.factors))
    return with_baseline(spec, data)


def _base_scenario(data: dict[str, Any],
                   origin: Path | None) -> tuple[str, Scenario, tuple[tuple[str, Any], ...]]:
    base = text_field(data, "base", "default")
    source: str | Path = base
    if origin is not None and (origin / base).is_file():
        source = (origin / base).resolve()
    fixed = flatten(data.get("set", {}), "set")
    check_keys(fixed, "set")
    try:
        resolve_source(source)
        scenario = load_scenario(source)
    except ScenarioError as exc:
        raise SpecError(f"base: {exc}") from None
    try:
        scenario = scenario.with_overrides(fixed)
    except ScenarioError as exc:
        raise SpecError(f"set.{exc}") from None
    check_strategy(scenario.strategy.name, "set.strategy.name")
    return str(source), scenario, tuple(fixed.items())
