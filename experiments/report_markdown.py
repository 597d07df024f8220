"""The report's Markdown: tables, confidence-interval cells and the report's sections.

Each ``section_*`` function returns one section of ``report.md`` (or an empty string when
it has nothing to say) from a report :class:`~experiments.report_context.Context` and the
tables computed for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.report_context import Context, fmt_level, indicator_unit, point_label
from experiments.report_decomposition import (
    TOTAL,
    available,
    largest_part,
    missing_keys,
    sum_gaps,
)
from experiments.report_paired import comparisons
from experiments.sweep import DECOMPOSITIONS, replay_command
from sim import indicators as registry

MAX_COMPARISONS = 30
"""Comparisons shown in the Markdown tables (every one is in the CSV)."""
_SHORT = {"response_time_mean": "response time", "satisfaction_mean": "satisfaction",
          "trust_mean": "trust"}


def md_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub Markdown table (no index)."""
    if frame.empty:
        return "_(none)_\n"
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def number(value: float) -> str:
    """A number for a table: 1,000 and more as whole numbers with separators, else 4 digits."""
    if not np.isfinite(value):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating | int | np.integer) and not isinstance(
            value, bool | np.bool_):
        return number(float(value))
    return str(value).replace("|", "\\|").replace("\n", " ")


def _ci_text(mean: float, lo: float, hi: float) -> str:
    if not np.isfinite(mean):
        return "–"
    if not np.isfinite(lo):
        return number(mean)
    return f"{number(mean)} [{number(lo)}, {number(hi)}]"


