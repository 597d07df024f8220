"""Why levels differ: paired differences split into the parts that add up to them.

In every run the mean response time is the sum of its command-chain, queue and travel means
(over the same attended incidents), and the end mean of satisfaction (of trust) is its start
mean plus the change due to each channel (experience, word of mouth, presence, contact,
drift); :data:`experiments.sweep.DECOMPOSITIONS` lists the parts. The paired difference of a
total against the baseline (same replication, common random numbers) is therefore the sum of
the paired differences of its parts: :func:`decomposition` computes each part's mean paired
difference with its 95% CI and its share of the total, over the replications where the total
and every part are known at both points (so the parts add up to the total exactly, up to
rounding). With common random numbers the start difference is zero.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from experiments.report_context import Context, point_label
from experiments.report_paired import comparisons
from experiments.report_stats import paired_stats
from experiments.sweep import DECOMPOSITIONS

TOTAL = "total"
"""The ``component`` of the rows that hold the total difference."""
COLUMNS = ["point", "baseline_point", "comparison", "indicator", "component", "key", "n",
           "diff", "ci_lo", "ci_hi", "share"]
_NAMES = {"response_chain_mean": "command chain", "response_queue_mean": "queue",
          "response_travel_mean": "travel"}


def component_name(key: str) -> str:
    """A part's short name: ``response_chain_mean`` -> ``command chain``.

    ``trust_change_word_of_mouth`` -> ``word of mouth``; ``satisfaction_start_mean`` ->
    ``start``.
    """
    if key in _NAMES:
        return _NAMES[key]
    if key.endswith("_start_mean"):
        return "start"
    return key.split("_change_", 1)[-1].replace("_", " ")


def available(ctx: Context) -> list[str]:
    """The decomposed totals whose total and parts are all numeric columns of the runs."""
    have = set(ctx.indicators)
    return [t for t, parts in DECOMPOSITIONS.items() if t in have and set(parts) <= have]


def missing_keys(ctx: Context) -> list[str]:
    """The parts missing for the decomposed totals the runs have (all parts if none has)."""
    have = set(ctx.indicators)
    totals = [t for t in DECOMPOSITIONS if t in have] or list(DECOMPOSITIONS)
    return [p for t in totals for p in DECOMPOSITIONS[t] if p not in have]


def decomposition(ctx: Context) -> pd.DataFrame:
    """Paired differences of each decomposed total and of its parts, per comparison.

    Returns:
        One row per comparison, total and component (the total last, ``component ==
        "total"``): ``point``, ``baseline_point``, ``comparison``, ``indicator`` (the
        total), ``component``, ``key`` (the summary key), ``n`` (pairs), ``diff`` (mean
        paired difference), ``ci_lo``, ``ci_hi`` (95% CI) and ``share`` (``diff`` / the
        total's ``diff``; NaN when the total difference is 0). Empty when the runs lack the
        parts.
    """
    totals = available(ctx)
    if not totals or ctx.ok.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows = []
    for point, base in comparisons(ctx):
        a = ctx.ok[ctx.ok["point"] == point].set_index("rep")
        b = ctx.ok[ctx.ok["point"] == base].set_index("rep")
        reps = a.index.intersection(b.index)
        head = {"point": point, "baseline_point": base, "comparison": point_label(ctx, point)}
        for total in totals:
            keys = [*DECOMPOSITIONS[total], total]
            va, vb = a.loc[reps, keys].to_numpy(float), b.loc[reps, keys].to_numpy(float)
            both = np.isfinite(va).all(axis=1) & np.isfinite(vb).all(axis=1)
            if not both.any():
                continue
            found = [paired_stats(va[both, j], vb[both, j]) for j in range(len(keys))]
            whole = found[-1]["diff"]
            for key, st in zip(keys, found, strict=True):
                share = (st["diff"] / whole + 0.0 if whole != 0 and math.isfinite(whole)
                         else math.nan)  # + 0.0: no -0
                rows.append({**head, "indicator": total,
                             "component": TOTAL if key == total else component_name(key),
                             "key": key, "n": st["n"], "diff": st["diff"],
                             "ci_lo": st["ci_lo"], "ci_hi": st["ci_hi"], "share": share})
    return pd.DataFrame(rows, columns=COLUMNS)


def sum_gaps(dec: pd.DataFrame) -> pd.DataFrame:
    """Per comparison and total: the sum of the parts' differences and its gap to the total."""
    if dec.empty:
        return pd.DataFrame(columns=["point", "indicator", "parts", "total", "gap"])
    parts = dec[dec["component"] != TOTAL].groupby(["point", "indicator"], sort=False)["diff"]
    total = dec[dec["component"] == TOTAL].set_index(["point", "indicator"])["diff"]
    out = pd.DataFrame({"parts": parts.sum()}).join(total.rename("total"))
    return out.assign(gap=out["parts"] - out["total"]).reset_index()


def largest_part(dec: pd.DataFrame, point: int, indicator: str) -> pd.Series | None:
    """The part with the largest absolute mean difference (None if all are zero or absent)."""
    sub = dec[(dec["point"] == point) & (dec["indicator"] == indicator)
              & (dec["component"] != TOTAL)]
    size = sub["diff"].abs()
    if sub.empty or not (size > 0).any():
        return None
    return sub.loc[size.idxmax()]
