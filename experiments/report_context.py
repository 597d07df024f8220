"""The report's context: successful runs, factors, indicators and baseline, plus labels.

:func:`make_context` gathers from a :class:`~experiments.sweep.SweepResult` what every table,
figure and section of a report needs (:class:`Context`); the helpers below name design
points, factors and levels the same way everywhere in the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.spec_model import SweepSpec
from experiments.sweep import SweepResult
from sim import indicators as registry

DEFAULT_INDICATORS = registry.HEADLINE
"""Indicators featured when neither the spec nor the caller names any."""
META = {"point", "rep", "seed", "spawn_key", "days", "officers"}
"""Columns that describe a run's configuration, never shown as estimates with CIs."""


@dataclass
class Context:
    """What every section of a report needs."""

    result: SweepResult
    ok: pd.DataFrame
    factors: list[str]
    indicators: list[str]
    key: list[str]
    baseline_factor: str | None
    baseline: Any
    out: Path

    @property
    def spec(self) -> SweepSpec:
        """The sweep."""
        return self.result.spec


def make_context(result: SweepResult, out: Path, baseline: Any = None,
                 baseline_factor: str | None = None,
                 indicators: list[str] | None = None) -> Context:
    """Gather what the report needs: successful runs, factors, indicators, baseline."""
    spec = result.spec
    runs = result.runs
    ok = runs[runs["status"] == "ok"] if not runs.empty else runs
    factors = [f for f in spec.factor_keys if f in spec.points.columns]
    numeric = [c for c in ok.columns if c not in META and c not in factors
               and pd.api.types.is_numeric_dtype(ok[c]) and not pd.api.types.is_bool_dtype(ok[c])]
    wanted = indicators or spec.report_indicators or DEFAULT_INDICATORS
    key = [c for c in wanted if c in numeric] or numeric[:6]
    factor, level = _baseline(spec, factors, baseline, baseline_factor)
    return Context(result, ok.reset_index(drop=True), factors, numeric, key, factor, level, out)


def _baseline(spec: SweepSpec, factors: list[str], baseline: Any,
              factor: str | None) -> tuple[str | None, Any]:
    factor = factor or spec.baseline_factor or ("strategy.name" if "strategy.name" in factors
                                                else None)
    if factor is None or factor not in factors:
        return None, None
    levels = list(pd.unique(spec.points[factor]))
    if baseline is None:
        baseline = spec.baseline if spec.baseline_factor == factor else None
    if baseline is None:
        baseline = "centralized" if "centralized" in levels else levels[0]
    if baseline not in levels:
        baseline = _coerce_level(baseline, levels)
    return (factor, baseline) if len(levels) > 1 else (None, None)


def _coerce_level(value: Any, levels: list[Any]) -> Any:
    """A baseline typed on the command line (text) matched to the factor's levels."""
    for level in levels:
        if str(level) == str(value):
            return level
    raise ValueError(f"baseline: {value!r} is not a level ({', '.join(map(str, levels))})")


def point_label(ctx: Context, point: int) -> str:
    """A design point named by its factor levels (``strategy=community, officers=120``)."""
    row = ctx.spec.points.set_index("point").loc[point]
    parts = [f"{short_key(f)}={fmt_level(row[f])}" for f in ctx.factors]
    return ", ".join(parts) if parts else f"point {point}"


def short_key(key: str) -> str:
    """``police.officers`` -> ``officers``; ``strategy.name`` -> ``strategy``."""
    parts = key.split(".")
    return parts[-2] if parts[-1] == "name" and len(parts) > 1 else parts[-1]


def indicator_unit(indicator: str) -> str:
    """The registered unit of a summary indicator (empty if it is not registered)."""
    hit = registry.find(indicator)
    return hit.unit if hit is not None else ""


def fmt_level(value: Any) -> str:
    """A factor level as text (floats to 4 significant digits)."""
    return f"{value:.4g}" if isinstance(value, float | np.floating) else str(value)


def cross_groups(ctx: Context) -> list[tuple[str, list[int]]]:
    """The design points grouped by their ``[cross]`` levels (one ``all`` group if none)."""
    design = ctx.spec.points
    keys = [f.key for f in ctx.spec.cross]
    if not keys:
        return [("all", design["point"].tolist())]
    return [(", ".join(f"{k}={v}" for k, v in zip(keys, combo if isinstance(combo, tuple)
                                                     else (combo,), strict=True)),
             group["point"].tolist())
            for combo, group in design.groupby(keys if len(keys) > 1 else keys[0], sort=False)]
