"""Reports on a sweep store: confidence intervals, paired differences, sensitivity, figures.

``make_report(DIR)`` reads a store (see :mod:`experiments.store`) and writes, in ``DIR``
(or ``out``):

* ``report.md``: the design, failed runs, the mean and 95% confidence interval of every
  indicator at every design point, paired differences against a baseline level (with
  confidence intervals, p-values and the variance reduction pairing achieved) and, for
  sampled designs, sensitivity indices;
* ``figures/*.png``: indicators against factor levels with CI bands, response-time
  distributions, a per-community map of the gap to the baseline, daily series and
  sensitivity indices;
* ``tables/*.csv``: the full tables behind the Markdown.

Pairing: replication ``r`` of every design point used the same random streams (common random
numbers), so the difference ``level - baseline`` is taken within each replication; its
variance is usually much smaller than that of two independent samples. The variance
reduction reported is ``1 - var(d) / (var(a) + var(b))``.

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot, no
display, no global backend change).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from scipy import stats

from experiments.spec import SAMPLE_PREFIX, SweepSpec, salib_problem
from experiments.sweep import SweepResult, load_results, replay_command
from sim import indicators as registry
from sim.outputs import (
    OutputError,
    check_location,
    check_replaceable,
    list_files,
    make_stage,
    remove_own,
    swap_in,
    write_marker,
)

CONF = 0.95
DEFAULT_INDICATORS = registry.HEADLINE
"""Indicators featured when neither the spec nor the caller names any."""
META = {"point", "rep", "seed", "spawn_key", "days"}
MAX_LINES = 10
MAX_MAPS = 6


@dataclass
class Report:
    """A written report.

    Attributes:
        markdown: The report text.
        path: The Markdown file.
        figures: The PNG files written.
        tables: The tables behind the report (also written as CSV).
    """

    markdown: str
    path: Path
    figures: list[Path] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


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


# -- statistics ---------------------------------------------------------------------------
def t_half_width(sd: Any, n: Any, conf: float = CONF) -> Any:
    """Half-width of a t confidence interval for a mean (NaN for fewer than 2 values)."""
    n = np.asarray(n, dtype=float)
    df = np.where(n > 1, n - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = stats.t.ppf(0.5 + conf / 2, np.where(np.isnan(df), 1, df))
        return np.where(np.isnan(df), np.nan, q * np.asarray(sd, dtype=float) / np.sqrt(n))


def point_stats(ok: pd.DataFrame, factors: list[str], indicators: list[str]) -> pd.DataFrame:
    """Mean and 95% CI of every indicator at every design point.

    Args:
        ok: Successful runs.
        factors: Factor columns.
        indicators: Indicator columns.

    Returns:
        Long table: ``point``, factors, ``indicator``, ``n``, ``mean``, ``sd``, ``ci_lo``,
        ``ci_hi``.
    """
    if ok.empty:
        return pd.DataFrame(columns=["point", *factors, "indicator", "n", "mean", "sd",
                                     "ci_lo", "ci_hi"])
    g = ok.groupby("point")
    levels = g[factors].first() if factors else pd.DataFrame(index=g.size().index)
    frames = []
    for ind in indicators:
        n, mean, sd = g[ind].count(), g[ind].mean(), g[ind].std(ddof=1)
        half = t_half_width(sd, n)
        frames.append(levels.assign(indicator=ind, n=n, mean=mean, sd=sd,
                                    ci_lo=mean - half, ci_hi=mean + half))
    return pd.concat(frames).reset_index()


def paired_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Paired comparison of two indicators over the same replications.

    Args:
        a: Values at the compared level, one per replication.
        b: Values at the baseline, same replications.

    Returns:
        ``n``, ``mean_a``, ``mean_b``, ``diff``, ``ci_lo``, ``ci_hi``, ``p_value`` (paired t
        test, two-sided) and ``var_reduction`` (``1 - var(d) / (var(a) + var(b))``).
    """
    mask = np.isfinite(a) & np.isfinite(b)
    a, b = a[mask], b[mask]
    n = int(mask.sum())
    nan = math.nan
    out = {"n": n, "mean_a": nan, "mean_b": nan, "diff": nan, "ci_lo": nan, "ci_hi": nan,
           "p_value": nan, "var_reduction": nan}
    if n == 0:
        return out
    d = a - b
    out.update(mean_a=float(a.mean()), mean_b=float(b.mean()), diff=float(d.mean()))
    if n < 2:
        return out
    sd = float(d.std(ddof=1))
    half = float(t_half_width(sd, n))
    out.update(ci_lo=out["diff"] - half, ci_hi=out["diff"] + half)
    out["p_value"] = _paired_p(out["diff"], sd, n)
    denom = float(a.var(ddof=1) + b.var(ddof=1))
    out["var_reduction"] = 1.0 - sd**2 / denom if denom > 0 else nan
    return out


