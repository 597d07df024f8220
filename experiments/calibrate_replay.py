"""Replays of one period's recorded calls: the model's own handling, travel and response.

A period is replayed from its first day (``data.start`` moved there, ``data.mode =
replay``) for its days plus one, so that the calls of its last hours are answered; only the
calls of the period are kept. Calls of the days after the period (the data go on) are
simulated in that extra day as they happened; the :class:`~sim.datafile.DataWarning` about
calls before the period's start or after its horizon is expected and not shown.

Every duration column of ``[data]`` is switched off in a replay, so handling, travel and on
scene are the model's own draws: nothing recorded in the period enters it except the calls
themselves (time, place, class). The training replay that fits travel is therefore the same
model as the one that predicts the test period.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from experiments.calibrate_periods import Period
from experiments.calibrate_records import Records, call_frame
from sim.incidents import MIN_PER_DAY
from sim.scenario import Scenario

DURATION_FIELDS = ("col_handling", "col_travel", "col_on_scene", "col_response",
                   "col_dispatched", "col_arrived", "col_cleared")
"""The ``[data]`` fields that bring recorded durations into a replay."""
EXPECTED = (r"data\.calls_file: .* lie after the", r"data\.start: .* lie before",
            r"data\.calls_file: .* rows dropped")
"""Data warnings a replay of a period gives by design (the period cuts the data) or that
were told when the records were read; any other warning (e.g. about streets) is shown."""


def period_scenario(scenario: Scenario, records: Records, period: Period) -> Scenario:
    """The scenario that replays ``period`` (see the module docstring)."""
    start = records.start + pd.Timedelta(minutes=period.lo)
    over: dict[str, object] = {"data.mode": "replay", "data.start": start.isoformat(),
                               "run.days": period.days + 1}
    over.update({f"data.{f}": "" for f in DURATION_FIELDS if hasattr(scenario.data, f)})
    return scenario.with_overrides(over)


def replay(scenario: Scenario, records: Records, period: Period, seeds: int) -> pd.DataFrame:
    """The simulated calls of ``period``, for ``seeds`` seeds.

    Args:
        scenario: The scenario (its ``run.seed`` roots the seeds).
        records: The recorded calls (their minute 0 places the period).
        period: The period to replay.
        seeds: Number of replications (independent seeds).

    Returns:
        :func:`~experiments.calibrate_records.call_frame` columns plus ``seed`` and
        ``car_drive`` (minutes of driving by car, 0 for an officer on foot).
    """
    sc = period_scenario(scenario, records, period)
    parts = [_one(sc, period, np.random.SeedSequence(scenario.run.seed, spawn_key=(k,)))
             .assign(seed=k) for k in range(seeds)]
    return pd.concat(parts, ignore_index=True)


def _one(sc: Scenario, period: Period, seed: np.random.SeedSequence) -> pd.DataFrame:
    """One replication's calls of the period."""
    from sim.api import build_model, incidents_table
    from sim.datafile import DataWarning

    with warnings.catch_warnings():
        for told in EXPECTED:
            warnings.filterwarnings("ignore", message=told, category=DataWarning)
        model = build_model(sc, seed=seed, days=sc.run.days)
    model.run_days(sc.run.days)
    inc = incidents_table(model)
    inc = inc[inc["reported"].to_numpy(dtype=bool)
              & (inc["t_report"].to_numpy() < period.days * MIN_PER_DAY)]
    f = model.force
    index = {a.unique_id: i for i, a in enumerate(f.agents)}
    who = np.array([index.get(o, -1) for o in inc["officer_id"].tolist()], dtype=np.int64)
    travel = inc["travel_time"].to_numpy(dtype=float)
    car = (who >= 0) & f.vehicle[np.maximum(who, 0)]
    drive = np.where(car, travel - f.turnout[np.maximum(who, 0)], 0.0)
    values = {"handling": (inc["t_dispatch"] - inc["t_report"]).to_numpy(dtype=float),
              "travel": travel, "on_scene": inc["on_scene"].to_numpy(dtype=float),
              "response": inc["response_time"].to_numpy(dtype=float)}
    frame = call_frame(inc["t_report"].to_numpy(dtype=float) + period.lo,
                       inc["precinct"].to_numpy(), inc["priority"].cat.codes.to_numpy(), values)
    return frame.assign(car_drive=np.maximum(drive, 0.0))
