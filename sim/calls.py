"""Recorded calls for service: reading, mapping onto the grid, replaying and fitting.

A calls file (CSV or Parquet) has one row per call: a time, a location (projected metres or
longitude/latitude) and a priority; optionally an observed response time. The ``[data]``
section maps column names and places the grid: cell ``(i, j)`` covers
``origin + [i, i + 1) * cell_size`` along each axis. Longitude/latitude are projected with an
equirectangular projection about the origin (``x = (lon - lon0) cos(lat0) 111,320 m``,
``y = (lat - lat0) 110,574 m``), accurate to well under a cell over a city.

Rows that cannot be used are dropped and counted by reason (never silently): an unparseable
time, a missing, non-numeric or non-finite location (``nan``, ``inf``, ``1e400``), a point
outside the city, an unknown priority. An observed response time that is not a finite number
of minutes ≥ 0 is read as missing (the call itself is kept) and counted.

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

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.call_times import (
    MAX_START_CHARS,
    check_zones,
    no_times_message,
    parse_start,
    parse_times,
)
from sim.datafile import SHORT, DataError, check_file, reason, shorten
from sim.incidents import MIN_PER_DAY
from sim.replay import FittedProcess, ReplayProcess, fit_process
from sim.scenario import CityConfig, DataConfig, IncidentConfig

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

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
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
        priority: Priority code (0 emergency, 1 urgent, 2 routine).
        response: Observed response time in minutes (NaN if not in the data or not a
            finite number ≥ 0).
        start: Timestamp of minute 0.
        rows_read: Rows in the file.
        dropped: Rows dropped, by reason.
        response_missing: Used calls without a usable response time (when
            ``data.col_response`` is set).
    """

    minute: np.ndarray
    cell: np.ndarray
    priority: np.ndarray
    response: np.ndarray
    start: pd.Timestamp
    rows_read: int
    dropped: dict[str, int] = field(default_factory=dict)
    response_missing: int = 0

    @property
    def days(self) -> float:
        """Span of the data in days (from minute 0 to the end of the last call's day)."""
        return float(np.floor(self.minute.max() / MIN_PER_DAY) + 1) if self.minute.size else 0.0

    def describe(self) -> str:
        """One line: rows read, used, dropped by reason."""
        drops = ", ".join(f"{k}: {v}" for k, v in self.dropped.items() if v) or "none"
        text = (f"{self.rows_read} calls read, {self.minute.size} used, "
                f"{sum(self.dropped.values())} dropped ({drops})")
        if self.response_missing:
            text += f"; {self.response_missing} without a usable response time"
        return text


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