def _paired_p(mean: float, sd: float, n: int) -> float:
    if sd == 0:
        return 1.0 if mean == 0 else 0.0
    t = mean / (sd / math.sqrt(n))
    return float(2 * stats.t.sf(abs(t), n - 1))


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
        head = {"point": point, "baseline_point": base, "comparison": _label(ctx, point)}
        for ind in ctx.indicators:
            stats_ = paired_stats(a.loc[reps, ind].to_numpy(float), b.loc[reps, ind]
                                  .to_numpy(float))
            rows.append({**head, "indicator": ind, **stats_})
    return pd.DataFrame(rows)


def sensitivity(ctx: Context) -> pd.DataFrame:
    """Sensitivity indices of a sampled design, per ``[cross]`` group and key indicator.

    Morris designs give ``mu_star`` (with CI) and ``sigma``; Saltelli designs first-order and
    total Sobol indices ``S1`` and ``ST`` (with CIs); LHS and Sobol-sequence designs give
    Spearman rank correlations (with Fisher-z CIs).
    """
    spec = ctx.spec
    if spec.design not in ("morris", "saltelli", "lhs", "sobol"):
        return pd.DataFrame()
    means = ctx.ok.groupby("point")[ctx.key].mean()
    rows = []
    for label, points in _cross_groups(ctx):
        x = spec.points.set_index("point").loc[points,
                                                [SAMPLE_PREFIX + f.key for f in spec.factors]]
        for ind in ctx.key:
            y = means[ind].reindex(points).to_numpy(float)
            rows += _indices(spec, x.to_numpy(float), y, label, ind)
    return pd.DataFrame(rows)


def _cross_groups(ctx: Context) -> list[tuple[str, list[int]]]:
    design = ctx.spec.points
    keys = [f.key for f in ctx.spec.cross]
    if not keys:
        return [("all", design["point"].tolist())]
    return [(", ".join(f"{k}={v}" for k, v in zip(keys, combo if isinstance(combo, tuple)
                                                     else (combo,), strict=True)),
             group["point"].tolist())
            for combo, group in design.groupby(keys if len(keys) > 1 else keys[0], sort=False)]


def _indices(spec: SweepSpec, x: np.ndarray, y: np.ndarray, group: str,
             ind: str) -> list[dict[str, Any]]:
    base = {"group": group, "indicator": ind}
    names = [f.key for f in spec.factors]
    if not np.isfinite(y).all() or np.ptp(y) == 0:
        return [{**base, "factor": n, "method": spec.design, "note":
                 "not computed: missing runs or a constant indicator"} for n in names]
    seed = int(spec.seed % (2**31 - 1))
    if spec.design == "morris":
        from SALib.analyze import morris

        r = morris.analyze(salib_problem(spec), x, y, num_levels=spec.morris_levels,
                           conf_level=CONF, num_resamples=1000, seed=seed)
        return [{**base, "factor": n, "method": "morris", "mu_star": float(r["mu_star"][i]),
                 "mu_star_conf": float(r["mu_star_conf"][i]), "mu": float(r["mu"][i]),
                 "sigma": float(r["sigma"][i])} for i, n in enumerate(names)]
    if spec.design == "saltelli":
        from SALib.analyze import sobol

        r = sobol.analyze(salib_problem(spec), y, calc_second_order=False, conf_level=CONF,
                          num_resamples=1000, seed=seed)
        return [{**base, "factor": n, "method": "sobol", "S1": float(r["S1"][i]),
                 "S1_conf": float(r["S1_conf"][i]), "ST": float(r["ST"][i]),
                 "ST_conf": float(r["ST_conf"][i])} for i, n in enumerate(names)]
    return [{**base, "factor": n, "method": "spearman", **_spearman(x[:, i], y)}
            for i, n in enumerate(names)]


