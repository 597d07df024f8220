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
from experiments.sweep import replay_command


def md_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub Markdown table (no index)."""
    if frame.empty:
        return "_(none)_\n"
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "–" if not np.isfinite(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _ci_text(mean: float, lo: float, hi: float) -> str:
    if not np.isfinite(mean):
        return "–"
    if not np.isfinite(lo):
        return f"{mean:.4g}"
    return f"{mean:.4g} [{lo:.4g}, {hi:.4g}]"


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
