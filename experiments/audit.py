"""Assumption audit: does a conclusion survive the plausible range of every assumption?

A parameter whose value is an assumption declares the ends of a plausible range
(:attr:`sim.params.ParamInfo.plausible`). For the comparison a sweep spec defines (its design
points, each paired with the baseline point that differs from it only in the baseline factor,
exactly as the report pairs them), the audit runs every point

* at the base values (the spec's scenario), and
* with each plausible-range parameter at its low end and at its high end, one at a time,

each with the spec's replications on common random numbers: replication ``r`` of every point
and every setting runs with ``SeedSequence(entropy=spec.seed, spawn_key=(r,))``, like a
sweep's, so the paired difference *point - baseline* is precise at every setting. The runs go
through the sweep's worker (:func:`experiments.sweep.run_one`) on the sweep's backends
(:func:`experiments.execute.make_backend`: local processes or Dask).

Example::

    from experiments.audit import load_audit
    from experiments.audit_output import write_audit
    from experiments.audit_run import run_audit
    from experiments.audit_stats import audit_table

    plan = load_audit("experiments/strategy_comparison.toml", quick=True)
    result = run_audit(plan, workers=2)
    audit_table(result)          # one row per comparison x indicator x parameter x end
    write_audit(result, "results/sc-audit")

This module plans an audit (what runs, checked before anything runs);
:mod:`experiments.audit_run` runs it, :mod:`experiments.audit_stats` computes the differences
and flags, :mod:`experiments.audit_output` writes ``audit.csv``, ``audit.md`` and the tornado
figures (:mod:`experiments.audit_figures`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.report_context import fmt_level, make_context, short_key
from experiments.report_paired import comparisons
from experiments.spec import SpecError, SweepSpec, load_spec
from experiments.spec_model import MAX_RUN_DAYS, MAX_RUNS
from experiments.spec_size import describe_seconds, estimate_seconds
from experiments.sweep import SweepResult
from sim import indicators as registry
from sim.params import echo, show_value
from sim.scenario import Scenario, ScenarioError

AUDIT_INDICATORS: tuple[str, ...] = (
    "response_time_mean", "clearance_rate", "satisfaction_mean", "trust_mean")
"""Indicators audited when the caller names none."""
QUICK_REPLICATIONS = 2
"""Replications of ``--quick`` (at most; after the spec's ``[quick]`` table)."""
QUICK_DAYS = 14
"""Days of ``--quick`` (at most; after the spec's ``[quick]`` table)."""
BASE = "base"
ENDS = ("low", "high")


@dataclass(frozen=True)
class Assumption:
    """A parameter whose value is an assumption, with the ends of its plausible range.

    Attributes:
        name: Dotted scenario key, e.g. ``dispatch.hop_delay_min``.
        value: Its value in the spec's scenario (the base value).
        low: Low end of the plausible range.
        high: High end of the plausible range.
        unit: Unit of the value.
        why: The parameter's justification.
        integer: Whether the parameter takes integers (the ends are rounded).
    """

    name: str
    value: Any
    low: float
    high: float
    unit: str = "-"
    why: str = ""
    integer: bool = False

    def end(self, which: str) -> float | int:
        """The value at one end of the range (``"low"`` or ``"high"``)."""
        value = self.low if which == "low" else self.high
        return round(value) if self.integer else float(value)


@dataclass(frozen=True)
class Setting:
    """The base values, or one assumption at one end of its range.

    Attributes:
        index: Position in :attr:`AuditPlan.settings` (0 is the base).
        param: The assumption varied (None at the base).
        end: ``"base"``, ``"low"`` or ``"high"``.
        value: The value used (the base value at the base).
    """

    index: int
    param: str | None
    end: str
    value: Any = None

    @property
    def label(self) -> str:
        """``base`` or ``dispatch.hop_delay_min=1 (low)``."""
        if self.param is None:
            return BASE
        return f"{self.param}={show_value(self.value)} ({self.end})"


@dataclass(frozen=True)
class Comparison:
    """One design point against its baseline point.

    Attributes:
        point: The compared design point.
        baseline_point: The point that differs from it only in the baseline factor.
        label: ``community vs centralized`` (plus the other factors' levels).
        slug: The label as a file-name part (``community``).
        name: The compared level (``community``; ``tech=true`` for another factor).
        baseline_name: The baseline level, named the same way.
    """

    point: int
    baseline_point: int
    label: str
    slug: str
    name: str = ""
    baseline_name: str = ""


@dataclass(frozen=True)
class AuditPlan:
    """Everything an audit runs, checked before anything runs.

    Attributes:
        spec: The sweep spec that defines the comparison.
        assumptions: The audited parameters.
        settings: The base, then every assumption at its low and its high end.
        comparisons: The point-baseline pairs.
        indicators: The audited summary indicators.
        baseline_factor: The factor whose baseline level is compared against.
        baseline: The baseline level.
        skipped: Plausible-range parameters not audited because the design varies them.
        scenarios: The scenario of every ``(setting, point)``.
    """

    spec: SweepSpec
    assumptions: tuple[Assumption, ...]
    settings: tuple[Setting, ...]
    comparisons: tuple[Comparison, ...]
    indicators: tuple[str, ...]
    baseline_factor: str
    baseline: Any
    skipped: tuple[str, ...] = ()
    scenarios: dict[tuple[int, int], Scenario] = field(default_factory=dict, repr=False,
                                                       compare=False)

    @property
    def points(self) -> list[int]:
        """The design points run (every point of a comparison)."""
        return sorted({p for c in self.comparisons for p in (c.point, c.baseline_point)})

    @property
    def n_runs(self) -> int:
        """Runs: points x settings x replications."""
        return len(self.points) * len(self.settings) * self.spec.replications

    def assumption(self, name: str) -> Assumption:
        """The audited assumption called ``name``."""
        return next(a for a in self.assumptions if a.name == name)


# -- the plan -----------------------------------------------------------------------------
def plausible_params(scenario: Scenario) -> list[Assumption]:
    """Every parameter of ``scenario`` that declares a plausible range, in declaration order.

    Args:
        scenario: The base scenario (its values are the base values).

    Returns:
        The assumptions.
    """
    out = []
    for name, value, info in scenario.params():
        if info.plausible is None or isinstance(value, bool):
            continue
        lo, hi = info.plausible
        out.append(Assumption(name, value, float(lo), float(hi), info.unit, info.why,
                              isinstance(value, int)))
    return out


def load_audit(source: str | Path | dict[str, Any] | SweepSpec, quick: bool = False,
               indicators: list[str] | tuple[str, ...] | None = None,
               params: list[str] | tuple[str, ...] | None = None,
               **overrides: Any) -> AuditPlan:
    """Read a sweep spec and plan its audit.

    Args:
        source: A spec file, a dict laid out like one, or a loaded spec.
        quick: Apply the spec's ``[quick]`` table, then at most :data:`QUICK_REPLICATIONS`
            replications of at most :data:`QUICK_DAYS` days.
        indicators: Summary indicators to audit (default :data:`AUDIT_INDICATORS`).
        params: Names of the assumptions to audit (default: every plausible-range parameter).
        **overrides: Spec entries to replace (``days=5``, ``replications=2``, ``set={...}``).

    Returns:
        The plan.

    Raises:
        SpecError: One line naming the field and the problem (nothing has run).
    """
    if isinstance(source, SweepSpec):
        spec = source
    else:
        spec = load_spec(source, quick=quick, **overrides)
        if quick:
            spec = dataclasses.replace(spec, replications=min(spec.replications,
                                                              QUICK_REPLICATIONS),
                                       days=min(spec.days, QUICK_DAYS))
    return plan_audit(spec, indicators, params)


def plan_audit(spec: SweepSpec, indicators: list[str] | tuple[str, ...] | None = None,
               params: list[str] | tuple[str, ...] | None = None) -> AuditPlan:
    """Plan the audit of a spec's comparison (see :func:`load_audit`).

    Raises:
        SpecError: If the spec compares nothing, an indicator is unknown, nothing can be
            audited, an end of a range is not a valid value, or the audit is too large.
    """
    ctx = make_context(SweepResult(spec, *(pd.DataFrame() for _ in range(4))), Path("."))
    if ctx.baseline_factor is None:
        raise SpecError("baseline: the audit needs a comparison: a factor with at least two "
                        "levels (e.g. strategy.name) and a baseline level")
    pairs = _unique_slugs([_comparison(spec, ctx.baseline_factor, p, b)
                           for p, b in comparisons(ctx)])
    if not pairs:
        raise SpecError(f"baseline: no design point differs from a {ctx.baseline_factor}="
                        f"{ctx.baseline} point in {ctx.baseline_factor} only")
    factors = set(spec.factor_keys)
    every = plausible_params(spec.scenario)
    chosen = [a for a in every if a.name not in factors]
    skipped = tuple(a.name for a in every if a.name in factors)
    if params is not None:
        known = {a.name: a for a in every}
        for name in params:
            if name not in known:
                raise SpecError(f"params: {echo(name)} declares no plausible range")
            if name in factors:
                raise SpecError(f"params: {name} is a factor of the design; it cannot be "
                                f"audited")
        chosen = [known[name] for name in dict.fromkeys(params)]
    if not chosen:
        raise SpecError("params: no parameter with a plausible range to audit")
    settings = [Setting(0, None, BASE)]
    for a in chosen:
        settings += [Setting(len(settings) + i, a.name, end, a.end(end))
                     for i, end in enumerate(ENDS)]
    plan = AuditPlan(spec, tuple(chosen), tuple(settings), pairs,
                     _indicators(indicators), ctx.baseline_factor, ctx.baseline, skipped)
    check_audit_size(plan)
    plan.scenarios.update(_scenarios(plan))
    return plan


def level_text(value: Any) -> str:
    """A factor level as text: TOML-style booleans, floats to 4 significant digits."""
    return show_value(value) if isinstance(value, bool) else fmt_level(value)


def _comparison(spec: SweepSpec, factor: str, point: int, base: int) -> Comparison:
    levels = spec.overrides(point)
    others = [f"{short_key(k)}={level_text(v)}" for k, v in levels.items() if k != factor]
    name, against = level_text(levels[factor]), level_text(spec.overrides(base)[factor])
    slug_head = name
    if factor != "strategy.name":
        slug_head = f"{short_key(factor)}-{name}"
        name, against = f"{short_key(factor)}={name}", f"{short_key(factor)}={against}"
    head = f"{name} vs {against}"
    label = f"{head} ({', '.join(others)})" if others else head
    parts = [slug_head, *(f"{short_key(k)}-{level_text(v)}" for k, v in levels.items()
                          if k != factor)]
    slug = "-".join("".join(c if c.isalnum() or c in "._" else "-" for c in p) for p in parts)
    return Comparison(point, base, label, f"{slug[:60]}-p{point}" if len(slug) > 60 else slug,
                      name, against)


def _unique_slugs(pairs: list[Comparison]) -> tuple[Comparison, ...]:
    """Comparisons whose file-name parts collide get their point number appended."""
    seen = [c.slug for c in pairs]
    return tuple(dataclasses.replace(c, slug=f"{c.slug}-p{c.point}") if seen.count(c.slug) > 1
                 else c for c in pairs)


def _indicators(names: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(names or AUDIT_INDICATORS))
    summary = set(registry.names("summary"))
    for name in names:
        hit = registry.find(name)
        if name not in summary and (hit is None or hit.table != "summary"):
            raise SpecError(f"indicator: unknown summary indicator {echo(name)} (known: "
                            f"{', '.join(AUDIT_INDICATORS)}, ... see docs/ODD.md section 9)")
    return names


def check_audit_size(plan: AuditPlan) -> None:
    """Refuse an audit too large to run, with its run count and an estimated time.

    Raises:
        SpecError: Naming ``replications`` and the limit.
    """
    spec = plan.spec
    runs = plan.n_runs
    if runs <= MAX_RUNS and runs * spec.days <= MAX_RUN_DAYS:
        return
    raise SpecError(f"replications: {len(plan.points)} points x {len(plan.settings)} settings x "
                    f"{spec.replications:,} replications = {runs:,} runs of {spec.days:,} days "
                    f"is more than the limit of {MAX_RUNS:,} runs or {MAX_RUN_DAYS:,} run-days "
                    f"(about {describe_seconds(estimate_seconds(spec, runs))} on one core); "
                    f"use fewer replications or days, or --quick")


def _scenarios(plan: AuditPlan) -> dict[tuple[int, int], Scenario]:
    """The scenario of every ``(setting, point)``; an invalid end is one line naming it."""
    spec = plan.spec
    out = {}
    for s in plan.settings:
        for point in plan.points:
            extra = {} if s.param is None else {s.param: s.value}
            try:
                out[s.index, point] = spec.scenario.with_overrides({**spec.overrides(point),
                                                                     **extra})
            except ScenarioError as exc:
                what = "the base values" if s.param is None else \
                    f"{s.param} at its {s.end} end ({show_value(s.value)})"
                raise SpecError(f"{s.param or 'base'}: {what} is not a valid scenario at "
                                f"point {point}: {exc}") from None
    return out


def describe_plan(plan: AuditPlan) -> str:
    """One line: points, settings, replications, runs, days and a rough time on one core."""
    spec = plan.spec
    secs = estimate_seconds(spec, plan.n_runs)
    return (f"{len(plan.points)} points x {len(plan.settings)} settings ({len(plan.assumptions)} "
            f"assumptions at both ends, and the base) x {spec.replications} replications = "
            f"{plan.n_runs} runs of {spec.days} days (about {describe_seconds(secs)} on one "
            f"core)")
