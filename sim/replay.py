"""Recorded calls as incidents: replayed as they were, or as a process fitted to them.

Two uses of the calls read by :func:`sim.calls.load_calls`:

* **replay** — :class:`ReplayProcess` makes the recorded calls the incident stream, so every
  strategy answers exactly the real demand (calls are by definition reported, at their time);
* **fit** — :func:`fit_process` estimates the risk surface (smoothed counts), the hourly and
  weekly profiles and the priority mix, and :class:`FittedProcess` simulates new streams.

A replay can carry **background demand** (:func:`background_process`): the model's own
incidents of the classes the data lack (``data.background``, ``data.background_classes``),
drawn from a stream of their own and merged with the calls by time.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.call_times import DURATIONS
from sim.datafile import DataError, DataWarning, shorten
from sim.incidents import MIN_PER_DAY, IncidentProcess
from sim.rng import derived
from sim.scenario import DataConfig, IncidentConfig

if TYPE_CHECKING:  # annotations only: sim.calls re-exports this module's names
    from sim.calls import Calls


class ReplayProcess(IncidentProcess):
    """The recorded calls, day by day, as the incident stream, with optional background demand.

    Occurrence time equals the call time (the data record calls, not offences); every call is
    reported. The pre-drawn uniforms come from the incident stream as for synthetic incidents.
    Each call carries its recorded durations (``rec_handling``, ``rec_travel``,
    ``rec_on_scene``, ``rec_response``; NaN where the data have none).

    Args:
        cfg: The ``[incidents]`` section.
        calls: The calls to replay (those within the run's horizon).
        risk: Share of incidents per cell.
        rng: The incident stream.
        background: The model's own incidents of the classes the data lack (see
            :func:`background_process`), merged with the calls by time; None for none.
    """

    def __init__(self, cfg: IncidentConfig, calls: Calls, risk: np.ndarray,
                 rng: np.random.Generator, background: IncidentProcess | None = None) -> None:
        super().__init__(cfg, 0.0, risk, rng)
        self.calls = calls
        self.background = background
        self._day = np.floor(calls.minute / MIN_PER_DAY).astype(np.int64)
        self._recorded = {f"rec_{k}": calls.recorded_column(k) for k in DURATIONS}

    def draw_day(self, day: int, multiplier: np.ndarray | None = None,
                 extra_mean: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Return the recorded calls of ``day`` and the day's background incidents, by time.

        Deterrence (``multiplier``) thins only the background; near-repeat follow-ons
        (``extra_mean``) are never added to recorded demand.
        """
        lo, hi = np.searchsorted(self._day, [day, day + 1])
        n = int(hi - lo)
        u_prog = derived(self.rng, day, 0, "in_progress").random(n)
        prio = self.calls.priority[lo:hi]
        cols = {
            "t_occur": self.calls.minute[lo:hi], "cell": self.calls.cell[lo:hi],
            "priority": prio, "in_progress": u_prog < self.in_progress_p[prio],
            **self.predraw(day, 0, n),
            "recorded": np.ones(n, dtype=bool),
            **{name: values[lo:hi] for name, values in self._recorded.items()},
        }
        if self.background is None:
            return cols
        more = self.background.draw_day(day, multiplier)
        k = more["t_occur"].size
        more.update({"recorded": np.zeros(k, dtype=bool),
                     **{name: np.full(k, np.nan) for name in self._recorded}})
        merged = {name: np.concatenate([v, more[name]]) for name, v in cols.items()}
        order = np.argsort(merged["t_occur"], kind="stable")  # a call first on a tie
        return {name: v[order] for name, v in merged.items()}


def background_classes(data: DataConfig, cfg: IncidentConfig, per_day: np.ndarray
                       ) -> np.ndarray:
    """Which classes the background demand draws (``data.background_classes``).

    Args:
        data: The ``[data]`` section.
        cfg: The ``[incidents]`` section.
        per_day: Recorded calls per day of each class (zero: the data lack the class).

    Returns:
        One flag per class, in priority order.
    """
    names = cfg.names
    listed = [c.strip() for c in data.background_classes.split(",") if c.strip()]
    if not listed:
        return np.asarray(per_day, dtype=float) <= 0
    for name in listed:
        if name not in names:
            raise DataError(f"data.background_classes: {shorten(name)} is not an incident class "
                            f"(classes: {shorten(', '.join(names))})")
    return np.array([n in listed for n in names])


