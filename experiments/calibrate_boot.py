"""Bootstrap over whole days: the confidence intervals of a calibration.

Calls of one day share its conditions (weather, events, staffing), so the resampling unit is
the day: a replicate draws the period's days with replacement and takes every call of each
drawn day as often as the day was drawn. Several tables of the same period (recorded calls
and the simulated ones of every seed) are resampled with the *same* days, so a difference
between them is paired. Intervals are percentile intervals at :data:`LEVEL`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sim.rng import name_key

LEVEL = 0.95
"""Confidence level of every interval of the calibration."""
REPLICATES = 200
"""Bootstrap replicates."""


class DayBootstrap:
    """Resamples days of a period, the same days for every table.

    Args:
        days: Day of each row (0 = the period's first day), one array per table.
        n_days: Days in the period.
        seed: Root seed (the scenario's ``run.seed``): the same seed, the same intervals.
        replicates: Number of replicates.
    """

    def __init__(self, days: Sequence[np.ndarray], n_days: int, seed: int,
                 replicates: int = REPLICATES) -> None:
        rng = np.random.default_rng(np.random.SeedSequence(
            [int(seed) % 2**63, name_key("calibrate_bootstrap")]))
        self.days = [np.asarray(d, dtype=np.int64) for d in days]
        self.n_days = max(1, int(n_days))
        self.draws = rng.integers(0, self.n_days, size=(replicates, self.n_days))

    def for_tables(self, days: Sequence[np.ndarray]) -> DayBootstrap:
        """The same replicates (the same drawn days) for other tables of the period."""
        other = DayBootstrap.__new__(DayBootstrap)
        other.days = [np.asarray(d, dtype=np.int64) for d in days]
        other.n_days, other.draws = self.n_days, self.draws
        return other

    def rows(self, b: int) -> list[np.ndarray]:
        """Row indices of every table in replicate ``b`` (with repeats)."""
        times = np.bincount(self.draws[b], minlength=self.n_days)
        return [np.repeat(np.arange(d.size), times[np.clip(d, 0, self.n_days - 1)])
                for d in self.days]

    def weights(self, b: int) -> list[np.ndarray]:
        """How often each row of every table is taken in replicate ``b``."""
        times = np.bincount(self.draws[b], minlength=self.n_days).astype(float)
        return [times[np.clip(d, 0, self.n_days - 1)] for d in self.days]

    def interval(self, stat: Callable[[list[np.ndarray]], np.ndarray],
                 weighted: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval of a vector statistic of the tables' rows.

        Args:
            stat: Maps the row indices of every table (or, ``weighted``, the weight of every
                row) to a vector of estimates.
            weighted: Pass weights (:meth:`weights`) rather than row indices (:meth:`rows`).

        Returns:
            ``(lo, hi)``, each the shape of the statistic (NaN where no replicate gives one).
        """
        take = self.weights if weighted else self.rows
        reps = np.array([np.asarray(stat(take(b)), dtype=float)
                         for b in range(len(self.draws))])
        tail = 100 * (1 - LEVEL) / 2
        ok = np.isfinite(reps).sum(axis=0) >= 2
        lo = np.full(reps.shape[1:], np.nan)
        hi = np.full(reps.shape[1:], np.nan)
        if ok.any():
            safe = np.where(np.isfinite(reps), reps, np.nan)[:, ok]
            lo[ok] = np.nanpercentile(safe, tail, axis=0)
            hi[ok] = np.nanpercentile(safe, 100 - tail, axis=0)
        return lo, hi


class SortedGroups:
    """Values sorted within groups once, for weighted means and quantiles of replicates.

    A replicate that takes each row ``w`` times (:meth:`DayBootstrap.weights`) has, within
    each group, the same quantile as the values repeated ``w`` times (numpy's linear
    interpolation), found without sorting again: one pass per replicate.

    Args:
        values: The values (non-finite ones are left out).
        groups: Group of each value (0 .. ``n_groups - 1``).
        n_groups: Number of groups.
    """

    def __init__(self, values: np.ndarray, groups: np.ndarray, n_groups: int) -> None:
        ok = np.isfinite(values)
        self.keep = np.flatnonzero(ok)
        order = np.lexsort((values[ok], groups[ok]))
        self.index = self.keep[order]
        self.v = values[self.index]
        self.g = np.asarray(groups[self.index], dtype=np.int64)
        self.n_groups = n_groups

    def total(self, w: np.ndarray) -> np.ndarray:
        """Sum of the weights of each group."""
        return np.bincount(self.g, weights=w[self.index], minlength=self.n_groups)

    def mean(self, w: np.ndarray) -> np.ndarray:
        """Weighted mean of each group (NaN for an empty one)."""
        ws = w[self.index]
        n = np.bincount(self.g, weights=ws, minlength=self.n_groups)
        with np.errstate(all="ignore"):
            return np.bincount(self.g, weights=ws * self.v, minlength=self.n_groups) / n

    def quantile(self, w: np.ndarray, q: float) -> np.ndarray:
        """The ``q`` quantile of each group with integer weights ``w`` (row repeats)."""
        ws = w[self.index]
        cum = np.cumsum(ws)
        n = np.bincount(self.g, weights=ws, minlength=self.n_groups)
        offset = np.concatenate([[0.0], np.cumsum(n)[:-1]])
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        out = np.full(self.n_groups, np.nan)
        has = n > 0
        if self.v.size == 0 or not has.any():
            return out
        top = self.v.size - 1
        a = self.v[np.minimum(np.searchsorted(cum, offset + lo, side="right"), top)]
        b = self.v[np.minimum(np.searchsorted(cum, offset + hi, side="right"), top)]
        out[has] = (a + (pos - lo) * (b - a))[has]
        return out


def group_quantile(values: np.ndarray, groups: np.ndarray, n_groups: int,
                   q: float) -> np.ndarray:
    """The ``q`` quantile of ``values`` within each group (linear interpolation, as numpy).

    Args:
        values: Finite values.
        groups: Group of each value (0 .. ``n_groups - 1``).
        n_groups: Number of groups.
        q: The quantile in [0, 1].

    Returns:
        One quantile per group (NaN for an empty group).
    """
    return SortedGroups(values, groups, n_groups).quantile(np.ones(values.size), q)
