"""Assumption audit statistics: paired differences at every setting, swings and flags.

For every comparison (a design point against its baseline point), every audited indicator and
every setting (the base values, or one assumption at one end of its plausible range), the
difference *point - baseline* is taken within each replication (both ran on the same random
streams) and summarised by :func:`experiments.report_stats.paired_stats`: mean, 95% t
interval, p-value.

An assumption *changes the conclusion* at one end of its range when the difference there

* has the opposite sign of the difference at the base values (``reverses``), or
* is less than half as large (``halves``): ``|diff at the end| < |diff at the base| / 2``.

Its *swing* is ``|diff at the high end - diff at the low end|``, the length of its bar in the
tornado figure.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from experiments.audit import ENDS, Comparison
from experiments.audit_run import AuditResult
from experiments.report_stats import paired_stats
from sim import indicators as registry

REVERSES = "reverses"
HALVES = "halves"

COLUMNS = (
    "comparison", "comparison_slug", "point", "baseline_point", "indicator", "indicator_label",
    "indicator_unit", "better", "parameter", "parameter_unit", "end", "value", "base_value",
    "plausible_low", "plausible_high", "n", "diff", "ci_lo", "ci_hi", "p_value", "base_diff",
    "base_ci_lo", "base_ci_hi", "base_p_value", "swing", "rel_swing", "change", "flag",
)
"""Columns of :func:`audit_table` (and of ``audit.csv``), in order."""


def judge(base: float, end: float) -> str:
    """Whether a difference at one end of a range changes the conclusion at the base values.

    Args:
        base: The paired difference at the base values.
        end: The paired difference with the assumption at one end of its range.

    Returns:
        ``"reverses"`` (opposite sign), ``"halves"`` (less than half as large) or ``""``
        (no change, or no conclusion to change: the base difference is zero or missing).
    """
    if not (math.isfinite(base) and math.isfinite(end)) or base == 0:
        return ""
    if end * base < 0:
        return REVERSES
    return HALVES if abs(end) < abs(base) / 2 else ""


def _values(result: AuditResult) -> dict[tuple[int, int], pd.DataFrame]:
    """Successful runs by (setting, point), indexed by replication."""
    runs = result.runs
    ok = runs[runs["status"] == "ok"]
    return {(int(s), int(p)): frame.set_index("rep")
            for (s, p), frame in ok.groupby(["setting", "point"])}


def _paired(values: dict[tuple[int, int], pd.DataFrame], setting: int, c: Comparison,
            indicator: str) -> dict[str, float]:
    empty = pd.DataFrame(columns=[indicator])
    a = values.get((setting, c.point), empty)
    b = values.get((setting, c.baseline_point), empty)
    reps = a.index.intersection(b.index)
    return paired_stats(a.loc[reps, indicator].to_numpy(float),
                        b.loc[reps, indicator].to_numpy(float))


def _indicator_head(name: str) -> dict[str, Any]:
    hit = registry.find(name)
    return {"indicator": name, "indicator_label": hit.title if hit else name,
            "indicator_unit": hit.unit if hit else "", "better": (hit.better or "") if hit
            else ""}


def base_table(result: AuditResult) -> pd.DataFrame:
    """The conclusions at the base values: one row per comparison and indicator.

    Returns:
        Columns ``comparison, comparison_slug, point, baseline_point, indicator,
        indicator_label, indicator_unit, better, n, diff, ci_lo, ci_hi, p_value,
        var_reduction, significant, verdict`` (``verdict`` says which side is better, or
        ``higher``/``lower`` for an indicator without a better direction).
    """
    plan = result.plan
    values = _values(result)
    rows = []
    for c in plan.comparisons:
        for ind in plan.indicators:
            st = _paired(values, 0, c, ind)
            head = _indicator_head(ind)
            sig = bool(np.isfinite(st["ci_lo"]) and (st["ci_lo"] > 0 or st["ci_hi"] < 0))
            rows.append({"comparison": c.label, "comparison_slug": c.slug, "point": c.point,
                         "baseline_point": c.baseline_point, **head, **st,
                         "significant": sig,
                         "verdict": verdict(st["diff"], head["better"], c.name,
                                            c.baseline_name)})
    return pd.DataFrame(rows)


def verdict(diff: float, better: str, point: str, baseline: str) -> str:
    """Which side a difference favours: ``community better``, ``no difference``, ``higher``.

    Args:
        diff: Point minus baseline.
        better: ``"lower"``, ``"higher"`` or ``""`` (no better direction).
        point: The compared level.
        baseline: The baseline level.
    """
    if not math.isfinite(diff):
        return "no data"
    if diff == 0:
        return "no difference"
    if not better:
        return f"{point} {'higher' if diff > 0 else 'lower'}"
    point_wins = (diff < 0) == (better == "lower")
    return f"{point if point_wins else baseline} better"


def audit_table(result: AuditResult) -> pd.DataFrame:
    """The audit: one row per comparison x indicator x parameter x end.

    Returns:
        The columns of :data:`COLUMNS`, sorted by comparison, indicator, swing (largest
        first), parameter and end (low first). ``flag`` is True where ``change`` is
        ``reverses`` or ``halves``.
    """
    plan = result.plan
    values = _values(result)
    rows = []
    for c in plan.comparisons:
        for ind in plan.indicators:
            base = _paired(values, 0, c, ind)
            head = {"comparison": c.label, "comparison_slug": c.slug, "point": c.point,
                    "baseline_point": c.baseline_point, **_indicator_head(ind)}
            for a in plan.assumptions:
                ends = {s.end: s for s in plan.settings if s.param == a.name}
                stats_ = {end: _paired(values, ends[end].index, c, ind) for end in ENDS}
                swing = abs(stats_["high"]["diff"] - stats_["low"]["diff"])
                for end in ENDS:
                    st = stats_[end]
                    change = judge(base["diff"], st["diff"])
                    rows.append({
                        **head, "parameter": a.name, "parameter_unit": a.unit, "end": end,
                        "value": ends[end].value, "base_value": a.value,
                        "plausible_low": a.low, "plausible_high": a.high, "n": st["n"],
                        "diff": st["diff"], "ci_lo": st["ci_lo"], "ci_hi": st["ci_hi"],
                        "p_value": st["p_value"], "base_diff": base["diff"],
                        "base_ci_lo": base["ci_lo"], "base_ci_hi": base["ci_hi"],
                        "base_p_value": base["p_value"], "swing": swing,
                        "rel_swing": swing / abs(base["diff"]) if base["diff"] else math.inf,
                        "change": change, "flag": bool(change)})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    if table.empty:
        return table
    order = {c.label: i for i, c in enumerate(plan.comparisons)}
    table["_c"] = table["comparison"].map(order)
    table["_i"] = table["indicator"].map({n: i for i, n in enumerate(plan.indicators)})
    table["_e"] = table["end"].map({e: i for i, e in enumerate(ENDS)})
    table["_s"] = table["swing"].fillna(-1.0)
    table = table.sort_values(["_c", "_i", "_s", "parameter", "_e"],
                              ascending=[True, True, False, True, True], kind="stable")
    return table.drop(columns=["_c", "_i", "_e", "_s"]).reset_index(drop=True)


def flagged(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`audit_table` whose assumption changes the conclusion."""
    if table.empty:
        return table
    return table[table["flag"]].reset_index(drop=True)