def _p_text(p: float) -> str:
    return "–" if not np.isfinite(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _p_cell(p: float) -> str:
    text = _p_text(p)
    return f"p{text}" if text.startswith("<") else f"p={text}"


def section_header(ctx: Context) -> str:
    """Title, design, counts and factors."""
    spec, runs = ctx.spec, ctx.result.runs
    n_ok, n_failed = len(ctx.ok), len(runs) - len(ctx.ok)
    lines = [f"# Sweep report: {spec.name}", ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += [
        f"- design: **{spec.design}**, {spec.n_points} points x {spec.replications} "
        f"replications = {spec.n_runs} runs of {spec.days} days; root seed {spec.seed} "
        f"(replication r uses spawn key (r,) at every point: common random numbers)",
        f"- recorded: {n_ok} ok, {n_failed} failed, {spec.n_runs - len(runs)} missing",
        f"- store: `{ctx.result.path}`",
    ]
    for f in (*spec.cross, *spec.factors):
        what = f"[{f.lo:g}, {f.hi:g}]" if f.is_range else ", ".join(map(fmt_level, f.levels))
        lines.append(f"- factor `{f.key}`: {what}")
    return "\n".join(lines) + "\n"


def section_failed(ctx: Context) -> str:
    """Failed runs with their error and the command that replays them."""
    failed = ctx.result.failed
    if failed.empty:
        return ""
    rows = [{"run": r.run_id, "error": r.error,
             "replay": f"`{replay_command(ctx.result.path or '.', ctx.spec, r.point, r.rep)}`"}
            for r in failed.head(20).itertuples()]
    more = f"\n({len(failed) - 20} more in the runs table)\n" if len(failed) > 20 else ""
    return "## Failed runs\n\n" + md_table(pd.DataFrame(rows)) + more


def section_points(ctx: Context, ps: pd.DataFrame) -> str:
    """Mean and 95% CI per design point (all indicators if few points)."""
    if ps.empty:
        return "## Indicators per design point\n\nNo successful run.\n"
    ps = ps.assign(text=[_ci_text(m, lo, hi) for m, lo, hi in
                         zip(ps["mean"], ps["ci_lo"], ps["ci_hi"], strict=True)])
    labels = {p: point_label(ctx, p) for p in ps["point"].unique()}
    head = "## Indicators per design point: mean [95% CI] over replications\n\n"
    if len(labels) <= 8:
        wide = ps.pivot(index="indicator", columns="point", values="text")
        wide = wide.reindex(ctx.indicators).rename(columns=labels).reset_index()
        wide.insert(1, "unit", [indicator_unit(i) for i in wide["indicator"]])
        return head + md_table(wide)
    wide = ps[ps["indicator"].isin(ctx.key)].pivot(index="point", columns="indicator",
                                                     values="text")
    wide = wide[[k for k in ctx.key if k in wide.columns]]
    wide.insert(0, "point", [labels[p] for p in wide.index])
    return (head + md_table(wide) + "\nEvery indicator at every point: "
            "`tables/point_stats.csv`.\n")


def section_paired(ctx: Context, paired: pd.DataFrame) -> str:
    """Paired differences against the baseline, with p-values and variance reduction."""
    if paired.empty:
        return ""
    sub = paired[paired["indicator"].isin(ctx.key)]
    cells = sub.assign(text=[f"{_ci_text(m, lo, hi)} {_p_cell(p)}" for m, lo, hi, p in
                             zip(sub["diff"], sub["ci_lo"], sub["ci_hi"], sub["p_value"],
                                 strict=True)])
    wide = cells.pivot(index="point", columns="indicator", values="text")
    wide = wide[[k for k in ctx.key if k in wide.columns]]
    first = cells.drop_duplicates("point").set_index("point")
    wide.insert(0, "pairs", first["n"].reindex(wide.index))
    wide.insert(0, "comparison", first["comparison"].reindex(wide.index))
    more = ""
    if len(wide) > 30:
        more, wide = f"\n({len(wide) - 30} more comparisons in the CSV)\n", wide.head(30)
    vr = sub.groupby("indicator")["var_reduction"].median()
    vr = vr.reindex([k for k in ctx.key if k in vr.index])
    summary = pd.DataFrame({"indicator": vr.index,
                            "variance reduction by pairing (median)": vr.to_numpy()})
    return (f"## Paired differences against `{ctx.baseline_factor} = {ctx.baseline}`\n\n"
            "Difference = level - baseline within each replication (same random streams): "
            "mean [95% CI] and the paired t-test p-value.\n\n" + md_table(wide.reset_index(
                drop=True)) + more + "\nWhat pairing on common random numbers achieved: "
            "variance reduction = 1 - var(d) / (var(a) + var(b)) (0: none; 1: all the "
            "noise shared). Every indicator and pair: `tables/paired_differences.csv`.\n\n"
            + md_table(summary))


def section_decomposition(ctx: Context, dec: pd.DataFrame) -> str:
    """Why the levels differ: each paired difference split into the parts that add up to it.

    Empty without comparisons; one line when the runs lack the parts (an older store).
    """
    if not comparisons(ctx) or ctx.ok.empty:
        return ""
    head = "## Why they differ"
    if dec.empty and available(ctx):
        return f"{head}\n\nSkipped: no pair of runs has the totals and all their parts.\n"
    if dec.empty:
        keys = missing_keys(ctx)
        shown = ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")
        return (f"{head}\n\nSkipped: the runs of this store lack the decomposition keys "
                f"({shown}); rerun the sweep with `--force` to get them.\n")
    totals = [t for t in DECOMPOSITIONS if t in set(dec["indicator"])]
    points = list(pd.unique(dec["point"]))
    shown = points[:MAX_COMPARISONS]
    lines = [f"{head}: parts of the paired differences against "
             f"`{ctx.baseline_factor} = {ctx.baseline}`", "",
             "In every run the mean response time is command chain + queue + travel (means "
             "over the same attended incidents), and the end mean of satisfaction (of trust) "
             "is its start mean plus its change by each channel; so each paired difference "
             "(level - baseline within a replication) is the sum of the paired differences "
             "of its parts. Mean [95% CI] over the pairs; with common random numbers the "
             "start difference is 0. Every part with its share of the total: "
             "`tables/decomposition.csv`; figure: `figures/decomposition.png`.", ""]
    lines += [f"- {_why_sentence(dec, p, totals, ctx.baseline)}" for p in shown]
    if len(points) > len(shown):
        lines.append(f"- ({len(points) - len(shown)} more comparisons in the CSV)")
    gaps = sum_gaps(dec)
    for total in totals:
        sub = dec[(dec["indicator"] == total) & dec["point"].isin(shown)]
        parts = [c for c in pd.unique(sub["component"]) if c != TOTAL]
        cells = sub.assign(text=[_ci_text(m, lo, hi) for m, lo, hi in
                                 zip(sub["diff"], sub["ci_lo"], sub["ci_hi"], strict=True)])
        wide = cells.pivot(index="point", columns="component", values="text")
        wide = wide.reindex(index=shown, columns=[TOTAL, *parts])
        first = cells.drop_duplicates("point").set_index("point")
        g = gaps[gaps["indicator"] == total].set_index("point")
        wide.insert(0, "pairs", first["n"].reindex(wide.index))
        wide.insert(0, "comparison", first["comparison"].reindex(wide.index))
        wide["sum of parts"] = g["parts"].reindex(wide.index)
        wide = wide.dropna(subset=["comparison"])
        worst = float(g["gap"].abs().max())
        unit = " min" if indicator_unit(total) == "min" else ""
        lines += ["", f"### {registry.label(total)}: difference and its parts", "",
                  md_table(wide.reset_index(drop=True)),
                  f"Sum check: {' + '.join(parts)} = total difference in every comparison "
                  f"(largest |sum - total| = {worst:.2g}{unit})."]
    lacking = missing_keys(ctx)
    if lacking:
        lines += ["", f"Not decomposed: the runs lack {', '.join(lacking)}."]
    return "\n".join(lines) + "\n"


def _why_sentence(dec: pd.DataFrame, point: int, totals: list[str], baseline: Any) -> str:
    """One sentence: per decomposed total, the difference and the part that contributes most."""
    rows = dec[dec["point"] == point]
    clauses = []
    for total in totals:
        whole = rows[(rows["indicator"] == total) & (rows["component"] == TOTAL)]
        if whole.empty:
            continue
        unit = indicator_unit(total)
        unit = f" {unit}" if unit == "min" else ""
        name, diff = _SHORT.get(total, total), float(whole["diff"].iloc[0])
        lo, hi = float(whole["ci_lo"].iloc[0]), float(whole["ci_hi"].iloc[0])
        noise = " (95% CI includes 0)" if np.isfinite(lo) and lo <= 0 <= hi else ""
        top = largest_part(dec, point, total)
        if top is None:
            clauses.append(f"{name} {diff:+.3g}{unit}{noise}, no part differs")
            continue
        share = float(top["share"])
        if not np.isfinite(share):
            how = "the parts cancel out"
        elif share > 1:
            how = "more than the whole difference, offset by the other parts"
        elif share < 0:
            how = "against the direction of the total"
        else:
            how = f"{share:.0%} of it"
        clauses.append(f"{name} {diff:+.3g}{unit}{noise}, largest part {top['component']} "
                       f"({float(top['diff']):+.3g}{unit}, {how})")
    label = str(rows["comparison"].iloc[0])
    return f"**{label}** vs {fmt_level(baseline)}: " + "; ".join(clauses) + "."


def section_sensitivity(ctx: Context, sens: pd.DataFrame) -> str:
    """Sensitivity indices table."""
    if sens.empty:
        return ""
    method = str(sens["method"].iloc[0])
    cols = {"morris": ["mu_star", "mu_star_conf", "mu", "sigma"],
            "sobol": ["S1", "S1_conf", "ST", "ST_conf"],
            "spearman": ["rho", "rho_lo", "rho_hi", "p_value"]}.get(method, [])
    cols = [c for c in ["group", "indicator", "factor", *cols, "note"] if c in sens.columns]
    what = {"morris": "Morris elementary effects (mu*, its 95% CI half-width, sigma)",
            "sobol": "Sobol indices from a Saltelli design (first-order S1, total ST, 95% CI "
                     "half-widths)",
            "spearman": "Spearman rank correlations with 95% CIs"}.get(method, method)
    return (f"## Sensitivity: {what}\n\nComputed on the mean over replications at each "
            f"design point.\n\n" + md_table(sens[cols]))


def section_figures(ctx: Context, figures: list[Path]) -> str:
    """Links to the figures."""
    if not figures:
        return ""
    lines = ["## Figures", ""]
    for path in figures:
        lines += [f"![{path.stem}]({path.relative_to(ctx.out).as_posix()})", ""]
    return "\n".join(lines)
