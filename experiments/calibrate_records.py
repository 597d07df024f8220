"""The recorded calls a calibration learns from and predicts: durations, precincts, periods.

:func:`load_records` reads the calls file of a scenario as the model does
(:func:`sim.calls.load_calls`) with the recorded durations of every call (handling: call to
dispatch; travel: dispatch to arrival; on scene: arrival to clearance; response: call to
arrival; see :mod:`sim.call_times` for the columns that give them) and the precinct of its
cell. :meth:`Records.frame` turns a period's calls into the table the estimators and the
comparison use: one row per call with its day, hour of call and of dispatch, precinct, class
and durations (NaN where not recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sim.call_times import DURATIONS
from sim.incidents import MIN_PER_DAY
from sim.scenario import Scenario


@dataclass(frozen=True)
class Records:
    """Recorded calls mapped onto the city.

    Attributes:
        minute: Minutes since the data's minute 0 (sorted).
        priority: Class index of each call.
        precinct: Precinct (dense id) of each call's cell.
        values: Recorded minutes by kind (:data:`sim.call_times.DURATIONS`), NaN if missing.
        start: The timestamp of minute 0.
        n_days: Days from minute 0 to the end of the last call's day.
        precinct_names: Names of the precincts, by dense id.
        note: What was read (rows read, used, dropped).
    """

    minute: np.ndarray
    priority: np.ndarray
    precinct: np.ndarray
    values: dict[str, np.ndarray]
    start: pd.Timestamp
    n_days: int
    precinct_names: list[str]
    note: str

    @property
    def day0(self) -> date:
        """The date of day 0."""
        return self.start.date()

    @property
    def kinds(self) -> tuple[str, ...]:
        """The durations the data record for at least one call."""
        return tuple(k for k in DURATIONS if np.isfinite(self.values[k]).any())

    def frame(self, lo: float = 0.0, hi: float = np.inf) -> pd.DataFrame:
        """The calls with ``lo <= minute < hi`` as a table (see the module docstring)."""
        keep = (self.minute >= lo) & (self.minute < hi)
        return call_frame(self.minute[keep], self.precinct[keep], self.priority[keep],
                          {k: v[keep] for k, v in self.values.items()})


def call_frame(minute: np.ndarray, precinct: np.ndarray, priority: np.ndarray,
               values: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per call: day, hours, precinct, class and the durations.

    The hour of dispatch is the hour of ``minute + handling`` (the hour of the call when the
    handling time is not known); hours count from the data's minute 0, as
    ``streets.hour_speed_factors`` does.

    Args:
        minute: Call minutes since minute 0.
        precinct: Precinct of each call.
        priority: Class index of each call.
        values: Minutes by kind; missing kinds are NaN.
    """
    nan = np.full(minute.size, np.nan)
    cols = {k: np.asarray(values.get(k, nan), dtype=float) for k in DURATIONS}
    handling = np.nan_to_num(cols["handling"], nan=0.0)
    return pd.DataFrame({
        "minute": minute, "day": (minute // MIN_PER_DAY).astype(np.int64),
        "hour": (minute // 60 % 24).astype(np.int64),
        "dispatch_hour": ((minute + handling) // 60 % 24).astype(np.int64),
        "precinct": precinct.astype(np.int64), "priority": priority.astype(np.int64), **cols,
    })


def load_records(scenario: Scenario) -> Records:
    """Read the scenario's recorded calls with their durations and precincts.

    Args:
        scenario: A scenario whose ``data.calls_file`` is set.

    Returns:
        The calls as the model maps them.

    Raises:
        ValueError: ``data.calls_file: ...`` when there are no calls, or a DataError (also a
            ValueError) from reading them.
    """
    from sim.calls import load_calls
    from sim.city import build_layout
    from sim.rng import make_streams

    if not scenario.data.calls_file:
        raise ValueError("data.calls_file: calibration needs recorded calls")
    layout = build_layout(scenario.city, make_streams(scenario.run.seed).city, scenario.geo)
    calls = load_calls(scenario.data, layout, scenario.incidents)
    names = getattr(layout, "precinct_names", None) or [str(p) for p in
                                                        range(layout.n_precincts)]
    values = {k: calls.recorded_column(k).astype(float) for k in DURATIONS}
    if not scenario.data.col_response and "response" not in calls.recorded:
        values["response"] = values["handling"] + values["travel"]
    return Records(calls.minute.astype(float), calls.priority, layout.precinct[calls.cell],
                   values, calls.start, int(calls.days), list(names), calls.describe())
