"""Indicators: daily series, per-community tables and the run summary.

Most indicators are computed once, at the end, from the incident table with vectorised
group-bys (no per-tick collector over all agents), through an :class:`~sim.tally.IncidentTally`
that reads the table batch by batch, so a long run's table is never assembled for them. Only
what cannot be reconstructed afterwards is snapshotted at each day's end by
:class:`DailyRecorder`: officers' time per state (for utilisation), the queue, and any state a
strategy or the residents expose through ``extra_daily``.

Response time is measured from the call (``t_report``) to arrival, and decomposes exactly into
dispatch delay (command chain), queue wait and travel (including turnout).

Every key and column written here is declared, with its unit and definition, in
:mod:`sim.indicators`; ``tests/test_indicators.py`` keeps the two equal. :data:`TIERS`,
:data:`COMMITTED` and :data:`OFF` are the one definition the app reads too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from agents.enums import OfficerState, Tier
from sim.tally import IncidentTally
from sim.units import MIN_PER_DAY

if TYPE_CHECKING:
    from agents.officers import Officers
    from agents.residents import Residents
    from sim.city import CityLayout
    from sim.dispatch import Dispatcher
    from sim.incidents import IncidentLog
    from sim.model import PoliceModel

COMMITTED = [int(OfficerState.TRAVELLING), int(OfficerState.ON_SCENE)]
OFF = int(OfficerState.OFF_DUTY)
TIERS = tuple(t.label for t in Tier)
"""Tier labels in tier order (``utilization_<tier>`` columns, the app's utilisation charts)."""



def busy_share(busy: float, on_duty: float) -> float:
    """Busy minutes over on-duty minutes, at most 1 (differenced sums can round past it).

    Args:
        busy: Minutes committed to incidents.
        on_duty: Minutes on duty.

    Returns:
        The share, or NaN with no time on duty.
    """
    return float(min(busy / on_duty, 1.0)) if on_duty > 0 else float("nan")

class DailyRecorder:
    """Snapshots taken at the end of every simulated day.

    ``rows`` holds what cannot be reconstructed afterwards (joined into the daily table);
    ``latest`` is the last day's full set of daily indicators, the incident counts and
    response and clearance figures of that day included (what ``model.datacollector``
    collects).

    Args:
        force: The officers (time per state).
        dispatcher: The queue and the open incidents.
        residents: Satisfaction, trust and familiarity.
        log: The incident log (the day's incidents, responses and clearances).
    """

    def __init__(self, force: Officers, dispatcher: Dispatcher, residents: Residents,
                 log: IncidentLog | None = None) -> None:
        self.force = force
        self.dispatcher = dispatcher
        self.residents = residents
        self.log = log
        self.rows: list[dict[str, Any]] = []
        self.latest: dict[str, Any] = {}
        self._last = np.zeros((len(Tier), len(OfficerState)))
        self._open_from = 0  # every incident before this id is final (no more changes)

    def close_day(self, day: int) -> None:
        """Record the snapshot for ``day`` (called at its end)."""
        st = self.force.flush((day + 1) * MIN_PER_DAY)
        by_tier = np.zeros_like(self._last)
        np.add.at(by_tier, self.force.tier, st)
        delta, self._last = by_tier - self._last, by_tier
        row: dict[str, Any] = {"day": day, "queue_end": self.dispatcher.queued(),
                               "open_end": len(self.dispatcher.open)}
        for t, label in enumerate(TIERS):
            on = delta[t].sum() - delta[t, OFF]
            row[f"utilization_{label}"] = busy_share(delta[t, COMMITTED].sum(), on)
        on_all = delta.sum() - delta[:, OFF].sum()
        row["utilization"] = busy_share(delta[:, COMMITTED].sum(), on_all)
        row.update(self.residents.means())
        self.rows.append(row)
        self.latest = {**row, **self.incident_day(day)}

    def incident_day(self, day: int) -> dict[str, float]:
        """Day ``day``'s incidents (by occurrence), responses (by arrival), clearances."""
        log = self.log
        if log is None:
            return {}
        t0, t1 = day * MIN_PER_DAY, (day + 1) * MIN_PER_DAY
        lo, hi = log.first_id_at(t0), log.first_id_at(t1)
        reported = log.column("reported", start=lo)[: hi - lo]
        start = max(self._open_from, log.first_id)
        arrive, clear = log.column("t_arrive", start=start), log.column("t_clear", start=start)
        rt = arrive - log.column("t_report", start=start)
        arrived = (arrive >= t0) & (arrive < t1)
        closed = (clear >= t0) & (clear < t1)
        cleared = log.column("cleared", start=start)[closed]
        final = ~log.column("reported", start=start) | log.column("lost", start=start) | \
            np.isfinite(clear)
        self._open_from = start + (int(np.argmin(final)) if not final.all() else final.size)
        n_true, n_rep, n_arr, n_clo = hi - lo, int(reported.sum()), int(arrived.sum()), \
            int(closed.sum())
        return {"incidents_true": float(n_true), "incidents_reported": float(n_rep),
                "reporting_rate": n_rep / n_true if n_true else float("nan"),
                "responses": float(n_arr),
                "response_time_mean": float(rt[arrived].mean()) if n_arr else float("nan"),
                "closed": float(n_clo), "cleared": float(cleared.sum()),
                "clearance_rate": float(cleared.mean()) if n_clo else float("nan")}


DAILY_COLLECTED = ("day", "incidents_true", "incidents_reported", "reporting_rate", "responses",
                   "response_time_mean", "closed", "cleared", "clearance_rate", "utilization",
                   "queue_end", "open_end", "satisfaction_mean", "trust_mean",
                   "familiarity_mean")
"""The daily indicators ``model.datacollector`` collects at the end of every day (names and
definitions as in the daily table, :mod:`sim.indicators`)."""


def daily_collector() -> Any:
    """A Mesa ``DataCollector`` of the daily indicators, collected at each day's end."""
    from mesa import DataCollector

    def reporter(name: str) -> Any:
        return lambda m: m.recorder.latest.get(name, float("nan"))

    return DataCollector(model_reporters={name: reporter(name) for name in DAILY_COLLECTED})


def gini(values: npt.ArrayLike, weights: npt.ArrayLike | None = None) -> float:
    """Return the Gini coefficient of non-negative values, optionally weighted.

    The one definition of the Gini used by the summary (``response_time_gini``) and the
    validation (:mod:`experiments.theory`). ``G = sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean)``
    with ``W = sum w`` and the weighted mean ``mean = sum w x / W``, evaluated in
    ``O(n log n)`` after sorting; without weights as ``(n + 1 - 2 sum_i L_i) / n`` with
    ``L_i`` the Lorenz curve (the cumulative share of the ``i`` smallest values), which is the
    same number. It is 0 when all values are equal and ``(n - 1) / n`` when (unweighted) one
    of ``n`` values holds everything.

    Args:
        values: Non-negative values (e.g. workload per unit).
        weights: Optional non-negative weights of the same length (e.g. population).

    Returns:
        The Gini coefficient in ``[0, 1)``; 0 if every value (or total weight) is zero.

    Raises:
        ValueError: If inputs are empty, negative, non-finite or of different lengths.
    """
    x = np.asarray(values, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if x.size == 0 or x.shape != w.shape:
        raise ValueError("values must be non-empty and match the weights in length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))) or np.any(x < 0) or np.any(w < 0):
        raise ValueError("values and weights must be finite and non-negative")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    if weights is None:
        n = x.size
        if x.sum() == 0:
            return 0.0
        cum = np.cumsum(x)
        return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)
    total_weight, total_mass = w.sum(), (w * x).sum()
    if total_weight == 0 or total_mass == 0:
        return 0.0
    weight_before = np.cumsum(w) - w
    mass_before = np.cumsum(w * x) - w * x
    spread = float((w * (x * weight_before - mass_before)).sum())
    return spread / (total_weight * total_mass)


def as_tally(incidents: pd.DataFrame | IncidentTally, height: int | None = None,
             now: float = float("nan")) -> IncidentTally:
    """The tally of an incident table (itself if it is one already).

    Args:
        incidents: A whole incident table, or its :class:`~sim.tally.IncidentTally`.
        height: Grid height (victims by cell); None: not needed.
        now: Minute of the tables (pending and unanswered calls of the summary).

    Returns:
        The tally.
    """
    if isinstance(incidents, IncidentTally):
        return incidents
    classes = list(incidents["priority"].cat.categories)
    return IncidentTally.of([incidents], classes, height, now)


def daily_frame(incidents: pd.DataFrame | IncidentTally, recorder: DailyRecorder,
                days: int) -> pd.DataFrame:
    """One row per day: incidents true and reported (by occurrence), responses (by arrival).

    Args:
        incidents: The incident table, or its tally (:mod:`sim.tally`).
        recorder: The daily snapshots.
        days: Days of the table.
    """
    tally = as_tally(incidents)
    idx = pd.RangeIndex(days, name="day")
    out = pd.DataFrame(index=idx)
    out["incidents_true"] = tally.occ_true.first(days)
    out["incidents_reported"] = tally.occ_reported.first(days)
    out["reporting_rate"] = out["incidents_reported"] / out["incidents_true"].replace(0, np.nan)
    day = tally.arrived("day")
    out["responses"] = _grouped(day, day, days, "size").reindex(idx, fill_value=0)
    for col in ("response_time", "dispatch_delay", "queue_wait", "travel_time"):
        out[f"{col}_mean"] = _grouped(day, tally.arrived(col), days, "mean").reindex(idx)
    out["response_time_p90"] = _grouped(day, tally.arrived("response_time"), days,
                                        "p90").reindex(idx)
    out["closed"] = tally.clear_closed.first(days)
    out["cleared"] = tally.clear_cleared.first(days)
    out["clearance_rate"] = out["cleared"] / out["closed"].replace(0, np.nan)
    snap = pd.DataFrame(recorder.rows)
    if not snap.empty:
        out = out.join(snap.set_index("day"), how="left")
    return out.reset_index()


def community_frame(incidents: pd.DataFrame | IncidentTally,
                    model: PoliceModel) -> pd.DataFrame:
    """One row per community: population, posted officers, incidents and responses.

    Args:
        incidents: The incident table, or its tally (:mod:`sim.tally`).
        model: The model.
    """
    tally = as_tally(incidents)
    lay = model.layout
    n = lay.n_communities
    idx = pd.RangeIndex(n, name="community")
    pop = np.bincount(lay.community, weights=lay.population, minlength=n)
    f = model.force
    out = pd.DataFrame(index=idx)
    out["precinct"] = lay.precinct_of_community
    out["population"] = pop
    out["cells"] = np.bincount(lay.community, minlength=n)
    out["officers_posted"] = np.bincount(f.community[f.community >= 0], minlength=n)
    out["incidents_true"] = tally.comm_true.first(n)
    out["incidents_reported"] = tally.comm_reported.first(n)
    out["reporting_rate"] = out["incidents_reported"] / out["incidents_true"].replace(0, np.nan)
    per_k = 1000.0 / np.where(pop > 0, pop, np.nan) / max(model.day, 1e-9) * 365.0
    out["true_per_1000_year"] = out["incidents_true"] * per_k
    out["recorded_per_1000_year"] = out["incidents_reported"] * per_k
    comm, rt = tally.arrived("community"), tally.arrived("response_time")
    out["responses"] = _grouped(comm, rt, n, "size").reindex(idx, fill_value=0)
    out["response_time_mean"] = _grouped(comm, rt, n, "mean").reindex(idx)
    out["response_time_p90"] = _grouped(comm, rt, n, "p90").reindex(idx)
    out["travel_time_mean"] = _grouped(comm, tally.arrived("travel_time"), n,
                                       "mean").reindex(idx)
    closed = tally.comm_closed.first(n).astype(np.float64)
    cleared = tally.comm_cleared.first(n).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["clearance_rate"] = np.where(closed > 0, cleared / closed, np.nan)
    extra = model.residents.community_columns()
    for key, values in extra.items():
        out[key] = values
    return out.reset_index()


def summary(model: PoliceModel, incidents: pd.DataFrame | IncidentTally,
            communities: pd.DataFrame) -> dict[str, Any]:
    """The headline indicators of one run (times in minutes, shares in 0..1).

    Args:
        model: The model.
        incidents: The incident table, or its tally (:mod:`sim.tally`) made at ``model.now``.
        communities: The community table.
    """
    tally = as_tally(incidents, model.layout.height, model.now)
    c = tally.counts
    rt = pd.Series(tally.arrived("response_time"))
    travel = pd.Series(tally.arrived("travel_time"))
    st = model.force.flush(model.now)
    on = st.sum() - st[:, OFF].sum()
    s: dict[str, Any] = {
        "days": model.day,
        "seed": int(model.streams.entropy),
        "spawn_key": list(model.streams.spawn_key),
        "strategy": model.strategy.name,
        "officers": int(model.force.n),
        "incidents_true": int(tally.n),
        "incidents_reported": int(c["reported"]),
        "reporting_rate": _ratio(c["reported"], tally.n),
        "incidents_attended": int(len(rt)),
        "incidents_en_route": int(c["en_route"]),
        "incidents_unanswered": int(c["unanswered"]),
        "calls_pending_end": int(c["pending"]),
        "incidents_lost": int(c["lost"]),
        "queue_end": int(model.dispatcher.queued()),
        "response_time_mean": _mean(rt),
        "response_time_median": float(rt.median()) if len(rt) else float("nan"),
        "response_time_p90": float(rt.quantile(0.9)) if len(rt) else float("nan"),
        "dispatch_delay_mean": _mean(tally.reported_delay()),
        "queue_wait_mean": _mean(tally.dispatched_wait()),
        "travel_time_mean": _mean(travel),
        "on_scene_mean": _mean(tally.closed_on_scene()),
        # The same attended incidents as response_time_mean, so the three add up to it.
        "response_chain_mean": _mean(pd.Series(tally.arrived("dispatch_delay"))),
        "response_queue_mean": _mean(pd.Series(tally.arrived("queue_wait"))),
        "response_travel_mean": _mean(travel),
        "clearance_rate": _ratio(c["cleared"], c["closed"]),
        "utilization_mean": busy_share(st[:, COMMITTED].sum(), on),
    }
    priority = tally.arrived("priority")
    for code, name in enumerate(model.config.incidents.names):
        s[f"response_time_mean_{name}"] = _mean(rt[priority == code])
    cm = communities["response_time_mean"].to_numpy(dtype=float)
    served = cm[np.isfinite(cm)]  # communities with at least one response
    s["response_time_gini"] = gini(served) if served.size else float("nan")
    s["worst_community_response_time"] = float(np.nanmax(cm)) if np.isfinite(cm).any() \
        else float("nan")
    s.update(model.residents.summary())
    if model.residents.n:
        s["victimised_share"] = victimised_share(tally, model.layout)
    s.update(calls_summary(model.calls))
    return s


def calls_summary(calls: Any) -> dict[str, int]:
    """For recorded calls: rows read, used, dropped (by reason), not simulated, and recorded.

    ``calls_used`` counts the calls simulated (a replay: those within ``run.days``); the
    recorded-duration counts are of those calls, for each duration the data give.
    """
    if calls is None:
        return {}
    out = {"calls_read": calls.rows_read, "calls_used": int(calls.minute.size),
           "calls_dropped": int(sum(calls.dropped.values()))}
    for reason, count in calls.dropped.items():
        out["calls_dropped_" + reason.replace(" ", "_")] = count
    out["calls_before_start"] = int(calls.before_start)
    out["calls_after_horizon"] = int(calls.after_horizon)
    if calls.unknown_mapped is not None:
        out["calls_unknown_class"] = int(calls.unknown_mapped.sum())
    for kind, values in calls.recorded.items():
        out[f"calls_rec_{kind}"] = int(np.isfinite(values).sum())
    for kind, bad in calls.bad.items():
        out[f"calls_rec_{kind}_bad"] = int(bad.sum())
    return out


BLOCK_ROWS = 50_000
"""Rows per block of :func:`_grouped` (a grouped quantile needs about 100 bytes a row)."""


def _grouped(keys: np.ndarray, values: np.ndarray, n_keys: int, stat: str) -> pd.Series:
    """``stat`` (``size``, ``mean`` or ``p90``) of ``values`` by integer ``keys`` in 0..n_keys-1.

    The sizes and quantiles, whose scratch memory is the largest, are computed a block of keys
    at a time: a group's size or quantile depends only on its own values, so it is exactly
    that of one group-by over all rows. Means are computed in one group-by (pandas' grouped
    sums are not reproduced bit for bit by blocks).
    """
    if stat == "mean":
        return pd.Series(values).groupby(keys).mean()
    step = max(1, n_keys * BLOCK_ROWS // max(keys.size, 1))
    parts = []
    for lo in range(0, max(n_keys, 1), step):
        rows = (keys >= lo) & (keys < lo + step)
        by = pd.Series(values[rows]).groupby(keys[rows])
        parts.append(by.size() if stat == "size" else by.quantile(0.9))
    return parts[0] if len(parts) == 1 else pd.concat(parts)


def _mean(x: pd.Series) -> float:
    return float(x.mean()) if len(x) else float("nan")


def _ratio(a: int, b: int) -> float:
    return float(a / b) if b else float("nan")


def extra_tables(model: PoliceModel) -> dict[str, pd.DataFrame]:
    """The residents snapshot, the allocations (re-postings) and the officers tables."""
    alloc = pd.DataFrame(model.allocations)
    if not alloc.empty:
        alloc.insert(1, "officer_id", model.force.ids()[alloc["officer_index"].to_numpy()])
    return {"residents": model.residents.frame(model.layout), "allocations": alloc,
            "officers": model.force.frame(model.now)}


def victimised_share(incidents: pd.DataFrame | IncidentTally, layout: CityLayout) -> float:
    """Share of *persons* victimised at least once, from the incidents with a resident victim.

    A victim is a person of the incident's cell (of its community when nobody lives in the
    cell), drawn uniformly: a pool of ``P`` persons hit ``m`` times holds
    ``P (1 - (1 - 1/P)^m)`` distinct victims in expectation. Computed from persons, not
    agents, so it does not depend on how many agents stand for them.

    Args:
        incidents: The incident table, or its tally (:mod:`sim.tally`).
        layout: The city.
    """
    pop = np.asarray(layout.population, dtype=float)
    total = float(pop.sum())
    if total <= 0:
        return float("nan")
    tally = as_tally(incidents, layout.height)
    by_cell = tally.victim_cells.first(pop.size).astype(float)
    empty = pop <= 0
    comm_pop = np.bincount(layout.community, weights=pop, minlength=layout.n_communities)
    by_comm = np.bincount(layout.community[empty], weights=by_cell[empty],
                          minlength=layout.n_communities)
    by_cell[empty] = 0.0

    def distinct(persons: np.ndarray, hits: np.ndarray) -> float:
        # persons * (1 - (1 - 1/persons) ** hits): distinct persons among `hits` uniform
        # draws; one person (or less) is hit at most once, min(hits, persons).
        ok = persons > 1
        return float((persons[ok] * -np.expm1(hits[ok] * np.log1p(-1.0 / persons[ok]))).sum()
                     + np.minimum(hits[~ok], persons[~ok]).sum())

    # Hits in empty cells fall on the community's persons (an approximation: one more pool).
    return min((distinct(pop, by_cell) + distinct(comm_pop, by_comm)) / total, 1.0)
