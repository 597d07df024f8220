"""The report's figures: indicators with CI bands, distributions, gap maps, sensitivity.

Each ``figure_*`` function draws one kind of figure from a report
:class:`~experiments.report_context.Context` and returns the PNG files it wrote under
``figures/``. Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas (no
pyplot, no display, no global backend change).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from experiments.report_context import (
    Context,
    cross_groups,
    fmt_level,
    indicator_unit,
    point_label,
    short_key,
)
from experiments.report_stats import t_half_width
from sim import indicators as registry

MAX_LINES = 10
MAX_MAPS = 6
MAX_COMPARISONS = 30


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
        out.append((", ".join(f"{short_key(k)}={fmt_level(v)}" for k, v in
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
    return [_save(fig, ctx.out / "figures" / f"indicators_vs_{short_key(x)}.png")]


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
    groups = cross_groups(ctx)
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
        return [(point_label(ctx, int(p)), [int(p)]) for p in design["point"]]
    factor = ctx.baseline_factor or (ctx.factors[0] if ctx.factors else None)
    if factor is None:
        return [("all", design["point"].tolist())]
    return [(f"{short_key(factor)}={fmt_level(v)} (all other levels)", g["point"].tolist())
            for v, g in design.groupby(factor, sort=False)][:MAX_LINES]


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
                      [short_key(f) for f in factors], fontsize=7)
        ax.set_title(f"{ind}: {value}" + (" (| = S1)" if value == "ST" else ""))
        ax.grid(alpha=0.3, axis="x")
    if len(groups) > 1:
        axes[0].legend(fontsize=7)
    return [_save(fig, ctx.out / "figures" / "sensitivity.png")]


_PARTS = ("command chain", "queue", "travel", "start", "experience", "word of mouth",
          "presence", "contact", "drift")


def _part_color(name: str) -> Any:
    """The same colour for a part in every panel and every report (tab10)."""
    from matplotlib import colormaps

    i = _PARTS.index(name) if name in _PARTS else sum(map(ord, name))
    return colormaps["tab10"](i % 10)


def figure_decomposition(ctx: Context, dec: pd.DataFrame) -> list[Path]:
    """Each paired difference stacked by its parts, one panel per decomposed total.

    Positive parts are stacked up from zero, negative ones down; the black marker is the
    total difference with its 95% CI.
    """
    if dec.empty:
        return []
    totals = list(pd.unique(dec["indicator"]))
    points = list(pd.unique(dec["point"]))[:MAX_COMPARISONS]
    wide = len(points) > 8
    fig, axes = _grid(len(totals), ncols=1 if wide else 3,
                      size=(max(5.0, 0.45 * len(points) + 2.5), 3.8))
    for ax, total in zip(axes, totals, strict=True):
        sub = dec[(dec["indicator"] == total) & dec["point"].isin(points)]
        whole = sub[sub["component"] == "total"].set_index("point").reindex(points)
        parts = sub[sub["component"] != "total"]
        x = np.arange(len(points))
        up, down = np.zeros(len(points)), np.zeros(len(points))
        for comp in pd.unique(parts["component"]):
            d = parts[parts["component"] == comp].set_index("point")["diff"].reindex(points)
            v = d.fillna(0.0).to_numpy(float)
            bottom = np.where(v >= 0, up, down)
            ax.bar(x, v, bottom=bottom, width=0.6, label=str(comp), color=_part_color(comp))
            up, down = up + np.clip(v, 0, None), down + np.clip(v, None, 0)
        mean = whole["diff"].to_numpy(float)
        lo, hi = whole["ci_lo"].to_numpy(float), whole["ci_hi"].to_numpy(float)
        err = np.nan_to_num(np.abs(np.vstack([mean - lo, hi - mean])))
        ax.errorbar(x, mean, yerr=err, fmt="D", color="black", capsize=3, markersize=4,
                    label="total (95% CI)", zorder=3)
        ax.axhline(0, color="grey", linewidth=0.8)
        top = np.nanmax([up.max(), np.nanmax(np.append(hi, 0.0))])
        bottom = np.nanmin([down.min(), np.nanmin(np.append(lo, 0.0))])
        pad = 0.08 * (top - bottom) or 1.0
        ax.set_ylim(bottom - pad, top + pad)
        ax.set_xticks(x, [str(c) for c in whole["comparison"]], rotation=30, ha="right",
                      fontsize=7)
        ax.set_title(f"{registry.label(total)}: level - {fmt_level(ctx.baseline)}", fontsize=9)
        unit = indicator_unit(total)
        ax.set_ylabel(f"paired difference ({unit})" if unit else "paired difference",
                      fontsize=8)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=6, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.32))
    fig.suptitle("Why they differ: paired differences against the baseline, by part")
    return [_save(fig, ctx.out / "figures" / "decomposition.png")]
