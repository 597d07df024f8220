"""Live indicators of a running model, computed from its own arrays (no UI code).

:func:`live_stats` gives the indicators at the model's current time: the registered ones
(:mod:`sim.indicators`) over the run so far and over a moving window, plus a few gauges of the
current moment. :data:`INDICATORS` are the rows of the summary panel and
:data:`HISTORY_KEYS` what a run records every simulated hour for the charts.

Times: ``model.time`` counts hours; the log and every indicator are in minutes. Shares are
stored as fractions and shown as percentages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import indicators as registry
from sim.metrics import COMMITTED, OFF, TIERS
from sim.model import PoliceModel
from sim.scenario import PRIORITIES
from sim.units import MIN_PER_DAY

WINDOW_MIN = MIN_PER_DAY
"""Length of the moving window of the live charts (minutes)."""


@dataclass(frozen=True)
class Indicator:
    """One row of the summary panel.

    A row whose ``key`` is a registered indicator (:mod:`sim.indicators`, summary or daily
    table) takes its label and unit from the registry and is computed by :func:`live_stats`
    to the registry's definition, over the run so far; the few gauges of the current moment
    (officers on duty now, ...) exist only in the app and carry their own label and unit.

    Attributes:
        key: Key in :func:`live_stats` (a registry name, or a live-only gauge).
        digits: Decimals shown.
        main: Whether it is one of the main indicators (compare charts).
        own_label: Label of a live-only gauge (registered indicators: empty).
        own_unit: Unit of a live-only gauge (registered indicators: empty).
    """

    key: str
    digits: int = 1
    main: bool = False
    own_label: str = ""
    own_unit: str = ""

    @property
    def registered(self) -> registry.Indicator | None:
        """The registry's indicator of this key (summary first, then daily), or None."""
        return registry.find(self.key)

    @property
    def label(self) -> str:
        """Text shown."""
        ind = self.registered
        return self.own_label or (ind.title if ind is not None else self.key)

    @property
    def percent(self) -> bool:
        """Whether the value is a share (fraction) shown in percent (difference in points)."""
        ind = self.registered
        return ind is not None and ind.unit == "share"

    @property
    def unit(self) -> str:
        """Unit shown (``%`` for shares stored as fractions)."""
        ind = self.registered
        if self.own_unit or ind is None:
            return self.own_unit
        return "%" if ind.unit == "share" else ind.unit

    def scale(self, value: float) -> float:
        """The value in the unit shown."""
        return value * 100.0 if self.percent else value


INDICATORS: tuple[Indicator, ...] = (
    Indicator("incidents_true", digits=0),
    Indicator("incidents_reported", digits=0),
    Indicator("reporting_rate"),
    Indicator("response_time_mean", main=True),
    Indicator("response_time_p90", main=True),
    *(Indicator(f"response_time_mean_{p}") for p in PRIORITIES),
    Indicator("clearance_rate", main=True),
    Indicator("satisfaction_mean", digits=3, main=True),
    Indicator("trust_mean", digits=3, main=True),
    Indicator("utilization_mean", main=True),
    *(Indicator(f"utilization_{t}") for t in TIERS),
    Indicator("on_duty", digits=0, own_label="Officers on duty now", own_unit="officers"),
    Indicator("committed", digits=0, own_label="Officers on incidents now",
              own_unit="officers"),
    Indicator("waiting", digits=0, own_label="Incidents waiting now", own_unit="incidents"),
    Indicator("active", digits=0, own_label="Incidents being attended now",
              own_unit="incidents"),
    Indicator("incidents_lost", digits=0),
)
"""Summary panel rows: cumulative since the start unless marked 'now'."""

INDICATOR_BY_KEY = {ind.key: ind for ind in INDICATORS}


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("nan")


def _p90(x: np.ndarray) -> float:
    return float(np.quantile(x, 0.9)) if x.size else float("nan")


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def resident_means(model: PoliceModel, name: str) -> np.ndarray | None:
    """Per-community mean of a resident attribute, or None without residents.

    Args:
        model: The model.
        name: ``"satisfaction"``, ``"trust"`` or ``"familiarity"``.

    Returns:
        One value per community, or None if the model has no residents (yet).
    """
    residents = getattr(model, "residents", None)
    by_community = getattr(residents, "by_community", None)
    if not callable(by_community):
        return None
    try:
        values = np.asarray(by_community(name), dtype=float)
    except (AttributeError, KeyError, ValueError, TypeError):
        return None
    if values.shape != (model.layout.n_communities,):
        return None
    return values


def resident_mean(model: PoliceModel, name: str) -> float:
    """Mean of a resident attribute over all residents (as the summary's ``<name>_mean``).

    Args:
        model: The model.
        name: ``"satisfaction"``, ``"trust"`` or ``"familiarity"``.

    Returns:
        The mean, or NaN if the model has no residents (yet).
    """
    values = getattr(getattr(model, "residents", None), name, None)
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return float("nan")
    return float(arr.mean()) if values is not None and arr.size else float("nan")


