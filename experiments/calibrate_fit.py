"""Fit the model to a training period of recorded calls, then predict a held-out test period.

The steps of ``grassroots calibrate`` (see ``docs/CALIBRATE.md``):

1. read the recorded calls and split their days into a training and a test period
   (:mod:`experiments.calibrate_periods`);
2. estimate from the training calls the on-scene times by class and the command chain
   (:mod:`experiments.calibrate_estimate`), each with a bootstrap interval over days;
3. replay the training calls with those estimates (the model's own durations) and fit the
   hourly speed factors of cars from recorded vs replayed travel;
4. replay the test calls with the calibrated scenario and nothing else recorded, for several
   seeds, and compare with what was recorded (:mod:`experiments.calibrate_predict`).

:func:`fit_and_predict` returns a :class:`Fit`; :mod:`experiments.calibrate_fit_report`
writes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from experiments.calibrate_boot import DayBootstrap
from experiments.calibrate_estimate import (
    Estimate,
    chain_estimates,
    chain_of,
    factors_text,
    on_scene_estimates,
    travel_estimates,
)
from experiments.calibrate_periods import Period, split_periods
from experiments.calibrate_predict import prediction_table, ranking
from experiments.calibrate_records import Records, load_records
from experiments.calibrate_replay import replay
from sim.scenario import Scenario

SEEDS = 3
"""Replications of each replay (independent seeds) by default."""


@dataclass
class Fit:
    """A calibration: estimates, the calibrated scenario and the held-out prediction.

    Attributes:
        train: The training period.
        test: The test period.
        seeds: Replications of each replay.
        data_note: What was read from the calls file.
        estimates: On-scene and command-chain estimates.
        travel: Hourly speed factors (24, then all hours pooled); empty without travel data.
        travel_written: Whether the factors are in the calibrated scenario.
        calibrated: The calibrated scenario.
        prediction: Recorded vs predicted test values (:func:`prediction_table`).
        ranking: Precincts by recorded and predicted mean response.
        rank: Spearman's rho and the order's summary (:func:`ranking`).
        notes: What a reader must know (parameters the data cannot give, ...).
    """

    train: Period
    test: Period
    seeds: int
    data_note: str
    estimates: list[Estimate]
    travel: list[Estimate]
    travel_written: bool
    calibrated: Scenario
    prediction: pd.DataFrame
    ranking: pd.DataFrame
    rank: dict[str, float | str]
    notes: list[str] = field(default_factory=list)

    @property
    def estimates_table(self) -> pd.DataFrame:
        """Every estimate (travel factors last) as a table."""
        return pd.DataFrame([e.row() for e in [*self.estimates, *self.travel]])

    def headline(self) -> pd.Series:
        """The row of the prediction for the mean response time of all calls."""
        p = self.prediction
        return p[(p["precinct"] == "all") & (p["measure"] == "response")
                 & (p["statistic"] == "mean")].iloc[0]


def fit_and_predict(scenario: Scenario, train: str | None = None, test: str | None = None,
                    seeds: int = SEEDS, days: int | None = None) -> Fit:
    """Calibrate ``scenario`` on its recorded calls and predict the held-out period.

    Args:
        scenario: A scenario with ``data.calls_file`` (whose durations are recorded).
        train: ``START..END`` of the training period (ISO dates, both included).
        test: ``START..END`` of the test period.
        seeds: Replications of each replay (at least 1).
        days: Use only the data's first ``days`` days.

    Returns:
        The calibration.

    Raises:
        ValueError: One line naming the field or option at fault.
    """
    if seeds < 1:
        raise ValueError(f"--seeds: must be at least 1 (got {seeds})")
    records = load_records(scenario)
    n_days = records.n_days if days is None else min(days, records.n_days)
    tr, te = split_periods(records.day0, n_days, train, test)
    rec_tr, rec_te = _period_calls(records, tr), _period_calls(records, te)
    boot = DayBootstrap([rec_tr["day"]], tr.days, scenario.run.seed)
    notes = _missing_notes(records)
    est = [*on_scene_estimates(rec_tr, scenario, boot),
           *chain_estimates(rec_tr, scenario, chain_of(scenario), boot)]
    sc = apply(scenario, est, notes)
    travel: list[Estimate] = []
    written = False
    measure = next((k for k in ("travel", "response") if k in records.kinds), None)
    if measure is not None:
        sim_tr = _relative(replay(sc, records, tr, seeds), tr)
        before = sc.streets.hour_factors() if hasattr(sc, "streets") else None
        travel = travel_estimates(rec_tr, sim_tr, before, boot, measure)
        if measure == "response":
            notes.append("the data record no travel times: the speed factors are fitted to "
                         "response times, taking the model's handling and queueing as right")
        if travel and hasattr(sc, "streets"):
            sc = sc.with_overrides({"streets.hour_speed_factors": factors_text(travel)})
            written = True
        elif travel:
            notes.append("streets.hour_speed_factors does not exist in this version: the "
                         "fitted factors are reported but not in calibrated.toml")
    sim_te = _relative(replay(sc, records, te, seeds), te)
    boot_te = DayBootstrap([rec_te["day"], sim_te["day"]], te.days, scenario.run.seed)
    table, rank = ranking(rec_te, sim_te, boot_te, records.precinct_names)
    sc = sc.with_overrides({"run.description": f"Calibrated by grassroots calibrate on "
                                               f"{tr.label}, tested on {te.label}."})
    return Fit(tr, te, seeds, records.note, est, travel, written, sc,
               prediction_table(rec_te, sim_te, boot_te, records.precinct_names), table, rank,
               notes)


def _period_calls(records: Records, period: Period) -> pd.DataFrame:
    """The recorded calls of a period, days counted from its first day; none is an error."""
    frame = _relative(records.frame(period.lo, period.hi), period)
    if frame.empty:
        raise ValueError(f"--{period.name}: no recorded calls in {period.label}")
    return frame


def _relative(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    return frame.assign(day=frame["day"] - period.first)


def _missing_notes(records: Records) -> list[str]:
    """Which durations the data do not record (their parameters stay as they were)."""
    what = {"handling": "the command chain (dispatch.*)", "on_scene": "the on-scene times"}
    return [f"the data record no {k} times: {v} not estimated" for k, v in what.items()
            if k not in records.kinds]


def apply(scenario: Scenario, estimates: list[Estimate], notes: list[str]) -> Scenario:
    """The scenario with every finite estimate set (kept within its parameter's bounds)."""
    info = {name: i for name, _, i in scenario.params()}
    over: dict[str, float] = {}
    for e in estimates:
        if not math.isfinite(e.value) or e.parameter not in info:
            if e.parameter in info:
                notes.append(f"{e.parameter}: fewer than 10 recorded values, kept at "
                             f"{e.before:g}")
            continue
        lo, hi = info[e.parameter].lo, info[e.parameter].hi
        value = min(max(e.value, -math.inf if lo is None else lo),
                    math.inf if hi is None else hi)
        if value != e.value:
            notes.append(f"{e.parameter}: estimate {e.value:.4g} outside the parameter's "
                         f"bounds, set to {value:g}")
        over[e.parameter] = float(f"{value:.6g}")
    return scenario.with_overrides(over) if over else scenario
