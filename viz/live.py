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
from typing import Any

import numpy as np

from sim import indicators as registry
from sim.metrics import COMMITTED, OFF, TIERS
from sim.model import PoliceModel
from sim.scenario import PRIORITIES
from sim.units import MIN_PER_DAY
from viz.totals import RunningTotals, union_quantile

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


def totals_for(model: PoliceModel, window_min: float = WINDOW_MIN) -> RunningTotals:
    """Fresh running totals of ``model``'s incidents (keep them for repeated calls)."""
    return RunningTotals(model.log, len(model.config.incidents.names),
                         model.layout.n_communities, window_min)


def live_stats(model: PoliceModel, window_min: float = WINDOW_MIN,
               totals: RunningTotals | None = None) -> dict[str, float]:
    """Indicators at the model's current time, from its incident log and force arrays.

    Only what has happened by ``model.now`` counts: the log also holds the rest of the day's
    incidents and the planned arrival and clearance times of incidents under way. Incidents
    a long run has streamed to disk (``run.log_rows``) count as well: the totals are those of
    a run that keeps every incident in memory.

    Args:
        model: The model.
        window_min: Length of the moving window for the ``w_`` keys (minutes).
        totals: Running totals kept between calls (see :mod:`viz.totals`), so that each
            call scans only the incidents not final yet; None computes them afresh.

    Returns:
        Cumulative indicators (keys of :data:`INDICATORS`: the registry's names, see
        :mod:`sim.indicators`), moving-window indicators (``w_`` and the same name;
        ``w_response_time_p90_<priority>`` and the incident counts ``w_true`` and
        ``w_recorded`` only for the charts), cumulative officer time by tier
        (``c_committed_<tier>``, ``c_onduty_<tier>``, minutes) and ``hours``.
    """
    now = model.now
    if totals is None:
        totals = totals_for(model, window_min)
    totals.update(now)
    s: dict[str, float] = {"hours": float(model.time)}
    s.update(_cumulative(totals, now))
    s.update(_window(model.log, totals.window_start(now - window_min), now, window_min))
    s["satisfaction_mean"] = resident_mean(model, "satisfaction")
    s["trust_mean"] = resident_mean(model, "trust")
    s.update(_force(model))
    return s


def _cumulative(totals: RunningTotals, now: float) -> dict[str, float]:
    """Incident indicators since the start: the folded sums plus the incidents after them."""
    f = totals.folded
    col = totals.tail
    t_arrive, t_clear = col("t_arrive"), col("t_clear")
    arrived = t_arrive <= now
    closed = t_clear <= now
    rt = (t_arrive - col("t_report"))[arrived]
    prio = col("priority")[arrived]
    s = {"incidents_true": float(f.n_true + (col("t_occur") <= now).sum()),
         "incidents_reported": float(f.n_reported +
                                     (col("reported") & (col("t_report") <= now)).sum())}
    s["reporting_rate"] = _ratio(s["incidents_reported"], s["incidents_true"])
    n_classes = len(f.rt_sorted) - 1
    for k, label in [(n_classes, ""), *enumerate(PRIORITIES)]:
        known = not label or k < n_classes
        sub = rt if not label else rt[prio == k]
        done = f.rt_sorted[k] if known else np.zeros(0)
        done_sum = float(f.rt_sum[k]) if known else 0.0
        key = "" if not label else f"_{label}"
        total = done.size + sub.size
        s[f"response_time_mean{key}"] = (float((done_sum + sub.sum()) / total) if total
                                         else float("nan"))
        s[f"response_time_p90{key}"] = union_quantile(done, sub, 0.9)
    s["clearance_rate"] = _ratio(float(f.n_cleared + col("cleared")[closed].sum()),
                                 float(f.n_closed + closed.sum()))
    return s


def _window(log: Any, start: int, now: float, window_min: float) -> dict[str, float]:
    """Indicators of the last ``window_min`` minutes from incidents ``start`` on."""
    lo = now - window_min

    def col(name: str) -> np.ndarray:
        return log.column(name, start=start)

    t_occur, t_report = col("t_occur"), col("t_report")
    t_arrive, t_clear = col("t_arrive"), col("t_clear")
    recorded = col("reported") & (t_report <= now)
    arrived = (t_arrive <= now) & (t_arrive > lo)
    closed = (t_clear <= now) & (t_clear > lo)
    s = {"w_true": float(((t_occur <= now) & (t_occur > lo)).sum()),
         "w_recorded": float((recorded & (t_report > lo)).sum())}
    rt = (t_arrive - t_report)[arrived]
    s["w_response_time_mean"] = _mean(rt)
    s["w_response_time_p90"] = _p90(rt)
    p = col("priority")[arrived]
    for k, label in enumerate(PRIORITIES):
        sub = rt[p == k]
        s[f"w_response_time_mean_{label}"] = _mean(sub)
        s[f"w_response_time_p90_{label}"] = _p90(sub)
    s["w_clearance_rate"] = _ratio(float(col("cleared")[closed].sum()), float(closed.sum()))
    return s


def _force(model: PoliceModel) -> dict[str, float]:
    """Officer time by tier since the start and the gauges of the current moment."""
    s: dict[str, float] = {}
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


def _unique(keys: tuple[str, ...]) -> tuple[str, ...]:
    """``keys`` with any repeat dropped (a repeated key would be recorded twice an hour)."""
    return tuple(dict.fromkeys(keys))


HISTORY_KEYS: tuple[str, ...] = _unique((
    "hours",
    *(f"w_response_time_mean_{p}" for p in PRIORITIES), "w_response_time_mean",
    *(f"w_response_time_p90_{p}" for p in PRIORITIES), "w_response_time_p90",
    "w_clearance_rate", "w_true", "w_recorded",
    *(f"c_committed_{t}" for t in TIERS), *(f"c_onduty_{t}" for t in TIERS),
    *(ind.key for ind in INDICATORS if ind.main),
))
"""What :class:`viz.run.Sim` records every simulated hour (for the charts)."""
