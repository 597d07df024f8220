"""Statistics of the validation checks: t-based estimates, batch means and time averages.

A check compares a simulated statistic with theory through an :class:`Estimate` (mean,
standard error, degrees of freedom) built from independent replications or from batch means
over time. :data:`LEVEL` is the one confidence level of the validation: the table prints the
interval at this level and a check passes when the theoretical value lies inside that very
interval (:data:`DECISION_LEVEL` is the same number, kept as a name; see
:mod:`experiments.validate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.995  # the level of the intervals printed and of the pass rule
DECISION_LEVEL = LEVEL  # the pass rule's level: the same interval as printed
WARMUP = 0.1  # share of the horizon discarded
N_BATCHES = 20


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and degrees of freedom (t-based CI)."""

    mean: float
    se: float
    df: float

    def ci(self, level: float = LEVEL) -> tuple[float, float]:
        """Return the two-sided ``level`` confidence interval."""
        if not math.isfinite(self.se) or self.df <= 0:
            return (math.nan, math.nan)
        q = float(stats.t.ppf(0.5 + level / 2, self.df)) if math.isfinite(self.df) else \
            float(stats.norm.ppf(0.5 + level / 2))
        return (self.mean - q * self.se, self.mean + q * self.se)

    def agrees(self, target: float, level: float = DECISION_LEVEL, atol: float = 0.0) -> bool:
        """Whether ``target`` lies within the ``level`` interval widened by ``atol``."""
        lo, hi = self.ci(level)
        if not math.isfinite(lo):
            return abs(self.mean - target) <= atol
        return lo - atol <= target <= hi + atol


def mean_estimate(samples: np.ndarray | list[float]) -> Estimate:
    """Student-t estimate of the mean of i.i.d. samples (replications or batch means)."""
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Estimate(math.nan, math.nan, 0)
    if x.size == 1:
        return Estimate(float(x[0]), math.nan, 0)
    return Estimate(float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)), x.size - 1)


def batch_means(values: np.ndarray, n_batches: int = N_BATCHES) -> np.ndarray:
    """Means of ``n_batches`` contiguous, (nearly) equal batches of a time-ordered series.

    Leftover observations (``len % n_batches``) are spread one per leading batch, so every
    observation is used.
    """
    x = np.asarray(values, dtype=float)
    if n_batches < 1:
        raise ValueError("n_batches must be >= 1")
    if x.size < n_batches:
        raise ValueError(f"need at least {n_batches} observations, got {x.size}")
    return np.array([b.mean() for b in np.array_split(x, n_batches)])


def batch_means_estimate(values: np.ndarray, n_batches: int = N_BATCHES) -> Estimate:
    """Batch-means estimate of the steady-state mean of a time-ordered series."""
    return mean_estimate(batch_means(values, n_batches))


def time_batches(t: np.ndarray, t0: float, t1: float, n_batches: int = N_BATCHES) -> np.ndarray:
    """Batch index (0..n-1) of each time in ``[t0, t1)`` for equal-length windows; -1 outside."""
    t = np.asarray(t, dtype=float)
    k = np.floor((t - t0) / (t1 - t0) * n_batches).astype(np.int64)
    return np.where((t >= t0) & (t < t1), k, -1)


def time_average_count(start: np.ndarray, end: np.ndarray, t0: float, t1: float) -> float:
    """Time-average number of intervals ``[start, end)`` covering a point of ``[t0, t1)``."""
    overlap = np.clip(np.minimum(end, t1) - np.maximum(start, t0), 0.0, None)
    return float(overlap.sum() / (t1 - t0))
