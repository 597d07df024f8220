"""The report's paired-differences tables: each level against the baseline level.

Replication ``r`` of every design point used the same random streams (common random
numbers), so each difference ``level - baseline`` is taken within a replication: per
indicator (:func:`paired_differences`) and per community (:func:`community_gaps`), between
each design point and the point that differs from it only in the baseline factor
(:func:`comparisons`).
"""

from __future__ import annotations

import pandas as pd

from experiments.report_context import Context, point_label
from experiments.report_stats import paired_stats


def comparisons(ctx: Context) -> list[tuple[int, int]]:
    """Pairs ``(point, baseline point)`` that differ only in the baseline factor."""
    if ctx.baseline_factor is None:
        return []
    design = ctx.result.spec.points
    others = [f for f in ctx.factors if f != ctx.baseline_factor]
    base = design[design[ctx.baseline_factor] == ctx.baseline]
    pairs = []
    for _, row in design[design[ctx.baseline_factor] != ctx.baseline].iterrows():
        match = base
        for f in others:
            match = match[match[f] == row[f]]
        if len(match):
            pairs.append((int(row["point"]), int(match["point"].iloc[0])))
    return pairs


def paired_differences(ctx: Context) -> pd.DataFrame:
    """Per-replication differences of every indicator against the baseline level."""
    rows = []
    for point, base in comparisons(ctx):
        a = ctx.ok[ctx.ok["point"] == point].set_index("rep")
        b = ctx.ok[ctx.ok["point"] == base].set_index("rep")
        reps = a.index.intersection(b.index)
        head = {"point": point, "baseline_point": base, "comparison": point_label(ctx, point)}
        for ind in ctx.indicators:
            stats_ = paired_stats(a.loc[reps, ind].to_numpy(float), b.loc[reps, ind]
                                  .to_numpy(float))
            rows.append({**head, "indicator": ind, **stats_})
    return pd.DataFrame(rows)


def community_gaps(ctx: Context, indicator: str = "response_time_mean") -> pd.DataFrame:
    """Per community, mean paired gap of an indicator between each level and the baseline."""
    comm = ctx.result.communities
    if comm.empty or indicator not in comm.columns:
        return pd.DataFrame()
    rows = []
    for point, base in comparisons(ctx):
        a = comm[comm["point"] == point].set_index(["rep", "community"])[indicator]
        b = comm[comm["point"] == base].set_index(["rep", "community"])[indicator]
        d = (a - b).dropna().groupby(level="community")
        frame = pd.DataFrame({"gap": d.mean(), "n": d.count()}).reset_index()
        rows.append(frame.assign(point=point, baseline_point=base,
                                 comparison=point_label(ctx, point)))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
