"""Validation of a spec's fields: scalars, scenario keys, factor levels and ranges, baseline.

Each check takes the parsed spec data (see :mod:`experiments.spec`) and either returns the
field's validated value or raises :class:`~experiments.spec_model.SpecError` with one line
naming the field and the problem. Scenario values are checked by applying them to the base
scenario, so a level is coerced to (and must fit) the key's type and bounds.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from experiments.spec_model import (
    MAX_LEVELS,
    MAX_SAMPLES,
    REPORT_KEYS,
    SAMPLED,
    Factor,
    SpecError,
    SweepSpec,
)
from sim.params import echo
from sim.scenario import Scenario, ScenarioError


# -- tables and keys ----------------------------------------------------------------------
def check_known(data: dict[str, Any], known: set[str], prefix: str) -> None:
    """Refuse the first key of ``data`` that is not in ``known`` (named ``prefix + key``)."""
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError(f"{prefix}{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")


def flatten(table: Any, name: str) -> dict[str, Any]:
    """Flatten nested tables into dotted keys (``{police: {officers: 1}}``: ``police.officers``)."""
    if not isinstance(table, dict):
        raise SpecError(f"{name}: expected a table, got {echo(table)}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in flatten(value, f"{name}.{key}").items()})
        else:
            out[str(key)] = value
    return out


def scenario_keys() -> dict[str, Any]:
    """Every settable scenario key and its default value."""
    return {name: value for name, value, _ in Scenario().params()}


def check_keys(table: dict[str, Any], name: str) -> None:
    """Refuse a key of ``table`` that is not a scenario key (or a ``run.`` key as a factor)."""
    known = scenario_keys()
    for key in table:
        if key not in known:
            raise SpecError(f"{name}.{key}: unknown scenario key")
        if name != "set" and key.startswith("run."):
            raise SpecError(f"{name}.{key}: set `seed` and `days` in the spec, not as factors")


def parse_factors(table: Any, name: str, scenario: Scenario, ranges: bool) -> tuple[Factor, ...]:
    """The factors of a ``[factors]``, ``[cross]`` table: levels, or ``[lo, hi]`` ranges."""
    flat = flatten(table, name)
    check_keys(flat, name)
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
        levels.append(scenario_value(sc, key))
    if key == "strategy.name":
        for level in levels:
            check_strategy(level, where)
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


def scenario_value(scenario: Scenario, key: str) -> Any:
    """The value of a dotted key (``police.officers``) in a scenario."""
    node: Any = scenario
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def check_strategy(name: str, where: str) -> None:
    """Refuse a strategy name that no registered strategy has."""
    from sim.strategies import available_strategies

    known = available_strategies()
    if name not in known:
        raise SpecError(f"{where}: unknown strategy {echo(name)} (known: {', '.join(known)})")


def check_no_duplicates(factors: tuple[Factor, ...], cross: tuple[Factor, ...]) -> None:
    """Refuse a key given both in ``[cross]`` and in ``[factors]``."""
    seen: set[str] = set()
    for f in (*cross, *factors):
        if f.key in seen:
            raise SpecError(f"factors.{f.key}: given in both [cross] and [factors]")
        seen.add(f.key)


# -- scalar fields ------------------------------------------------------------------------
def int_field(data: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    """An integer field in ``[lo, hi]`` (``default`` when absent; booleans refused)."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{key}: expected an integer, got {echo(value)}")
    if value < lo:
        raise SpecError(f"{key}: must be >= {lo}, got {echo(value)}")
    if value > hi:
        raise SpecError(f"{key}: must be <= {hi:,}, got {echo(value)}")
    return value


def text_field(data: dict[str, Any], key: str, default: str) -> str:
    """A text field (``default`` when absent)."""
    value = data.get(key, default)
    if not isinstance(value, str):
        raise SpecError(f"{key}: expected text, got {echo(value)}")
    return value


def choice_field(data: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    """A text field that must be one of ``choices``."""
    value = text_field(data, key, default)
    if value not in choices:
        raise SpecError(f"{key}: must be one of {', '.join(choices)}, got {echo(value)}")
    return value


def samples_field(data: dict[str, Any], design: str) -> int | None:
    """The sample size: required by sampled designs (a power of 2 for Sobol), else refused."""
    if design not in SAMPLED:
        if "samples" in data:
            raise SpecError(f"samples: only for sampled designs ({', '.join(SAMPLED)})")
        return None
    if "samples" not in data:
        raise SpecError(f"samples: a {design} design needs `samples` (the sample size)")
    n = int_field(data, "samples", 0, lo=2 if design == "morris" else 1, hi=MAX_SAMPLES)
    if design in ("sobol", "saltelli") and n & (n - 1):
        raise SpecError(f"samples: a {design} design needs a power of 2, got {n}")
    return n


def morris_levels_field(data: dict[str, Any]) -> int:
    """The even number of grid levels of a Morris design (default 4)."""
    n = int_field(data, "morris_levels", 4, lo=2, hi=100)
    if n % 2:
        raise SpecError(f"morris_levels: must be even, got {n}")
    return n


def names_field(data: dict[str, Any], key: str) -> tuple[str, ...] | None:
    """A list of non-empty names, or None when absent."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{key}: expected a list of names, got {echo(value)}")
    return tuple(value)


def daily_field(data: dict[str, Any]) -> bool | tuple[str, ...]:
    """``daily``: True (keep every daily column), False (none) or the names to keep."""
    value = data.get("daily", True)
    if isinstance(value, bool):
        return value
    names = names_field(data, "daily")
    assert names is not None
    return names


def report_indicators_field(data: dict[str, Any]) -> tuple[str, ...] | None:
    """The ``[report]`` table's indicators; its ``baseline`` fills a missing top-level one."""
    report = data.get("report", {})
    if not isinstance(report, dict):
        raise SpecError(f"report: expected a table, got {echo(report)}")
    check_known(report, REPORT_KEYS, "report.")
    if "baseline" in report and "baseline" not in data:
        data["baseline"] = report["baseline"]
    names = names_field(report, "indicators")
    return names


def with_baseline(spec: SweepSpec, data: dict[str, Any]) -> SweepSpec:
    """The spec with its baseline level and factor checked against the factor's levels."""
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