def _spearman(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    n = len(y)
    if np.ptp(x) == 0 or n < 4:
        return {"rho": math.nan, "rho_lo": math.nan, "rho_hi": math.nan, "p_value": math.nan}
    rho, p = stats.spearmanr(x, y)
    z, se = math.atanh(min(max(float(rho), -0.999999), 0.999999)), 1 / math.sqrt(n - 3)
    q = stats.norm.ppf(0.5 + CONF / 2)
    return {"rho": float(rho), "rho_lo": math.tanh(z - q * se), "rho_hi": math.tanh(z + q * se),
            "p_value": float(p)}


# -- context ------------------------------------------------------------------------------
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


def _label(ctx: Context, point: int) -> str:
    row = ctx.spec.points.set_index("point").loc[point]
    parts = [f"{_short(f)}={_fmt_level(row[f])}" for f in ctx.factors]
    return ", ".join(parts) if parts else f"point {point}"


def _short(key: str) -> str:
    """``police.officers`` -> ``officers``; ``strategy.name`` -> ``strategy``."""
    parts = key.split(".")
    return parts[-2] if parts[-1] == "name" and len(parts) > 1 else parts[-1]


def _unit(indicator: str) -> str:
    """The registered unit of a summary indicator (empty if it is not registered)."""
    hit = registry.find(indicator)
    return hit.unit if hit is not None else ""


def _fmt_level(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float | np.floating) else str(value)


# -- figures ------------------------------------------------------------------------------
def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def _grid(n: int, ncols: int = 3, size: tuple[float, float] = (4.2, 3.2)) -> tuple[Figure, list]:
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _line_groups(ctx: Context, exclude: set[str]) -> list[tuple[str, pd.DataFrame]]:
    """Design points split into lines by every factor not in ``exclude``."""
    design = ctx.spec.points
    by = [f for f in ctx.factors if f not in exclude]
    if not by:
        return [("all", design)]
    groups = design.groupby(by if len(by) > 1 else by[0], sort=False)
    out = []
    for values, frame in groups:
        values = values if isinstance(values, tuple) else (values,)
        out.append((", ".join(f"{_short(k)}={_fmt_level(v)}" for k, v in
                              zip(by, values, strict=True)), frame))
    return out


def figure_indicators(ctx: Context, ps: pd.DataFrame) -> list[Path]:
    """Key indicators against the levels of a factor, one line per other level, CI bands."""
    if ps.empty or not ctx.factors or ctx.spec.design in ("lhs", "sobol", "morris", "saltelli"):
        return figure_scatter(ctx, ps)
    x = _x_factor(ctx)
    lines = _line_groups(ctx, {x})[:MAX_LINES]
    fig, axes = _grid(len(ctx.key))
    numeric = pd.api.types.is_numeric_dtype(ctx.spec.points[x])
    for ax, ind in zip(axes, ctx.key, strict=True):
        sub = ps[ps["indicator"] == ind]
        for i, (label, frame) in enumerate(lines):
            d = sub[sub["point"].isin(frame["point"])].sort_values(x if numeric else "point")
            if numeric:
                ax.plot(d[x], d["mean"], marker="o", label=label)
                ax.fill_between(d[x], d["ci_lo"], d["ci_hi"], alpha=0.2)
            else:
                pos = np.arange(len(d)) + (i - (len(lines) - 1) / 2) * 0.08
                ax.errorbar(pos, d["mean"], yerr=[d["mean"] - d["ci_lo"], d["ci_hi"] - d["mean"]],
                            fmt="o", capsize=3, label=label)
                ax.set_xticks(np.arange(len(d)), [str(v) for v in d[x]], rotation=30)
        ax.set_title(ind)
        ax.set_xlabel(x)
        ax.set_ylabel(registry.label(ind), fontsize=8)
        ax.grid(alpha=0.3)
    if len(lines) > 1:
        axes[0].legend(fontsize=7)
    fig.suptitle(f"Indicators vs {x} (mean and 95% CI over replications)")
    return [_save(fig, ctx.out / "figures" / f"indicators_vs_{_short(x)}.png")]


def _x_factor(ctx: Context) -> str:
    design = ctx.spec.points
    numeric = [f for f in ctx.factors if f != ctx.baseline_factor and design[f].nunique() > 1
               and pd.api.types.is_numeric_dtype(design[f])]
    if numeric:
        return numeric[0]
    varying = [f for f in ctx.factors if design[f].nunique() > 1]
    return ctx.baseline_factor or (varying[0] if varying else ctx.factors[0])


def figure_scatter(ctx: Context, ps: pd.DataFrame) -> list[Path]:
    """Sampled designs: point means of each key indicator against each sampled factor."""
    spec = ctx.spec
    if ps.empty or not spec.factors:
        return []
    paths = []
    groups = _cross_groups(ctx)
    for ind in ctx.key[:4]:
        sub = ps[ps["indicator"] == ind].set_index("point")
        fig, axes = _grid(len(spec.factors), ncols=4, size=(3.4, 2.8))
        for ax, f in zip(axes, spec.factors, strict=True):
            for label, points in groups:
                d = sub.reindex(points)
                ax.scatter(spec.points.set_index("point").loc[points, f.key], d["mean"], s=12,
                           alpha=0.7, label=label)
            ax.set_xlabel(f.key, fontsize=8)
            ax.grid(alpha=0.3)
        if len(groups) > 1:
            axes[0].legend(fontsize=7)
        axes[0].set_ylabel(registry.label(ind), fontsize=8)
        fig.suptitle(f"{ind}: mean over replications at each design point")
        paths.append(_save(fig, ctx.out / "figures" / f"scatter_{ind}.png"))
    return paths


def figure_rt_distribution(ctx: Context) -> list[Path]:
    """Response-time distributions (share per decade, log time axis) per priority."""
    hist = ctx.result.rt_hist
    if hist.empty:
        return []
    lines = _rt_lines(ctx)
    prios = list(pd.unique(hist["priority"]))
    fig, axes = _grid(len(prios), ncols=2, size=(5.0, 3.2))
    for ax, prio in zip(axes, prios, strict=True):
        sub = hist[hist["priority"] == prio]
        for label, points in lines:
            d = sub[sub["point"].isin(points)].groupby("bin").agg(
                lo=("lo", "first"), hi=("hi", "first"), count=("count", "sum"))
            total = d["count"].sum()
            if total == 0:
                continue
            density = d["count"] / total / np.log10(d["hi"] / d["lo"])
            ax.stairs(density.to_numpy(), np.append(d["lo"].to_numpy(), d["hi"].iloc[-1]),
                      label=label)
        ax.set_xscale("log")
        nonzero = sub[sub["count"] > 0]
        if len(nonzero):
            ax.set_xlim(nonzero["lo"].min() / 1.5, nonzero["hi"].max() * 1.5)
        ax.set_title(f"{prio} (pooled over replications)")
        ax.set_xlabel("response time (min)")
        ax.set_ylabel("share per decade")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return [_save(fig, ctx.out / "figures" / "response_time_distribution.png")]


def _rt_lines(ctx: Context) -> list[tuple[str, list[int]]]:
    design = ctx.spec.points
    if len(design) <= MAX_LINES:
        return [(_label(ctx, int(p)), [int(p)]) for p in design["point"]]
    factor = ctx.baseline_factor or (ctx.factors[0] if ctx.factors else None)
    if factor is None:
        return [("all", design["point"].tolist())]
    return [(f"{_short(factor)}={_fmt_level(v)} (all other levels)", g["point"].tolist())
            for v, g in design.groupby(factor, sort=False)][:MAX_LINES]


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
                                 comparison=_label(ctx, point)))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def figure_community_map(ctx: Context, gaps: pd.DataFrame) -> list[Path]:
    """A map of each community's gap to the baseline (red: slower than the baseline)."""
    if gaps.empty:
        return []
    pairs = gaps[["point", "comparison"]].drop_duplicates().head(MAX_MAPS)
    lim = float(np.nanmax(np.abs(gaps["gap"]))) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    fig, axes = _grid(len(pairs), ncols=3, size=(3.8, 3.6))
    mappable = None
    for ax, (point, label) in zip(axes, pairs.itertuples(index=False), strict=True):
        city = ctx.spec.scenario_for(int(point)).city
        sub = gaps[gaps["point"] == point].set_index("community")["gap"]
        mappable = _draw_communities(ax, city, sub, norm)
        ax.set_title(f"{label}\nminus {ctx.baseline}", fontsize=8)
    if mappable is not None:
        fig.colorbar(mappable, ax=axes, shrink=0.8,
                     label="response_time_mean gap (min), paired over replications")
    return [_save(fig, ctx.out / "figures" / "community_gap_map.png")]