def load_calls(cfg: DataConfig, city: CityConfig, classes: IncidentConfig | None = None) -> Calls:
    """Read the calls file and map it onto the grid.

    Args:
        cfg: The ``[data]`` section.
        city: The ``[city]`` section (size and cell size).
        classes: The ``[incidents]`` section, whose classes name the priority codes (default:
            emergency/urgent/routine or 1/2/3).

    Returns:
        The usable calls, sorted by time, with drop counts.

    Raises:
        DataError: One line starting with the field to fix (see the module docstring).
    """
    start = parse_start(cfg)  # the scenario's own value first: cheap, and no file needed
    loc_fields = ("col_x", "col_y") if cfg.coords == "xy" else ("col_lon", "col_lat")
    fields = ["col_time", *loc_fields, "col_priority"]
    if cfg.col_response:
        fields.append("col_response")
    column = {f: str(getattr(cfg, f)) for f in fields}
    available = table_columns(cfg.calls_file)
    for f, col in column.items():
        if col not in available:
            raise DataError(f"data.{f}: column {shorten(col)} not found "
                            f"(columns: {shorten(', '.join(available))})")
        if available.count(col) > 1:
            raise DataError(f"data.{f}: column {shorten(col)} appears "
                            f"{available.count(col)} times")
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
    a = _numbers(df, column[loc_fields[0]], loc_fields[0])
    b = _numbers(df, column[loc_fields[1]], loc_fields[1])
    ok = stage("missing location", np.isfinite(a) & np.isfinite(b), ok,
               lambda: f"data.{loc_fields[0]}: no usable rows: no call has a finite numeric "
                       f"location in columns {shorten(column[loc_fields[0]])} and "
                       f"{shorten(column[loc_fields[1]])}")
    with np.errstate(all="ignore"):  # huge coordinates overflow to inf: outside the city
        x_m, y_m = project(a, b, cfg)
        i = np.floor(x_m / city.cell_size_m)
        j = np.floor(y_m / city.cell_size_m)
    inside = (i >= 0) & (i < city.width) & (j >= 0) & (j < city.height)
    ok = stage("outside the city", inside, ok,
               lambda: _outside_message(x_m[ok], y_m[ok], cfg, city))
    codes = class_codes(classes)
    prio = df[cfg.col_priority].astype(str).str.strip().str.lower().map(codes)
    ok = stage("unknown priority", prio.notna().to_numpy(), ok,
               lambda: f"data.col_priority: no usable rows: no call has a known priority in "
                       f"column {shorten(cfg.col_priority)} (e.g. "
                       f"{shorten(df[cfg.col_priority].iloc[int(np.argmax(ok))], 30)}; use "
                       f"{shorten('/'.join(codes), 60)}, or give the classes' codes in "
                       "incidents.classes.NAME.codes)")
    response, missing = _responses(df, cfg, ok)
    t_ok = times[ok]
    if start is None:
        start = t_ok.min().normalize()
    try:
        minute = ((t_ok - start).dt.total_seconds() / 60.0).to_numpy()
    except (OverflowError, ValueError) as exc:  # out-of-bounds date arithmetic
        raise DataError(f"data.start: {start} is too far from the calls ({reason(exc)})") \
            from None
    before = minute < 0
    if before.all():
        raise DataError(f"data.start: {start} is after the last call ({t_ok.max()}); "
                        "there would be nothing to replay")
    if before.any():
        dropped["before start"] = int(before.sum())
    keep = ~before
    span = float(minute[keep].max()) / MIN_PER_DAY
    if span > MAX_SPAN_DAYS:
        if cfg.start:
            raise DataError(f"data.start: {start} is {span:,.0f} days before the last call "
                            f"({t_ok.max()}), more than the limit of {MAX_SPAN_DAYS:,}")
        raise DataError(f"data.col_time: the calls span {span:,.0f} days ({t_ok.min()} to "
                        f"{t_ok.max()}), more than the limit of {MAX_SPAN_DAYS:,}; drop the "
                        "outliers or set data.start")
    order = np.argsort(minute[keep], kind="stable")
    cell = (i[ok] * city.height + j[ok]).astype(np.int64)[keep][order]
    return Calls(minute[keep][order], cell, prio[ok].to_numpy(dtype=np.int64)[keep][order],
                 response[ok][keep][order], start, n, dropped,
                 int(missing[ok][keep].sum()) if cfg.col_response else 0)




# -- locations and response times ----------------------------------------------------------
def _numbers(df: pd.DataFrame, col: str, field_name: str) -> np.ndarray:
    """A column as floats: text that is not a number is NaN, overflowing numbers are inf."""
    try:
        with np.errstate(all="ignore"):
            values = pd.to_numeric(df[col], errors="coerce")
            return np.array(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"data.{field_name}: column {shorten(col)} does not hold numbers "
                        f"({reason(exc)})") from None


def _responses(df: pd.DataFrame, cfg: DataConfig, ok: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Observed response times (NaN unless finite and ≥ 0) and which are missing."""
    if not cfg.col_response:
        return np.full(len(df), np.nan), np.zeros(len(df), bool)
    response = _numbers(df, cfg.col_response, "col_response")
    usable = np.isfinite(response)
    usable[usable] = response[usable] >= 0
    missing = ~usable
    response[missing] = np.nan
    if missing[ok].all():
        example = shorten(df[cfg.col_response].iloc[int(np.argmax(ok))], 30)
        raise DataError(f"data.col_response: column {shorten(cfg.col_response)} has no usable "
                        f"response time (minutes ≥ 0) for any of the {int(ok.sum())} calls "
                        f"(e.g. {example}); leave data.col_response empty if there are none")
    return response, missing


def _outside_message(x: np.ndarray, y: np.ndarray, cfg: DataConfig, city: CityConfig) -> str:
    origin = "data.origin_x" if cfg.coords == "xy" else "data.origin_lon"
    w, h = city.width * city.cell_size_m, city.height * city.cell_size_m
    return (f"{origin}: no usable rows: every call is outside the {w:g} x {h:g} m city "
            f"(calls lie at x {np.min(x):.4g} to {np.max(x):.4g} m, y {np.min(y):.4g} to "
            f"{np.max(y):.4g} m from the origin); check data.coords and the origin")


def _drop(dropped: dict[str, int], why: str, good: np.ndarray, ok: np.ndarray) -> np.ndarray:
    bad = ok & ~good
    dropped[why] = int(bad.sum())
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
