"""What the recorded calls of a training period tell about the model's parameters.

Each estimator takes the training calls (:func:`experiments.calibrate_records.call_frame`)
and gives :class:`Estimate` rows: a scenario parameter, its value before, the estimate and a
bootstrap interval over days (:class:`experiments.calibrate_boot.DayBootstrap`).

* **On scene** (:func:`on_scene_estimates`): per class, the sample mean and coefficient of
  variation of the recorded on-scene minutes -> ``incidents.classes.NAME.on_scene_mean_min``
  and ``on_scene_cv`` (the two moments that set the model's lognormal; the sample mean is
  unbiased for the workload whatever the true distribution).
* **Command chain** (:func:`chain_estimates`): the model's delay from call to dispatch is
  lognormal with median ``call_handling_min * handling_factor + hops(class) *
  hop_delay_min`` and log-sd ``delay_sigma``, plus any wait in the queue. The fit is robust:
  per class the median of the recorded handling minutes, and the log-sd from the interquartile
  range of the log residuals (IQR / 1.349), so the minority of calls that waited for a free
  officer does not inflate the chain. With classes on at least two different hop counts the
  medians give ``call_handling_min`` and ``hop_delay_min`` by weighted least squares;
  otherwise only their sum is identified and both are scaled by the same factor (the
  report says so).
* **Travel by hour** (:func:`travel_estimates`): the records do not say where the dispatched
  unit came from, so the model's own travel times of a replay of the training calls are the
  reference. For the calls dispatched in hour ``h`` the speed multiplier of cars is solved
  from the mean travel times: ``mean recorded = mean simulated + (m - 1) * mean car driving
  time`` (turnout and foot officers are not scaled), and the new
  ``streets.hour_speed_factors[h]`` is the old one divided by ``m``. Hours with fewer than
  :data:`MIN_HOUR_CALLS` calls take the factor of all hours pooled. When the data record
  response but no travel times, the response times by hour of call stand in for travel
  (the model's handling and queueing taken as right; the report says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.calibrate_boot import DayBootstrap
from sim.scenario import Scenario

MIN_CALLS = 10
"""Fewest recorded values of a class that give an estimate."""
MIN_HOUR_CALLS = 20
"""Fewest calls of an hour (recorded and simulated) that give that hour its own factor."""
IQR_PER_SD = 1.3489795
"""Interquartile range of the standard normal."""
M_RANGE = (0.05, 20.0)
"""Bounds of a fitted speed ratio (beyond them the data and the model do not match)."""


@dataclass(frozen=True)
class Estimate:
    """One parameter estimated from the training calls.

    Attributes:
        parameter: The dotted scenario key (or a description for what has no key).
        before: Its value in the scenario before calibration.
        value: The estimate (NaN if the data cannot give one).
        lo: Lower end of the bootstrap interval.
        hi: Upper end.
        n: Recorded values behind it.
        method: How it was estimated.
    """

    parameter: str
    before: float
    value: float
    lo: float
    hi: float
    n: int
    method: str

    def row(self) -> dict[str, object]:
        """The estimate as a row of ``calibration_estimates.csv``."""
        return {"parameter": self.parameter, "before": self.before, "estimate": self.value,
                "lo": self.lo, "hi": self.hi, "n": self.n, "method": self.method}


# -- on scene -------------------------------------------------------------------------------
def _moments(y: np.ndarray, k: np.ndarray, n_k: int) -> np.ndarray:
    """Per class mean and CV (sample sd / mean), then the counts: a vector of 3 * n_k."""
    n = np.bincount(k, minlength=n_k).astype(float)
    s = np.bincount(k, weights=y, minlength=n_k)
    s2 = np.bincount(k, weights=y * y, minlength=n_k)
    with np.errstate(all="ignore"):
        mean = s / n
        var = (s2 - n * mean**2) / (n - 1)
        cv = np.sqrt(np.maximum(var, 0)) / mean
    few = n < MIN_CALLS
    mean[few], cv[few] = np.nan, np.nan
    return np.concatenate([mean, cv, n])


def on_scene_estimates(train: pd.DataFrame, scenario: Scenario,
                       boot: DayBootstrap) -> list[Estimate]:
    """Mean and CV of the on-scene minutes of each class (see the module docstring)."""
    use = train["on_scene"].notna().to_numpy()
    y = train["on_scene"].to_numpy(dtype=float)[use]
    k = train["priority"].to_numpy()[use]
    names = list(scenario.incidents.names)
    n_k = len(names)
    est = _moments(y, k, n_k)
    if y.size == 0:
        return []
    lo, hi = boot.for_tables([train["day"].to_numpy()[use]]).interval(
        lambda rows: _moments(y[rows[0]], k[rows[0]], n_k)[:2 * n_k])
    out = []
    for i, name in enumerate(names):
        cls = scenario.incidents.classes[name]
        n = int(est[2 * n_k + i])
        for j, (key, before) in enumerate((("on_scene_mean_min", cls.on_scene_mean_min),
                                           ("on_scene_cv", cls.on_scene_cv))):
            m = j * n_k + i
            out.append(Estimate(f"incidents.classes.{name}.{key}", before, float(est[m]),
                                float(lo[m]), float(hi[m]), n,
                                "sample mean" if j == 0 else "sample sd / sample mean"))
    return out


# -- the command chain ----------------------------------------------------------------------
@dataclass(frozen=True)
class Chain:
    """What the model's command chain is: its hops per class and the strategy's factor."""

    hops: np.ndarray
    handling_factor: float
    call_handling_min: float
    hop_delay_min: float

    def identified(self, classes: np.ndarray) -> bool:
        """Whether the given classes have at least two different hop counts."""
        return np.unique(self.hops[classes]).size >= 2

    def fit(self, h: np.ndarray, k: np.ndarray) -> np.ndarray:
        """``[call_handling_min, hop_delay_min, delay_sigma]`` from handling minutes ``h``."""
        classes = np.unique(k)
        med = np.array([np.median(h[k == c]) for c in classes])
        n = np.array([np.sum(k == c) for c in classes], dtype=float)
        keep = n >= MIN_CALLS
        classes, med, n = classes[keep], med[keep], n[keep]
        if classes.size == 0:
            return np.full(3, np.nan)
        c, d = (self._split(classes, med, n) if self.identified(classes)
                else self._scale(classes, med, n))
        median = c * self.handling_factor + self.hops * d
        resid = np.log(h) - np.log(np.maximum(median[k], 1e-9))
        q75, q25 = np.percentile(resid[np.isin(k, classes)], [75, 25])
        return np.array([c, d, (q75 - q25) / IQR_PER_SD])

    def _scale(self, classes: np.ndarray, med: np.ndarray, n: np.ndarray
               ) -> tuple[float, float]:
        """One hop count: scale handling and hop delay by the same factor."""
        pooled = float(np.exp(np.sum(n * np.log(med)) / n.sum()))
        hops = float(self.hops[classes[0]])
        base = self.call_handling_min * self.handling_factor + hops * self.hop_delay_min
        if base > 0:
            s = pooled / base
            return self.call_handling_min * s, self.hop_delay_min * s
        if self.handling_factor > 0:
            return pooled / self.handling_factor, self.hop_delay_min
        return self.call_handling_min, pooled / max(hops, 1.0)

    def _split(self, classes: np.ndarray, med: np.ndarray, n: np.ndarray
               ) -> tuple[float, float]:
        """Several hop counts: weighted least squares of the medians, both terms >= 0."""
        a = np.column_stack([np.full(classes.size, self.handling_factor),
                             self.hops[classes].astype(float)])
        w = np.sqrt(n)
        coef, *_ = np.linalg.lstsq(a * w[:, None], med * w, rcond=None)
        if coef.min() >= 0:
            return float(coef[0]), float(coef[1])
        j = int(np.argmax(coef))  # the other term is 0: one-parameter fit of this one
        only = float(np.sum(n * a[:, j] * med) / max(np.sum(n * a[:, j] ** 2), 1e-12))
        return (only, 0.0) if j == 0 else (0.0, only)


def chain_of(scenario: Scenario) -> Chain:
    """The command chain of a scenario (its strategy's hops and handling factor)."""
    from sim.api import build_model

    model = build_model(scenario.with_overrides({"data.calls_file": ""}), days=1)
    desk = model.dispatcher.desk
    d = scenario.dispatch
    return Chain(np.asarray(desk.hops, dtype=np.int64), float(desk.handling_factor),
                 d.call_handling_min, d.hop_delay_min)


def chain_estimates(train: pd.DataFrame, scenario: Scenario, chain: Chain,
                    boot: DayBootstrap) -> list[Estimate]:
    """``dispatch.call_handling_min``, ``hop_delay_min`` and ``delay_sigma`` (module docstring)."""
    h = train["handling"].to_numpy(dtype=float)
    use = np.isfinite(h) & (h > 0)
    hk, kk = h[use], train["priority"].to_numpy()[use]
    if hk.size < MIN_CALLS:
        return []
    est = chain.fit(hk, kk)
    days = train["day"].to_numpy()[use]
    lo, hi = boot.for_tables([days]).interval(lambda rows: chain.fit(hk[rows[0]], kk[rows[0]]))
    ident = chain.identified(np.unique(kk))
    split = ("weighted least squares of the class medians on the hops" if ident else
             "scaled with hop_delay_min: with one hop count only their sum is identified")
    d = scenario.dispatch
    n = int(hk.size)
    return [
        Estimate("dispatch.call_handling_min", d.call_handling_min, float(est[0]),
                 float(lo[0]), float(hi[0]), n, "median of handling; " + split),
        Estimate("dispatch.hop_delay_min", d.hop_delay_min, float(est[1]), float(lo[1]),
                 float(hi[1]), n, "median of handling; " + split),
        Estimate("dispatch.delay_sigma", d.delay_sigma, float(est[2]), float(lo[2]),
                 float(hi[2]), n, "IQR of log handling / 1.349 (robust to queued calls)"),
    ]


# -- travel by hour ----------------------------------------------------------------------------
def _speed_ratios(rec: tuple[np.ndarray, np.ndarray], sim: tuple[np.ndarray, np.ndarray,
                  np.ndarray]) -> np.ndarray:
    """Per hour (24) and pooled (25th): the car speed ratio ``m`` of the module docstring."""
    (rh, ry), (sh, sy, sd) = rec, sim

    def by_hour(h: np.ndarray, w: np.ndarray) -> np.ndarray:
        s = np.bincount(h, weights=w, minlength=24)
        return np.append(s, s.sum())

    nr, ns = by_hour(rh, np.ones(rh.size)), by_hour(sh, np.ones(sh.size))
    with np.errstate(all="ignore"):
        mean_r, mean_s = by_hour(rh, ry) / nr, by_hour(sh, sy) / ns
        drive = by_hour(sh, sd) / ns
        m = 1.0 + (mean_r - mean_s) / drive
    few = (nr < MIN_HOUR_CALLS) | (ns < MIN_HOUR_CALLS) | ~(drive > 0)
    m[:24][few[:24]] = m[24]
    return np.clip(m, *M_RANGE)


def travel_estimates(train: pd.DataFrame, sim: pd.DataFrame, before: tuple[float, ...] | None,
                     boot: DayBootstrap, measure: str = "travel") -> list[Estimate]:
    """The 24 hourly car speed factors from recorded and replayed travel times.

    Args:
        train: The recorded training calls.
        sim: The replayed training calls (columns ``dispatch_hour``, ``travel`` and
            ``car_drive``, the driving minutes of a car, 0 for foot officers).
        before: The scenario's hourly factors (None: all 1).
        boot: Resamples days of both tables.
        measure: ``travel``, or ``response`` when the data record no travel times: then the
            response times of the calls of each hour of call are compared, which takes the
            model's handling and queueing as right.

    Returns:
        One estimate per hour (``streets.hour_speed_factors[h]``), then the pooled factor.
    """
    hour = "dispatch_hour" if measure == "travel" else "hour"
    t = train[measure].to_numpy(dtype=float)
    use = np.isfinite(t)
    rec = (train[hour].to_numpy()[use], t[use])
    y = sim[measure].to_numpy(dtype=float)
    s_ok = np.isfinite(y)
    s = (sim[hour].to_numpy()[s_ok], y[s_ok], sim["car_drive"].to_numpy(dtype=float)[s_ok])
    if rec[0].size < MIN_HOUR_CALLS or s[0].size < MIN_HOUR_CALLS:
        return []
    old = np.array(before if before is not None else (1.0,) * 24)
    old = np.append(old, math.exp(np.mean(np.log(old))))
    m = _speed_ratios(rec, s)
    days = (train["day"].to_numpy()[use], sim["day"].to_numpy()[s_ok])
    m_lo, m_hi = boot.for_tables(days).interval(lambda rows: _speed_ratios(
        (rec[0][rows[0]], rec[1][rows[0]]), (s[0][rows[1]], s[1][rows[1]], s[2][rows[1]])))
    n_rec = np.append(np.bincount(rec[0], minlength=24), rec[0].size)
    n_sim = np.append(np.bincount(s[0], minlength=24), s[0].size)
    out = []
    for h in range(25):
        name = "streets.hour_speed_factors" + (f"[{h}]" if h < 24 else " (all hours)")
        own = h == 24 or min(n_rec[h], n_sim[h]) >= MIN_HOUR_CALLS
        method = (f"old / m; m from mean recorded vs replayed {measure}" if own else
                  f"fewer than {MIN_HOUR_CALLS} calls: the pooled m")
        out.append(Estimate(name, float(old[h]), float(old[h] / m[h]), float(old[h] / m_hi[h]),
                            float(old[h] / m_lo[h]), int(n_rec[h]), method))
    return out


def factors_text(estimates: list[Estimate]) -> str:
    """The 24 hourly factors of :func:`travel_estimates` as ``streets.hour_speed_factors``."""
    return ",".join(f"{e.value:.4g}" for e in estimates[:24])
