"""Recorded calls for service: reading, mapping onto the grid, replaying and fitting.

A calls file (CSV or Parquet) has one row per call: a time, a location (projected metres or
longitude/latitude) and a priority; optionally an observed response time. The ``[data]``
section maps column names and places the grid: cell ``(i, j)`` covers
``origin + [i, i + 1) * cell_size`` along each axis; in a real city the coordinates are
projected from ``data.crs`` onto the layout's frame (see :mod:`sim.call_places`). Priority
codes name the incident classes (``incidents.classes.NAME.codes``); ``data.unknown_class``
takes the codes no class knows. Recorded durations (handling, travel, on scene, response)
are read by :mod:`sim.call_times`.

Rows that cannot be used are dropped and counted by reason (never silently): an unparseable
time, a missing, non-numeric or non-finite location (``nan``, ``inf``, ``1e400``), a point
outside the city (or in a masked cell), an unknown priority (unless ``data.unknown_class``).
Calls before ``data.start`` are counted apart (``before_start``), and a replay counts the
calls after its horizon (:meth:`Calls.within`). A recorded duration that is not usable is
read as missing (the call itself is kept) and counted.

Everything else is a :class:`DataError`: one short line that starts with the ``[data]`` field
to fix (``data.calls_file: ...``, ``data.col_time: ...``, ``data.start: ...``), with any echoed
value shortened by :func:`shorten`. That covers a file that is missing, a folder, unreadable,
empty, binary, not valid CSV or Parquet (a row longer than the header included), or has more
than :data:`MAX_CALLS` rows (checked from the Parquet metadata, or while reading a CSV in
chunks); a missing or duplicated column; an invalid ``time_format``; no usable row at all (the
message names the step that rejected the last rows); a ``start`` that is not an ISO 8601 time
(or one in ``time_format``), is after the last call, or lies more than :data:`MAX_SPAN_DAYS`
before it.

Time zones: see :mod:`sim.call_times`.

The calls feed two uses (:mod:`sim.replay`): **replay** (:class:`ReplayProcess`, the
recorded calls as the incident stream) and **fit** (:func:`fit_process` and
:class:`FittedProcess`, a synthetic process fitted to them).

The helpers shared with other data files (:class:`DataError`, :func:`shorten`,
:func:`reason`, :func:`check_file`) live in :mod:`sim.datafile`, the time parsing in
:mod:`sim.call_times` and the incident processes in :mod:`sim.replay`; all of them are
re-exported here, so ``from sim.calls import ...`` keeps working for every name.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.call_places import M_PER_DEG_LAT, M_PER_DEG_LON, Grid, locate, project
from sim.call_times import (
    MAX_START_CHARS,
    check_zones,
    duration_field,
    duration_fields,
    no_durations_message,
    no_times_message,
    parse_start,
    parse_times,
    recorded_durations,
)
from sim.datafile import SHORT, DataError, DataWarning, check_file, reason, shorten
from sim.incidents import MIN_PER_DAY
from sim.replay import FittedProcess, ReplayProcess, fit_process
from sim.scenario import DataConfig, IncidentConfig

__all__ = [
    "CSV_CHUNK_ROWS",
    "MAX_CALLS",
    "MAX_SPAN_DAYS",
    "MAX_START_CHARS",
    "M_PER_DEG_LAT",
    "M_PER_DEG_LON",
    "PRIORITY_CODES",
    "SHORT",
    "Calls",
    "DataError",
    "FittedProcess",
    "ReplayProcess",
    "check_file",
    "fit_process",
    "load_calls",
    "project",
    "read_table",
    "reason",
    "shorten",
    "table_columns",
]

PRIORITY_CODES = {"emergency": 0, "urgent": 1, "routine": 2, "1": 0, "2": 1, "3": 2}
MAX_CALLS = 5_000_000
"""Most rows a calls file may have; checked before the whole file is in memory."""
MAX_SPAN_DAYS = 20 * 366
"""Longest span from minute 0 to the last call (days); beyond it a run would never end."""
CSV_CHUNK_ROWS = 500_000
"""Rows read from a CSV at a time (so :data:`MAX_CALLS` stops a huge file early)."""


@dataclass
class Calls:
    """Calls mapped onto the grid.

    Attributes:
        minute: Minutes since the start (sorted).
        cell: Flat cell index of each call.
        priority: Class index of each call (the classes' priority order).
        response: Observed response time in minutes (NaN if not in the data or not usable).
        start: Timestamp of minute 0.
        rows_read: Rows in the file.
        dropped: Rows dropped, by reason.
        response_missing: Used calls without a usable response time (when
            ``data.col_response`` is set).
        recorded: Recorded durations by kind (``handling``, ``travel``, ``on_scene``,
            ``response``; see :mod:`sim.call_times`), NaN where missing; only the kinds the
            configured columns give.
        bad: Per kind, which calls had a value that was not usable (read as missing).
        unknown_mapped: Whether each call's code was unknown and given ``data.unknown_class``.
        before_start: Calls before minute 0 (``data.start``), not part of the calls.
        after_horizon: Calls at or after the run's horizon, not simulated (see :meth:`within`).
    """

    minute: np.ndarray
    cell: np.ndarray
    priority: np.ndarray
    response: np.ndarray
    start: pd.Timestamp
    rows_read: int
    dropped: dict[str, int] = field(default_factory=dict)
    response_missing: int = 0
    recorded: dict[str, np.ndarray] = field(default_factory=dict)
    bad: dict[str, np.ndarray] = field(default_factory=dict)
    unknown_mapped: np.ndarray | None = None
    before_start: int = 0
    after_horizon: int = 0

    @property
    def days(self) -> float:
        """Span of the data in days (from minute 0 to the end of the last call's day)."""
        return float(np.floor(self.minute.max() / MIN_PER_DAY) + 1) if self.minute.size else 0.0

    def describe(self) -> str:
        """One line: rows read, used, dropped by reason, not simulated."""
        drops = ", ".join(f"{k}: {v}" for k, v in self.dropped.items() if v) or "none"
        text = (f"{self.rows_read} calls read, {self.minute.size} used, "
                f"{sum(self.dropped.values())} dropped ({drops})")
        if self.before_start:
            text += f", {self.before_start} before data.start"
        if self.after_horizon:
            text += f", {self.after_horizon} after the horizon"
        if self.response_missing:
            text += f"; {self.response_missing} without a usable response time"
        return text

    def recorded_column(self, kind: str) -> np.ndarray:
        """The recorded ``kind`` durations (NaN for every call if the data do not give them)."""
        return self.recorded.get(kind, np.full(self.minute.size, np.nan))

    def within(self, days: int) -> Calls:
        """The calls a run of ``days`` days simulates (minute < ``days`` * 1440).

        The others are counted in ``after_horizon`` and told in a :class:`DataWarning`
        (``data.calls_file: ... lie after the 30-day horizon ...``).
        """
        keep = self.minute < days * MIN_PER_DAY
        after = int(self.minute.size - keep.sum())
        if after == 0:
            return self
        total = self.minute.size + self.before_start
        warnings.warn(f"data.calls_file: {after:,} of {total:,} calls lie after the "
                      f"{days:,}-day horizon and are not simulated (run.days = "
                      f"{int(self.days):,} would cover them)", DataWarning, stacklevel=2)
        return self._subset(keep, after)

    def _subset(self, keep: np.ndarray, after: int) -> Calls:
        mapped = None if self.unknown_mapped is None else self.unknown_mapped[keep]
        return dataclasses.replace(
            self, minute=self.minute[keep], cell=self.cell[keep], priority=self.priority[keep],
            response=self.response[keep], recorded={k: v[keep] for k, v in self.recorded.items()},
            bad={k: v[keep] for k, v in self.bad.items()}, unknown_mapped=mapped,
            response_missing=int(np.isnan(self.response[keep]).sum())
            if self.response_missing else 0, after_horizon=self.after_horizon + after)


def warn_losses(calls: Calls, cfg: DataConfig) -> None:
    """Tell the rows dropped and the recorded durations read as missing (DataWarnings)."""
    dropped = sum(calls.dropped.values())
    if dropped:
        warnings.warn(f"data.calls_file: {dropped:,} of {calls.rows_read:,} rows dropped "
                      f"({_drops_text(calls.dropped)})", DataWarning, stacklevel=3)
    for kind, bad in calls.bad.items():
        n_bad = int(bad.sum())
        if n_bad:
            warnings.warn(f"data.{duration_field(cfg, kind)}: {n_bad:,} of "
                          f"{calls.minute.size:,} calls have a {kind} time that is not usable "
                          f"(not a number or time, negative, or above data.max_recorded_min = "
                          f"{cfg.max_recorded_min:g} min), read as missing", DataWarning,
                          stacklevel=3)


# -- reading -------------------------------------------------------------------------------
def _is_parquet(p: Path) -> bool:
    return p.suffix.lower() in (".parquet", ".pq")


@contextmanager
def _reading(p: Path, kind: str) -> Iterator[None]:
    """Turn the failures of reading ``p`` as ``kind`` into one-line DataErrors."""
    import pyarrow as pa

    name = shorten(p)
    try:
        yield
    except DataError:
        raise
    except UnicodeDecodeError:
        raise DataError(f"data.calls_file: {name} is not UTF-8 text (not a {kind} file?)") \
            from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data.calls_file: {name} is empty (no header line)") from None
    except pd.errors.ParserWarning:  # pandas would shift the columns into an index
        raise DataError(f"data.calls_file: {name} is not valid {kind} (the first row has more "
                        "fields than the header)") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"data.calls_file: {name} is not valid {kind} ({reason(exc)})") \
            from None
    except MemoryError:
        raise DataError(f"data.calls_file: {name} is too large to read into memory") from None
    except OSError as exc:
        raise DataError(f"data.calls_file: cannot read {name} "
                        f"({exc.strerror or reason(exc)})") from None
    except (pa.ArrowException, ValueError, TypeError, OverflowError, KeyError) as exc:
        raise DataError(f"data.calls_file: {name} is not a valid {kind} file "
                        f"({type(exc).__name__}: {reason(exc)})") from None


def table_columns(path: str | Path) -> list[str]:
    """Column names of a calls file (the CSV header or the Parquet schema), cheaply.

    Also refuses a Parquet file with more than :data:`MAX_CALLS` rows (from its metadata),
    a binary file named as a CSV, and a CSV named file that is Parquet.

    Args:
        path: The calls file.

    Returns:
        The column names, as in the file.
    """
    p = check_file(path, "data.calls_file")
    if _is_parquet(p):
        import pyarrow.parquet as pq

        with _reading(p, "Parquet"):
            meta = pq.read_metadata(p)
            names = [str(c) for c in meta.schema.to_arrow_schema().names]
        if meta.num_rows > MAX_CALLS:
            raise DataError(f"data.calls_file: {meta.num_rows:,} calls is more than the limit "
                            f"of {MAX_CALLS:,} (sim.calls.MAX_CALLS)")
        return names
    with _reading(p, "CSV"):
        with p.open("rb") as fh:
            sniff = fh.read(1 << 16)
        if sniff.startswith(b"PAR1"):
            raise DataError(f"data.calls_file: {shorten(p)} is a Parquet file; give it a "
                            ".parquet name")
        if b"\x00" in sniff:
            raise DataError(f"data.calls_file: {shorten(p)} is binary, not a CSV text file "
                            "(NUL bytes; UTF-16 text must be saved as UTF-8)")
        head = pd.read_csv(p, nrows=0, dtype=str, keep_default_na=False)
    return [str(c) for c in head.columns]


def read_table(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV (as text) or Parquet calls file; every failure is a one-line DataError.

    Args:
        path: The calls file.
        columns: Columns to read (all if None); they must exist (see :func:`table_columns`).

    Returns:
        The table; more than :data:`MAX_CALLS` rows is an error, found before the whole file
        is read.
    """
    p = check_file(path, "data.calls_file")
    available = table_columns(p)
    cols = None if columns is None else [c for c in dict.fromkeys(columns) if c in available]
    if _is_parquet(p):
        with _reading(p, "Parquet"):
            return pd.read_parquet(p, columns=cols)
    parts: list[pd.DataFrame] = []
    n = 0
    # Every column is parsed (``usecols`` would silently read ragged rows by position) and a
    # row longer than the header is an error, not a shifted implicit index.
    with _reading(p, "CSV"), warnings.catch_warnings():
        warnings.filterwarnings("error", category=pd.errors.ParserWarning)
        with pd.read_csv(p, dtype=str, keep_default_na=False, index_col=False,
                         chunksize=max(1, min(CSV_CHUNK_ROWS, MAX_CALLS + 1))) as reader:
            for part in reader:
                n += len(part)
                if n > MAX_CALLS:
                    raise DataError(f"data.calls_file: at least {n:,} calls is more than the "
                                    f"limit of {MAX_CALLS:,} (sim.calls.MAX_CALLS)")
                parts.append(part if cols is None else part[cols])
    if not parts:
        return pd.DataFrame(columns=cols or available, dtype=str)
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def class_codes(classes: IncidentConfig | None) -> dict[str, int]:
    """Values of the priority column (lower case) -> class index, from the incident classes.

    A class is known by its name and by each of its ``codes``; without classes, the default
    three (emergency/urgent/routine or 1/2/3).
    """
    if classes is None:
        return dict(PRIORITY_CODES)
    out: dict[str, int] = {}
    for k, (name, c) in enumerate(classes.classes.items()):
        for code in (name, *c.codes):
            out.setdefault(str(code).strip().lower(), k)
    return out


def load_calls(cfg: DataConfig, grid: Grid, classes: IncidentConfig | None = None) -> Calls:
    """Read the calls file and map it onto the grid.

    Args:
        cfg: The ``[data]`` section.
        grid: The city's layout (its size, mask and frame) or, for the synthetic city, the
            ``[city]`` section.
        classes: The ``[incidents]`` section, whose classes name the priority codes (default:
            emergency/urgent/routine or 1/2/3).

    Returns:
        The usable calls, sorted by time, with drop counts.

    Raises:
        DataError: One line starting with the field to fix (see the module docstring).
    """
    start = parse_start(cfg)  # the scenario's own value first: cheap, and no file needed
    codes = class_codes(classes)
    unknown = _unknown_class(cfg, classes)
    column = _columns(cfg)
    df = read_table(cfg.calls_file, list(column.values()))
    n = len(df)
    if n == 0:
        raise DataError(f"data.calls_file: {shorten(cfg.calls_file)} has a header but no calls")
    dropped: dict[str, int] = {}

    def stage(why: str, good: np.ndarray, ok: np.ndarray, message: Callable[[], str]
              ) -> np.ndarray:
        """Drop and count the rows failing ``good``; none left is an error naming the step."""
        kept = _drop(dropped, why, good, ok)
        if not kept.any():
            raise DataError(f"{message()} ({_drops_text(dropped)})")
        return kept

    times = parse_times(df[cfg.col_time], cfg, None if start is None else start.tzinfo)
    ok = stage("unparseable time", times.notna().to_numpy(), np.ones(n, bool),
               lambda: no_times_message(df[cfg.col_time], cfg))
    check_zones(times, ok, start, cfg)
    a, b = (_numbers(df, column[f], f) for f in _location_fields(cfg))
    ok = stage("missing location", np.isfinite(a) & np.isfinite(b), ok,
               lambda: _no_location_message(cfg))
    cell, inside, outside_message = locate(a, b, cfg, grid)
    ok = stage("outside the city", inside, ok, lambda: outside_message(ok))
    prio = df[cfg.col_priority].astype(str).str.strip().str.lower().map(codes)
    mapped = prio.isna().to_numpy() & (unknown is not None)
    prio = prio.fillna(-1 if unknown is None else unknown)
    ok = stage("unknown priority", prio.to_numpy() >= 0, ok,
               lambda: _no_priority_message(df, cfg, ok, codes))
    recorded, bad = _durations(df, cfg, times, ok)
    minute, start = _minutes(times, ok, start, cfg)
    keep = minute >= 0
    order = np.flatnonzero(ok)[keep][np.argsort(minute[keep], kind="stable")]
    response = recorded.get("response", np.full(n, np.nan))
    return Calls(np.sort(minute[keep], kind="stable"), cell[order].astype(np.int64),
                 prio.to_numpy(dtype=np.int64)[order], response[order], start, n, dropped,
                 int(np.isnan(response[order]).sum()) if cfg.col_response else 0,
                 {k: v[order] for k, v in recorded.items()}, {k: v[order] for k, v in bad.items()},
                 mapped[order] if unknown is not None else None, int((~keep).sum()))


def _columns(cfg: DataConfig) -> dict[str, str]:
    """The ``[data]`` column fields to read -> column names, each checked to be in the file."""
    fields = ["col_time", *_location_fields(cfg), "col_priority", *duration_fields(cfg)]
    column = {f: str(getattr(cfg, f)) for f in fields}
    available = table_columns(cfg.calls_file)
    for f, col in column.items():
        if col not in available:
            raise DataError(f"data.{f}: column {shorten(col)} not found "
                            f"(columns: {shorten(', '.join(available))})")
        if available.count(col) > 1:
            raise DataError(f"data.{f}: column {shorten(col)} appears "
                            f"{available.count(col)} times")
    return column


def _location_fields(cfg: DataConfig) -> tuple[str, str]:
    return ("col_x", "col_y") if cfg.coords == "xy" else ("col_lon", "col_lat")


def _unknown_class(cfg: DataConfig, classes: IncidentConfig | None) -> int | None:
    """Index of ``data.unknown_class`` (None when empty: unknown codes are dropped)."""
    if not cfg.unknown_class:
        return None
    names = list(classes.names) if classes is not None else ["emergency", "urgent", "routine"]
    if cfg.unknown_class not in names:
        raise DataError(f"data.unknown_class: {shorten(cfg.unknown_class)} is not an incident "
                        f"class (classes: {shorten(', '.join(names))})")
    return names.index(cfg.unknown_class)


def _durations(df: pd.DataFrame, cfg: DataConfig, times: pd.Series, ok: np.ndarray
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Recorded durations of the rows; a configured column with no usable value is an error."""
    recorded, bad = recorded_durations(df, cfg, times)
    for kind, value in recorded.items():
        derived_response = kind == "response" and not cfg.col_response
        if derived_response or np.isfinite(value[ok]).any():
            continue
        if kind == "response":
            example = shorten(df[cfg.col_response].iloc[int(np.argmax(ok))], 30)
            raise DataError(f"data.col_response: column {shorten(cfg.col_response)} has no "
                            f"usable response time (minutes ≥ 0) for any of the "
                            f"{int(ok.sum())} calls (e.g. {example}); leave data.col_response "
                            "empty if there are none")
        raise DataError(no_durations_message(cfg, kind, int(ok.sum())))
    return recorded, bad


def _minutes(times: pd.Series, ok: np.ndarray, start: pd.Timestamp | None, cfg: DataConfig
             ) -> tuple[np.ndarray, pd.Timestamp]:
    """Minutes since minute 0 of the usable rows, and minute 0 (checked against the span)."""
    t_ok = times[ok]
    if start is None:
        start = t_ok.min().normalize()
    try:
        minute = ((t_ok - start).dt.total_seconds() / 60.0).to_numpy()
    except (OverflowError, ValueError) as exc:  # out-of-bounds date arithmetic
        raise DataError(f"data.start: {start} is too far from the calls ({reason(exc)})") \
            from None
    if (minute < 0).all():
        raise DataError(f"data.start: {start} is after the last call ({t_ok.max()}); "
                        "there would be nothing to replay")
    span = float(minute.max()) / MIN_PER_DAY
    if span > MAX_SPAN_DAYS:
        if cfg.start:
            raise DataError(f"data.start: {start} is {span:,.0f} days before the last call "
                            f"({t_ok.max()}), more than the limit of {MAX_SPAN_DAYS:,}")
        raise DataError(f"data.col_time: the calls span {span:,.0f} days ({t_ok.min()} to "
                        f"{t_ok.max()}), more than the limit of {MAX_SPAN_DAYS:,}; drop the "
                        "outliers or set data.start")
    return minute, start


def _no_location_message(cfg: DataConfig) -> str:
    fa, fb = _location_fields(cfg)
    return (f"data.{fa}: no usable rows: no call has a finite numeric location in columns "
            f"{shorten(getattr(cfg, fa))} and {shorten(getattr(cfg, fb))}")


def _no_priority_message(df: pd.DataFrame, cfg: DataConfig, ok: np.ndarray,
                         codes: dict[str, int]) -> str:
    return (f"data.col_priority: no usable rows: no call has a known priority in column "
            f"{shorten(cfg.col_priority)} (e.g. "
            f"{shorten(df[cfg.col_priority].iloc[int(np.argmax(ok))], 30)}; use "
            f"{shorten('/'.join(codes), 60)}, incidents.classes.NAME.codes or "
            "data.unknown_class)")


# -- helpers -------------------------------------------------------------------------------
def _numbers(df: pd.DataFrame, col: str, field_name: str) -> np.ndarray:
    """A column as floats: text that is not a number is NaN, overflowing numbers are inf."""
    try:
        with np.errstate(all="ignore"):
            values = pd.to_numeric(df[col], errors="coerce")
            return np.array(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"data.{field_name}: column {shorten(col)} does not hold numbers "
                        f"({reason(exc)})") from None


def _drop(dropped: dict[str, int], why: str, good: np.ndarray, ok: np.ndarray) -> np.ndarray:
    bad = ok & ~good
    dropped[why] = int(bad.sum())
    return ok & good


def _drops_text(dropped: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in dropped.items() if v) or "file is empty"
