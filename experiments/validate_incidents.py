"""Incident-process checks: daily counts, Poisson dispersion, hot-cell share, daily cycle.

4. **Incident process**: daily counts (mean and Poisson dispersion), the top-5% cell share and
   the daily cycle, from a run in which nothing is reported (so the police never feed back).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from experiments.validate_setup import run
from experiments.validate_stats import LEVEL, Estimate, mean_estimate
from experiments.validate_table import Check, ConfigValue
from sim.scenario import PRIORITIES, Scenario
from sim.units import MIN_PER_DAY


def check_incidents(days: int, seed: int) -> list[Check]:
    """Daily counts, Poisson dispersion, top-5% cell share and the daily cycle."""
    amp, peak = 0.5, 20.0
    sc = Scenario().with_overrides({
        "police.officers": 1, "residents.agents": 0, "hazard.deterrence": False,
        "hazard.near_repeat": False, "outcomes.reporting_trust_elasticity": 0.0,
        "incidents.daily_amplitude": amp, "incidents.peak_hour": peak,
        **{f"incidents.classes.{p}.report_prob": 0.0 for p in PRIORITIES},
    })
    res, layout = run(sc, seed, days)
    inc = res.incidents
    t = inc["t_occur"].to_numpy()
    expected = sc.incidents.rate_per_1000_day * layout.population.sum() / 1000.0
    counts = np.bincount((t // MIN_PER_DAY).astype(int), minlength=days)[:days].astype(float)
    cfg: dict[str, ConfigValue] = {"grid": f"{sc.city.width}x{sc.city.height}",
                                         "days": days}
    out = [Check.from_estimate("4", "incidents per day", cfg, mean_estimate(counts), expected,
                               count=True, note=f"{int(counts.sum()):,} incidents in all")]
    # Poisson dispersion: (n-1) s^2 / mean ~ chi2(n-1); CI of the index by inverting it.
    n = counts.size
    disp = float(counts.var(ddof=1) / counts.mean())

    def chi_ci(level: float) -> tuple[float, float]:
        a = (1 - level) / 2
        return (disp * (n - 1) / stats.chi2.ppf(1 - a, n - 1),
                disp * (n - 1) / stats.chi2.ppf(a, n - 1))

    lo, hi = chi_ci(LEVEL)
    out.append(Check("4", "dispersion index var/mean", cfg, disp, lo, hi, 1.0,
                     bool(lo <= 1.0 <= hi)))
    # Top 5% of cells by risk.
    k = int(round(0.05 * layout.mask.sum()))  # of the cells inside the city
    top = np.argsort(-layout.risk, kind="stable")[:k]
    cells = inc["x"].to_numpy() * layout.height + inc["y"].to_numpy()
    share = np.isin(cells, top).astype(float)
    p_hat = float(share.mean())
    out.append(Check.from_estimate("4", "share in top-5% risk cells", cfg,
                                   Estimate(p_hat, math.sqrt(p_hat * (1 - p_hat) / share.size),
                                            math.inf), float(layout.risk[top].sum())))
    # Daily cycle: amplitude from the first Fourier coefficient, and a chi-square by hour.
    omega = 2 * np.pi / MIN_PER_DAY
    c_ = 2 * np.cos(omega * (np.mod(t, MIN_PER_DAY) - peak * 60.0))
    out.append(Check.from_estimate("4", "daily amplitude A (2 E cos)", cfg,
                                   Estimate(float(c_.mean()), float(c_.std(ddof=1) /
                                                                    math.sqrt(c_.size)),
                                            math.inf), amp))
    hours = np.arange(25) * 60.0
    cum = hours + amp / omega * (np.sin(omega * (hours - peak * 60)) -
                                 np.sin(omega * (0 - peak * 60)))
    p_h = np.diff(cum) / cum[-1]
    obs = np.bincount((np.mod(t, MIN_PER_DAY) // 60).astype(int), minlength=24)[:24]
    chi2, pval = stats.chisquare(obs, p_h * obs.sum())
    alpha = 1 - LEVEL
    out.append(Check("4", "hourly counts chi2 p-value", cfg, float(pval), math.nan, math.nan,
                     alpha, bool(pval >= alpha),
                     note=f"chi2={chi2:.1f} on 23 df vs 1 + A cos(2 pi (h - {peak:g})/24)",
                     rule=f"PASS when p >= {alpha:.3g} (the theory column is this threshold)"))
    return out
