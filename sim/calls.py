"""Recorded calls for service: reading, mapping onto the grid, replaying and fitting.

A calls file (CSV or Parquet) has one row per call: a time, a location (projected metres or
longitude/latitude) and a priority; optionally an observed response time. The ``[data]``
section maps column names and places the grid: cell ``(i, j)`` covers
``origin + [i, i + 1) * cell_size`` along each axis. Longitude/latitude are projected with an
equirectangular projection about the origin (``x = (lon - lon0) cos(lat0) 111,320 m``,
``y = (lat - lat0) 110,574 m``), accurate to well under a cell over a city.

Rows that cannot be used are dropped and counted by reason (never silently): an unparseable
time, a missing or non-numeric location, a point outside the city, an unknown priority. A
missing column or an unreadable file is an error naming it.

Two uses:

* **replay** — :class:`ReplayProcess` makes the recorded calls the incident stream, so every
  strategy answers exactly the real demand (calls are by definition reported, at their time);
* **fit** — :func:`fit_process` estimates the risk surface (smoothed counts), the hourly and
  weekly profiles and the priority mix, and :class:`FittedProcess` simulates new streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.incidents import MIN_PER_DAY, IncidentProcess
from sim.scenario import CityConfig, DataConfig, IncidentConfig

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
PRIORITY_CODES = {"emergency": 0, "urgent": 1, "routine": 2, "1": 0, "2": 1, "3": 2}


class DataError(ValueError):
    """A calls or street file cannot be used; the message names the file or column."""


@dataclass
class Calls:
    """Calls mapped onto the grid.

    Attributes:
        minute: Minutes since the start (sorted).
        cell: Flat cell index of each call.
        priority: Priority code (0 emergency, 1 urgent, 2 routine).
        response: Observed response time in minutes (NaN if not in the data).
        start: Timestamp of minute 0.
        rows_read: Rows in the file.
        dropped: Rows dropped, by reason.
    """

    minute: np.ndarray
    cell: np.ndarray
    priority: np.ndarray
    response: np.ndarray
    start: pd.Timestamp
    rows_read: int
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def days(self) -> float:
        """Span of the data in days (from minute 0 to the end of the last call's day)."""
        return float(np.floor(self.minute.max() / MIN_PER_DAY) + 1) if self.minute.size else 0.0

    def describe(self) -> str:
        """One line: rows read, used, dropped by reason."""
        drops = ", ".join(f"{k}: {v}" for k, v in self.dropped.items() if v) or "none"
        return (f"{self.rows_read} calls read, {self.minute.size} used, "
                f"{sum(self.dropped.values())} dropped ({drops})")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file as strings-or-numbers, errors as one-line DataError."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"data.calls_file: no such file {p}")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(p)
        return pd.read_csv(p, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise DataError(f"data.calls_file: cannot read {p} ({type(exc).__name__})") from None


def load_calls(cfg: DataConfig, city: CityConfig) -> Calls:
    """Read the calls file and map it onto the grid.

    Args:
        cfg: The ``[data]`` section.
        city: The ``[city]`` section (size and cell size).

    Returns:
        The usable calls, sorted by time, with drop counts.
    """
    df = read_table(cfg.calls_file)
    loc_cols = (cfg.col_x, cfg.col_y) if cfg.coords == "xy" else (cfg.col_lon, cfg.col_lat)
    needed = [cfg.col_time, *loc_cols, cfg.col_priority] + ([cfg.col_response]
                                                          if cfg.col_response else [])
    for col in needed:
        if col not in df.columns:
            raise DataError(f"data.calls_file: column {col!r} not found "
                            f"(columns: {', '.join(map(str, df.columns))})")
    dropped: dict[str, int] = {}
    times = _parse_times(df[cfg.col_time], cfg.time_format)
    ok = _drop(dropped, "unparseable time", times.notna().to_numpy(), np.ones(len(df), bool))
    a = pd.to_numeric(df[loc_cols[0]], errors="coerce").to_numpy(dtype=float)
    b = pd.to_numeric(df[loc_cols[1]], errors="coerce").to_numpy(dtype=float)
    ok = _drop(dropped, "missing location", np.isfinite(a) & np.isfinite(b), ok)
    x_m, y_m = project(a, b, cfg)
    i = np.floor(x_m / city.cell_size_m)
    j = np.floor(y_m / city.cell_size_m)
    inside = (i >= 0) & (i < city.width) & (j >= 0) & (j < city.height)
    ok = _drop(dropped, "outside the city", inside, ok)
    prio = df[cfg.col_priority].astype(str).str.strip().str.lower().map(PRIORITY_CODES)
    ok = _drop(dropped, "unknown priority", prio.notna().to_numpy(), ok)
    response = (pd.to_numeric(df[cfg.col_response], errors="coerce").to_numpy(dtype=float)
                if cfg.col_response else np.full(len(df), np.nan))
    if not ok.any():
        raise DataError(f"data.calls_file: no usable rows ({_drops_text(dropped)})")
    start = pd.Timestamp(cfg.start) if cfg.start else times[ok].min().normalize()
    minute = ((times[ok] - start).dt.total_seconds() / 60.0).to_numpy()
    before = minute < 0
    if before.any():
        dropped["before start"] = int(before.sum())
    keep = ~before
    order = np.argsort(minute[keep], kind="stable")
    cell = (i[ok] * city.height + j[ok]).astype(np.int64)[keep][order]
    return Calls(minute[keep][order], cell, prio[ok].to_numpy(dtype=np.int64)[keep][order],
                 response[ok][keep][order], start, len(df), dropped)


def _parse_times(col: pd.Series, fmt: str) -> pd.Series:
    values = col.astype(str) if col.dtype == object else col
    if fmt:
        return pd.to_datetime(values, format=fmt, errors="coerce")
    return pd.to_datetime(values, errors="coerce", format="ISO8601")


def _drop(dropped: dict[str, int], reason: str, good: np.ndarray, ok: np.ndarray) -> np.ndarray:
    bad = ok & ~good
    dropped[reason] = int(bad.sum())
    return ok & good


def _drops_text(dropped: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in dropped.items() if v) or "file is empty"


def project(a: np.ndarray, b: np.ndarray, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Turn location columns into metres east and north of the city's origin."""
    if cfg.coords == "xy":
        return a - cfg.origin_x, b - cfg.origin_y
    x = (a - cfg.origin_lon) * np.cos(np.radians(cfg.origin_lat)) * M_PER_DEG_LON
    y = (b - cfg.origin_lat) * M_PER_DEG_LAT
    return x, y


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
        rng = self.rng
        u_prog = rng.random(n)
        extra = rng.random((n, 3))
        normals = rng.standard_normal((n, 3))
        prio = self.calls.priority[lo:hi]
        return {
            "t_occur": self.calls.minute[lo:hi], "cell": self.calls.cell[lo:hi],
            "priority": prio, "in_progress": u_prog < self.in_progress_p[prio],
            "u_report": extra[:, 0], "u_clear": extra[:, 1], "u_victim": extra[:, 2],
            "z_scene": normals[:, 0], "z_chain": normals[:, 1], "z_report": normals[:, 2],
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
    recorded_mix = np.bincount(calls.priority, minlength=3).astype(float)
    true_counts = recorded_mix / np.maximum(report_p, 1e-6)
    return {
        "risk": risk, "hourly": hourly / hourly.mean(), "weekly": weekly,
        "priority_mix": true_counts / true_counts.sum(),
        "true_per_day": float(true_counts.sum() / n_days) * (1 - self_excitation),
        "start_weekday": calls.start.weekday(),
    }

