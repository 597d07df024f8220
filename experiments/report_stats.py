"""Report statistics: t confidence intervals per design point and paired comparisons.

Pure functions of run tables and arrays, used by the report's tables and figures (see
:mod:`experiments.report`): the half-width of a t interval, the mean and 95% CI of every
indicator at every design point, and the paired t comparison of two levels over the same
replications (common random numbers), with the variance reduction that pairing achieved.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CONF = 0.95


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