def background_process(data: DataConfig, cfg: IncidentConfig, fit: dict[str, Any],
                       population: float, rng: np.random.Generator) -> IncidentProcess | None:
    """The model's own incident process restricted to the background classes, or None.

    ``synthetic``: the scenario's process (``incidents.rate_per_1000_day`` of the population,
    the city's own risk surface and daily cycle), keeping only the background classes' shares
    of it: a class of share ``s`` occurs ``rate * population / 1000 * s`` times a day.
    ``fit``: the level, risk surface and hourly and weekly profiles fitted to the recorded
    calls: a background class of share ``s`` occurs ``T * s / S`` times a day, where ``T`` is
    the recorded classes' *true* incidents per day (calls of each class over its
    ``report_prob``) and ``S`` the sum of their shares.

    Args:
        data: The ``[data]`` section (``background``, ``background_classes``).
        cfg: The ``[incidents]`` section.
        fit: The fitted quantities of :func:`fit_process` (``class_per_day``, ``base_risk``).
        population: Persons in the city.
        rng: The background's own stream.
    """
    if data.background == "none":
        return None
    per_day = np.asarray(fit["class_per_day"], dtype=float)
    wanted = background_classes(data, cfg, per_day)
    if not wanted.any():
        warnings.warn("data.background: the calls have every class; no background demand is "
                      "added (name the classes in data.background_classes)", DataWarning,
                      stacklevel=2)
        return None
    classes = cfg.by_index()
    shares = np.array([c.share for c in classes])
    share = np.where(wanted, shares, 0.0)
    if data.background == "synthetic":
        process = IncidentProcess(cfg, population, np.asarray(fit["base_risk"]), rng)
        process.daily_mean *= share.sum() / shares.sum()
    else:
        process = FittedProcess(cfg, {**fit, "true_per_day": _fitted_level(cfg, per_day, wanted,
                                                                           share)}, rng)
    process.priority_p = share / share.sum()
    return process


def _fitted_level(cfg: IncidentConfig, per_day: np.ndarray, wanted: np.ndarray,
                  share: np.ndarray) -> float:
    """Background incidents a day, scaled to the recorded classes' true incidents a day."""
    classes = cfg.by_index()
    report_p = np.array([max(c.report_prob, 1e-6) for c in classes])
    base = (per_day > 0) & ~wanted
    if not base.any():
        raise DataError("data.background_classes: background = fit scales the background to "
                        "the recorded classes, and every class with calls is listed")
    shares = np.array([c.share for c in classes])
    if shares[base].sum() <= 0:
        raise DataError("data.background: background = fit needs a recorded class with a "
                        "share > 0 in incidents.classes")
    return float((per_day[base] / report_p[base]).sum() * share.sum() / shares[base].sum())


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
                report_p: np.ndarray, self_excitation: float = 0.0,
                mask: np.ndarray | None = None) -> dict[str, Any]:
    """Estimate the incident process from recorded calls.

    The risk surface is the cell counts smoothed by a Gaussian of ``fit_bandwidth_cells`` with
    ``fit_floor`` spread evenly; hourly (24) and weekly (7) profiles are relative frequencies
    normalised to mean one; the priority mix is of *true* incidents, recovered from the
    recorded mix by dividing by each priority's baseline reporting probability, and so is the
    daily rate. When the model adds near-repeat follow-ons with branching ratio ``eta``
    (``self_excitation``), the background rate is the observed one times ``1 - eta``, so the
    stationary total matches the data.

    In a city with masked cells (``mask`` False: outside every precinct) no risk lies
    outside: the smoothed counts and the floor are kept to the cells inside.

    Returns:
        ``risk``, ``hourly``, ``weekly``, ``priority_mix``, ``true_per_day``,
        ``start_weekday`` and ``class_per_day`` (recorded calls per day of each class).
    """
    from scipy.ndimage import gaussian_filter

    counts = np.bincount(calls.cell, minlength=n_cells).astype(float).reshape(width, height)
    if cfg.fit_bandwidth_cells > 0:
        counts = gaussian_filter(counts, cfg.fit_bandwidth_cells, mode="nearest")
    risk = counts.ravel() / counts.sum()
    if mask is not None and not np.all(mask) and np.any(mask):
        inside = np.asarray(mask, dtype=bool)
        kept = risk * inside
        total = kept.sum()
        risk = kept / total if total > 0 else inside / inside.sum()
        risk = (1 - cfg.fit_floor) * risk + cfg.fit_floor * inside / inside.sum()
    else:
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
        "class_per_day": recorded_mix / n_days,
    }