def _draw_communities(ax: Any, city: Any, gap: pd.Series, norm: TwoSlopeNorm) -> Any:
    """Communities are ``community_cells`` squares numbered down columns (sim.city)."""
    from matplotlib.cm import ScalarMappable

    size, w, h = city.community_cells, city.width, city.height
    n_cy = -(-h // size)
    cmap = "RdBu_r"
    sm = ScalarMappable(norm=norm, cmap=cmap)
    for c, value in gap.items():
        cx, cy = divmod(int(c), n_cy)
        x0, y0 = cx * size, cy * size
        color = sm.to_rgba(value) if np.isfinite(value) else (0.85, 0.85, 0.85, 1)
        ax.add_patch(Rectangle((x0, y0), min(size, w - x0), min(size, h - y0),
                               facecolor=color, edgecolor="white", linewidth=0.5))
    ax.set_xlim(0, w)
    ax.set_ylim(0, h)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return sm


def figure_daily(ctx: Context) -> list[Path]:
    """Daily series of key indicators per line group, mean and 95% CI over replications."""
    daily = ctx.result.daily
    cols = [c for c in ("response_time_mean", "clearance_rate", "satisfaction_mean")
            if not daily.empty and c in daily.columns]
    if not cols:
        return []
    lines = _rt_lines(ctx)
    fig, axes = _grid(len(cols), ncols=3)
    for ax, col in zip(axes, cols, strict=True):
        for label, points in lines:
            d = daily[daily["point"].isin(points)].groupby("day")[col]
            mean, half = d.mean(), t_half_width(d.std(ddof=1), d.count())
            ax.plot(mean.index, mean, label=label, linewidth=1)
            ax.fill_between(mean.index, mean - half, mean + half, alpha=0.2)
        ax.set_title(col)
        ax.set_xlabel("day")
        ax.set_ylabel(registry.label(col, "daily"), fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return [_save(fig, ctx.out / "figures" / "daily.png")]


def figure_sensitivity(ctx: Context, sens: pd.DataFrame) -> list[Path]:
    """Sensitivity indices with their confidence intervals, one panel per indicator."""
    if sens.empty or "method" not in sens.columns:
        return []
    value, conf = {"morris": ("mu_star", "mu_star_conf"), "sobol": ("ST", "ST_conf"),
                   "spearman": ("rho", None)}[str(sens["method"].iloc[0])]
    if value not in sens.columns:
        return []
    inds = list(pd.unique(sens["indicator"]))
    groups = list(pd.unique(sens["group"]))
    fig, axes = _grid(len(inds), ncols=2, size=(5.2, 3.4))
    for ax, ind in zip(axes, inds, strict=True):
        sub = sens[sens["indicator"] == ind]
        factors = list(pd.unique(sub["factor"]))
        width = 0.8 / len(groups)
        for i, g in enumerate(groups):
            d = sub[sub["group"] == g].set_index("factor").reindex(factors)
            err = d[conf] if conf else (d[value] - d["rho_lo"], d["rho_hi"] - d[value])
            ax.barh(np.arange(len(factors)) + i * width, d[value], height=width, xerr=err,
                    capsize=2, label=g)
            if "S1" in d.columns:
                ax.scatter(d["S1"], np.arange(len(factors)) + i * width, marker="|", s=80,
                           color="black", zorder=3)
        ax.set_yticks(np.arange(len(factors)) + width * (len(groups) - 1) / 2,
                      [_short(f) for f in factors], fontsize=7)
        ax.set_title(f"{ind}: {value}" + (" (| = S1)" if value == "ST" else ""))
        ax.grid(alpha=0.3, axis="x")
    if len(groups) > 1:
        axes[0].legend(fontsize=7)
    return [_save(fig, ctx.out / "figures" / "sensitivity.png")]


# -- markdown -----------------------------------------------------------------------------
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
        what = f"[{f.lo:g}, {f.hi:g}]" if f.is_range else ", ".join(map(_fmt_level, f.levels))
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
    labels = {p: _label(ctx, p) for p in ps["point"].unique()}
    head = "## Indicators per design point: mean [95% CI] over replications\n\n"
    if len(labels) <= 8:
        wide = ps.pivot(index="indicator", columns="point", values="text")
        wide = wide.reindex(ctx.indicators).rename(columns=labels).reset_index()
        wide.insert(1, "unit", [_unit(i) for i in wide["indicator"]])
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


# -- entry point --------------------------------------------------------------------------
def make_report(source: str | Path | SweepResult, out: str | Path | None = None,
                baseline: Any = None, baseline_factor: str | None = None,
                indicators: list[str] | None = None) -> Report:
    """Write the report of a sweep store.

    Args:
        source: A store folder or a :class:`~experiments.sweep.SweepResult` with a path.
        out: Output folder (default: the store folder itself).
        baseline: Baseline level for paired differences (default: the spec's, else
            ``centralized`` or the first level).
        baseline_factor: The factor whose levels are compared (default: the spec's, else
            ``strategy.name`` if varied).
        indicators: Indicators to feature in tables and figures (default: the spec's
            ``[report] indicators`` or a standard list).

    Returns:
        The report (Markdown text, paths, tables).
    """
    result = source if isinstance(source, SweepResult) else load_results(source)
    if out is None and result.path is None:
        raise ValueError("out: the sweep has no store folder; give an output folder")
    final, in_store = _report_target(out, result.path)
    stage = make_stage(final / "report" if in_store else final)
    try:
        report = _make(result, stage, baseline, baseline_factor, indicators)
        _install(stage, final, in_store)
    finally:
        if stage.exists():
            remove_own(stage, anything=True)
    return Report(report.markdown, final / "report.md",
                  [final / p.relative_to(stage) for p in report.figures], report.tables)


def _report_target(out: str | Path | None, store: Path | None) -> tuple[Path, bool]:
    """The report's folder and whether it is the store itself (checked before any work)."""
    store_dir = Path(store).resolve() if store is not None else None
    try:
        if store_dir is not None and (out is None or Path(out).resolve() == store_dir):
            return store_dir, True  # only the report's own files are replaced in a store
        final = check_location(out, "--out")  # type: ignore[arg-type]
        in_store = False
        check_replaceable(final, "--out", "report", force=True)  # remade in place: derived
    except (OutputError, OSError) as exc:
        raise ValueError(str(exc)) from None
    return final, in_store


def _install(stage: Path, final: Path, in_store: bool) -> None:
    """Move a finished report from its staging folder into place."""
    if not in_store:
        write_marker(stage, "report")
        swap_in(stage, final)
        return
    new = list_files(stage)
    for rel in sorted(new, key=lambda r: r == "report.md"):  # report.md last
        (final / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, final / rel)
    for folder, ext in (("figures", "*.png"), ("tables", "*.csv")):  # stale ones of ours
        for old in (final / folder).glob(ext):
            if f"{folder}/{old.name}" not in new:
                old.unlink(missing_ok=True)


def _make(result: SweepResult, out_dir: Path, baseline: Any, baseline_factor: str | None,
          indicators: list[str] | None) -> Report:
    ctx = make_context(result, out_dir, baseline, baseline_factor, indicators)
    ps = point_stats(ctx.ok, ctx.factors, ctx.indicators)
    paired = paired_differences(ctx)
    sens = sensitivity(ctx)
    gaps = community_gaps(ctx)
    figures = (figure_indicators(ctx, ps) + figure_rt_distribution(ctx)
               + figure_community_map(ctx, gaps) + figure_daily(ctx)
               + figure_sensitivity(ctx, sens))
    tables = {"point_stats": ps, "paired_differences": paired, "sensitivity": sens,
              "community_gaps": gaps}
    text = "\n".join(s for s in (
        section_header(ctx), section_failed(ctx), section_points(ctx, ps),
        section_paired(ctx, paired), section_sensitivity(ctx, sens),
        section_figures(ctx, figures)) if s)
    return _write(out_dir, text, figures, tables)


def _write(out: Path, text: str, figures: list[Path], tables: dict[str, pd.DataFrame]) -> Report:
    (out / "tables").mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if not frame.empty:
            frame.to_csv(out / "tables" / f"{name}.csv", index=False)
    path = out / "report.md"
    path.write_text(text)
    return Report(text, path, figures, tables)