def state_time_now(model: PoliceModel) -> np.ndarray:
    """Minutes each officer has spent in each state up to now (read only)."""
    f = model.force
    st = f.state_time.copy()
    st[np.arange(f.n), f.state] += model.now - f.since
    return st


def live_stats(model: PoliceModel, window_min: float = WINDOW_MIN) -> dict[str, float]:
    """Indicators at the model's current time, from its incident log and force arrays.

    Only what has happened by ``model.now`` counts: the log also holds the rest of the day's
    incidents and the planned arrival and clearance times of incidents under way.

    Args:
        model: The model.
        window_min: Length of the moving window for the ``w_`` keys (minutes).

    Returns:
        Cumulative indicators (keys of :data:`INDICATORS`: the registry's names, see
        :mod:`sim.indicators`), moving-window indicators (``w_`` and the same name;
        ``w_response_time_p90_<priority>`` and the incident counts ``w_true`` and
        ``w_recorded`` only for the charts), cumulative officer time by tier
        (``c_committed_<tier>``, ``c_onduty_<tier>``, minutes) and ``hours``.
    """
    now = model.now
    lo = now - window_min
    log = model.log
    col = log.column  # the incidents in memory (all of them unless a long run spilled)
    t_occur, t_report = col("t_occur"), col("t_report")
    t_arrive, t_clear = col("t_arrive"), col("t_clear")
    prio = col("priority")
    occurred = t_occur <= now
    recorded = col("reported") & (t_report <= now)
    arrived = t_arrive <= now
    closed = t_clear <= now
    w_arrived = arrived & (t_arrive > lo)
    w_closed = closed & (t_clear > lo)
    rt_all = t_arrive - t_report
    cleared = col("cleared")
    s: dict[str, float] = {"hours": float(model.time)}
    s["incidents_true"] = float(occurred.sum())
    s["incidents_reported"] = float(recorded.sum())
    s["reporting_rate"] = _ratio(s["incidents_reported"], s["incidents_true"])
    s["w_true"] = float((occurred & (t_occur > lo)).sum())
    s["w_recorded"] = float((recorded & (t_report > lo)).sum())
    for prefix, mask in (("", arrived), ("w_", w_arrived)):
        rt = rt_all[mask]
        s[f"{prefix}response_time_mean"] = _mean(rt)
        s[f"{prefix}response_time_p90"] = _p90(rt)
        p = prio[mask]
        for k, label in enumerate(PRIORITIES):
            sub = rt[p == k]
            s[f"{prefix}response_time_mean_{label}"] = _mean(sub)
            s[f"{prefix}response_time_p90_{label}"] = _p90(sub)
    s["clearance_rate"] = _ratio(float(cleared[closed].sum()), float(closed.sum()))
    s["w_clearance_rate"] = _ratio(float(cleared[w_closed].sum()), float(w_closed.sum()))
    s["satisfaction_mean"] = resident_mean(model, "satisfaction")
    s["trust_mean"] = resident_mean(model, "trust")
    f = model.force
    st = state_time_now(model)
    committed = st[:, COMMITTED].sum(axis=1)
    on = st.sum(axis=1) - st[:, OFF]
    c_tier = np.bincount(f.tier, weights=committed, minlength=len(TIERS))
    o_tier = np.bincount(f.tier, weights=on, minlength=len(TIERS))
    for k, label in enumerate(TIERS):
        s[f"c_committed_{label}"] = float(c_tier[k])
        s[f"c_onduty_{label}"] = float(o_tier[k])
        s[f"utilization_{label}"] = _ratio(c_tier[k], o_tier[k])
    s["utilization_mean"] = _ratio(c_tier.sum(), o_tier.sum())
    s["on_duty"] = float(f.on_duty.sum())
    s["committed"] = float(np.isin(f.state, COMMITTED).sum())
    open_ = model.dispatcher.open.values()
    s["waiting"] = float(sum(1 for inc in open_ if inc.waiting))
    s["active"] = float(len(model.dispatcher.open) - s["waiting"])
    s["incidents_lost"] = float(model.dispatcher.lost)
    return s


HISTORY_KEYS: tuple[str, ...] = (
    "hours",
    *(f"w_response_time_mean_{p}" for p in PRIORITIES), "w_response_time_mean",
    *(f"w_response_time_p90_{p}" for p in PRIORITIES), "w_response_time_p90",
    "w_clearance_rate", "w_true", "w_recorded",
    *(f"c_committed_{t}" for t in TIERS), *(f"c_onduty_{t}" for t in TIERS),
    *(ind.key for ind in INDICATORS if ind.main),
)
"""What :class:`viz.run.Sim` records every simulated hour (for the charts)."""
