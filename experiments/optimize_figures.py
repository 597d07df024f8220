"""Figures of an optimisation: the front in pairs of objectives, and the plans as maps."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.optimize_spec import OptimizeSpec
from sim.indicators import label


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    tmp.replace(path)


def front_figure(trials: pd.DataFrame, front: pd.DataFrame, spec: OptimizeSpec,
                 path: Path) -> None:
    """Every pair of objectives: all feasible plans in grey, the front in colour."""
    pairs = list(combinations(spec.objectives, 2)) or [(spec.objectives[0],) * 2]
    ncols = min(3, len(pairs))
    nrows = -(-len(pairs) // ncols)
    fig = Figure(figsize=(4.0 * ncols, 3.3 * nrows), layout="constrained")
    ok = trials[trials["feasible"]]
    for k, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        ax.scatter(ok[a], ok[b], s=8, color="#bbbbbb", label="evaluated")
        ax.scatter(front[a], front[b], s=18, color="#c0392b", label="Pareto front")
        ax.set_xlabel(label(a), fontsize=8)
        ax.set_ylabel(label(b), fontsize=8)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle(f"{spec.name}: {len(front)} plans on the front of {len(ok)} feasible",
                 fontsize=10)
    _save(fig, path)


def plan_figure(plans: pd.DataFrame, spec: OptimizeSpec, path: Path, most: int = 6) -> None:
    """Maps of the first ``most`` checked plans: officers per community post and station."""
    from sim.api import build_model

    lay = build_model(spec.scenario, days=1).layout
    shown = plans.head(most)
    ncols = min(3, len(shown))
    nrows = -(-len(shown) // ncols)
    fig = Figure(figsize=(3.6 * ncols, 3.4 * nrows), layout="constrained")
    for k, row in enumerate(shown.itertuples(index=False)):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        comm = np.array([getattr(row, f"community_{j}", 0) for j in range(lay.n_communities)])
        grid = comm[lay.community].reshape(lay.width, lay.height).T.astype(float)
        grid[~lay.mask.reshape(lay.width, lay.height).T] = np.nan
        im = ax.imshow(grid, origin="lower", cmap="Blues", vmin=0,
                       vmax=max(1, spec.variables.community_max))
        sx, sy = lay.xy(lay.station_cells)
        ax.scatter(sx, sy, marker="s", s=60, color="white", edgecolors="black")
        for p in range(lay.n_precincts):
            ax.annotate(str(getattr(row, f"station_{p}")), (sx[p], sy[p]), fontsize=7,
                        ha="center", va="center")
        hx, hy = lay.xy(lay.hq_cell)
        ax.scatter([hx], [hy], marker="*", s=120, color="gold", edgecolors="black")
        ax.set_title(f"{row.plan}: HQ {row.hq}, {label(spec.objectives[0])} "
                     f"{getattr(row, spec.objectives[0]):.2f}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, shrink=0.7, label="officers at community post")
    _save(fig, path)
