"""The report's sensitivity indices of sampled designs (Morris, Sobol, Spearman).

Computed on the mean over replications at each design point, per ``[cross]`` group and key
indicator: Morris elementary effects, Sobol indices of a Saltelli design (both with SALib)
or Spearman rank correlations for LHS and Sobol-sequence designs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments.design import salib_problem
from experiments.report_context import Context, cross_groups
from experiments.report_stats import CONF
from experiments.spec_model import SAMPLE_PREFIX, SweepSpec


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
    for label, points in cross_groups(ctx):
        x = spec.points.set_index("point").loc[points,
                                                [SAMPLE_PREFIX + f.key for f in spec.factors]]
        for ind in ctx.key:
            y = means[ind].reindex(points).to_numpy(float)
            rows += sensitivity_indices(spec, x.to_numpy(float), y, label, ind)
    return pd.DataFrame(rows)


def sensitivity_indices(spec: SweepSpec, x: np.ndarray, y: np.ndarray, group: str,
             ind: str) -> list[dict[str, Any]]:
    """The sensitivity rows of one group and indicator (method by the design)."""
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
