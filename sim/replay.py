"""Recorded calls as incidents: replayed as they were, or as a process fitted to them.

Two uses of the calls read by :func:`sim.calls.load_calls`:

* **replay** — :class:`ReplayProcess` makes the recorded calls the incident stream, so every
  strategy answers exactly the real demand (calls are by definition reported, at their time);
* **fit** — :func:`fit_process` estimates the risk surface (smoothed counts), the hourly and
  weekly profiles and the priority mix, and :class:`FittedProcess` simulates new streams.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.incidents import MIN_PER_DAY, IncidentProcess
from sim.rng import derived
from sim.scenario import DataConfig, IncidentConfig

if TYPE_CHECKING:  # annotations only: sim.calls re-exports this module's names
    from sim.calls import Calls


class ReplayProcess(IncidentProcess):
    """The recorded calls, day by day, as the incident stream.

    Occurrence time equals the call time (the data record calls, not offences); every call is
    reported. The pre-drawn uniforms come from the incident stream as for synthetic incidents.
    """

    def __init__(self, cfg: IncidentConfig, calls: Calls, risk: np.ndarray,
                 rng: np.random.Generator) -> None:
        super().__init__(cfg, 0.0, risk, rng)
        self.calls = calls
        self._day = np.floor(calls.minute / MIN_PER_DAY).astype(np.int64)

    def draw_day(self, day: int, multiplier: np.ndarray | None = None,
                 extra_mean: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Return the recorded calls of ``day`` (modifiers do not apply to recorded demand)."""
        lo, hi = np.searchsorted(self._day, [day, day + 1])
        n = int(hi - lo)
        u_prog = derived(self.rng, day, 0, "in_progress").random(n)
        prio = self.calls.priority[lo:hi]
        return {
            "t_occur": self.calls.minute[lo:hi], "cell": self.calls.cell[lo:hi],
            "priority": prio, "in_progress": u_prog < self.in_progress_p[prio],
            **self.predraw(day, 0, n),
            "recorded": np.ones(n, dtype=bool),
        }


class FittedProcess(IncidentProcess):
    """A synthetic process with risk, hourly and weekly profiles and mix fitted to data.

    Args:
        cfg: The ``[incidents]`` section (on-scene times, delays, in-progress shares).
        fit: The fitted quantities (see :func:`fit_process`).
        rng: The incident stream.
    """

    def __init__(self, cfg: IncidentConfig, fit: dict[str, np.ndarray | float],
                 rng: np.random.Generator) -> None:
        super().__init__(cfg, 1000.0, np.asarray(fit["risk"]), rng)
        self.daily_mean = float(fit["true_per_day"])
        self.priority_p = np.asarray(fit["priority_mix"])
        self.weekly = np.asarray(fit["weekly"])
        hourly = np.asarray(fit["hourly"])
        knots = np.concatenate([[0.0], np.cumsum(np.repeat(hourly / 60.0, 60))])
        self._cycle_cdf = knots / knots[-1]
        self.start_weekday = int(fit["start_weekday"])

    def draw_day(self, day: int, multiplier: np.ndarray | None = None,
                 extra_mean: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Draw a day with the fitted weekly factor applied to the expected count."""
        saved = self.daily_mean
        self.daily_mean = saved * self.weekly[(self.start_weekday + day) % 7]
        try:
            return super().draw_day(day, multiplier, extra_mean)
        finally:
            self.daily_mean = saved


def fit_process(calls: Calls, n_cells: int, width: int, height: int, cfg: DataConfig,
                report_p: np.ndarray, self_excitation: float = 0.0) -> dict[str, np.ndarray |
                                                                             float]:
    """Estimate the incident process from recorded calls.

    The risk surface is the cell counts smoothed by a Gaussian of ``fit_bandwidth_cells`` with
    ``fit_floor`` spread evenly; hourly (24) and weekly (7) profiles are relative frequencies
    normalised to mean one; the priority mix is of *true* incidents, recovered from the
    recorded mix by dividing by each priority's baseline reporting probability, and so is the
    daily rate. When the model adds near-repeat follow-ons with branching ratio ``eta``
    (``self_excitation``), the background rate is the observed one times ``1 - eta``, so the
    stationary total matches the data.

    Returns:
        ``risk``, ``hourly``, ``weekly``, ``priority_mix``, ``true_per_day``,
        ``start_weekday``.
    """
    from scipy.ndimage import gaussian_filter

    counts = np.bincount(calls.cell, minlength=n_cells).astype(float).reshape(width, height)
    if cfg.fit_bandwidth_cells > 0:
        counts = gaussian_filter(counts, cfg.fit_bandwidth_cells, mode="nearest")
    risk = counts.ravel() / counts.sum()
    risk = (1 - cfg.fit_floor) * risk + cfg.fit_floor / n_cells
    minute_of_day = calls.minute % MIN_PER_DAY
    hourly = np.bincount((minute_of_day // 60).astype(int), minlength=24).astype(float) + 0.5
    days = np.floor(calls.minute / MIN_PER_DAY).astype(int)
    weekday = (calls.start.weekday() + days) % 7
    n_days = max(calls.days, 1.0)
    day_weekdays = (calls.start.weekday() + np.arange(int(n_days))) % 7
    exposure = np.bincount(day_weekdays, minlength=7).astype(float)
    weekly = np.bincount(weekday, minlength=7) / np.maximum(exposure, 1)
    weekly = weekly / weekly.mean() if weekly.mean() > 0 else np.ones(7)
    recorded_mix = np.bincount(calls.priority, minlength=report_p.size).astype(float)
    true_counts = recorded_mix / np.maximum(report_p, 1e-6)
    return {
        "risk": risk, "hourly": hourly / hourly.mean(), "weekly": weekly,
        "priority_mix": true_counts / true_counts.sum(),
        "true_per_day": float(true_counts.sum() / n_days) * (1 - self_excitation),
        "start_weekday": calls.start.weekday(),
    }
