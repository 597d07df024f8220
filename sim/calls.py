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

Time zones: times are used as written when none has a UTC offset, or all have the same one.
When all have an offset but the offsets differ (a daylight-saving change, mixed sources),
they are converted to one fixed offset: that of ``data.start`` if it has one, else that of
the earliest call; minutes since the start are exact elapsed times either way. A column that
mixes times with and without an offset is refused (the naive ones are ambiguous), and so is
a ``data.start`` with an offset for naive times, or without one for times with offsets.

Two uses:

* **replay** — :class:`ReplayProcess` makes the recorded calls the incident stream, so every
  strategy answers exactly the real demand (calls are by definition reported, at their time);
* **fit** — :func:`fit_process` estimates the risk surface (smoothed counts), the hourly and
  weekly profiles and the priority mix, and :class:`FittedProcess` simulates new streams.
"""

from __future__ import annotations

import errno
import re
import stat
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.incidents import MIN_PER_DAY, IncidentProcess
from sim.scenario import CityConfig, DataConfig, IncidentConfig

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
PRIORITY_CODES = {"emergency": 0, "urgent": 1, "routine": 2, "1": 0, "2": 1, "3": 2}
MAX_CALLS = 5_000_000
"""Most rows a calls file may have; checked before the whole file is in memory."""
MAX_SPAN_DAYS = 20 * 366
"""Longest span from minute 0 to the last call (days); beyond it a run would never end."""
CSV_CHUNK_ROWS = 500_000
"""Rows read from a CSV at a time (so :data:`MAX_CALLS` stops a huge file early)."""
SHORT = 80
"""Longest echoed value in an error message (characters)."""
MAX_START_CHARS = 64
"""A ``data.start`` longer than this is refused before any parsing."""

_ISO_OFFSET = re.compile(r"[T ]\d[\d:.,]*\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_MIXED_ZONES = re.compile(r"mixed time ?zones", re.IGNORECASE)
_RELATIVE_TIMES = ("now", "today", "yesterday", "tomorrow")


class DataError(ValueError):
    """A calls or street file cannot be used; the message names the file or column."""


def shorten(value: object, limit: int = SHORT) -> str:
    """Return a value as a quoted, escaped, one-line text of at most about ``limit`` characters.

    Long values keep their head and tail (the end of a file name is often what tells) around
    ``...``; newlines and control characters are escaped as in ``repr``.

    Args:
        value: Anything; non-strings are shown with ``str``.
        limit: Characters to keep.

    Returns:
        The quoted text, e.g. ``'2025-13-45'``.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        quoted = repr(text)
        if len(quoted) <= limit + 2:
            return quoted
    half = max((limit - 3) // 2, 1)
    head = repr(text[:half])[1:-1][:half]
    tail = repr(text[-half:])[1:-1][-half:]
    return f"'{head}...{tail}'"


def reason(exc: BaseException) -> str:
    """The first line of an exception's message, shortened and unquoted (never a traceback)."""
    lines = str(exc).strip().splitlines()
    return shorten(lines[0].strip() if lines else type(exc).__name__)[1:-1]


def check_file(path: str | Path, field_name: str) -> Path:
    """Return ``path`` if it names a non-empty regular file, else raise a one-line DataError.

    Args:
        path: The file name from the scenario.
        field_name: The scenario field it came from (starts the message).

    Returns:
        The path.
    """
    text = str(path)
    name = shorten(text)
    if "\x00" in text:
        raise DataError(f"{field_name}: the file name contains a NUL character ({name})")
    p = Path(text)
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{field_name}: no such file {name}") from None
    except PermissionError:
        raise DataError(f"{field_name}: cannot open {name} (permission denied)") from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise DataError(f"{field_name}: file name too long ({len(text):,} characters: "
                            f"{name})") from None
        raise DataError(f"{field_name}: cannot open {name} "
                        f"({exc.strerror or type(exc).__name__})") from None
    except ValueError:  # a name the file system cannot take (e.g. not encodable)
        raise DataError(f"{field_name}: {name} is not a usable file name") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{field_name}: {name} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{field_name}: {name} is not a regular file")
    if st.st_size == 0:
        raise DataError(f"{field_name}: {name} is empty (0 bytes)")
    return p


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


def load_calls(cfg: DataConfig, city: CityConfig) -> Calls:
    """Read the calls file and map it onto the grid.

    Args:
        cfg: The ``[data]`` section.
        city: The ``[city]`` section (size and cell size).

    Returns:
        The usable calls, sorted by time, with drop counts.

    Raises:
        DataError: One line starting with the field to fix (see the module docstring).
    """
    start = _parse_start(cfg)  # the scenario's own value first: cheap, and no file needed
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

    times = _parse_times(df[cfg.col_time], cfg, None if start is None else start.tzinfo)
    ok = stage("unparseable time", times.notna().to_numpy(), np.ones(n, bool),
               lambda: _no_times_message(df[cfg.col_time], cfg))
    _check_zones(times, ok, start, cfg)
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
    prio = df[cfg.col_priority].astype(str).str.strip().str.lower().map(PRIORITY_CODES)
    ok = stage("unknown priority", prio.notna().to_numpy(), ok,
               lambda: f"data.col_priority: no usable rows: no call has a known priority in "
                       f"column {shorten(cfg.col_priority)} (e.g. "
                       f"{shorten(df[cfg.col_priority].iloc[int(np.argmax(ok))], 30)}; use "
                       "emergency/urgent/routine or 1/2/3)")
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


# -- times ---------------------------------------------------------------------------------
def _parse_start(cfg: DataConfig) -> pd.Timestamp | None:
    """``data.start`` as a timestamp (ISO 8601, or in ``data.time_format``); None if empty."""
    text = cfg.start.strip()
    if not text:
        return None
    if len(text) > MAX_START_CHARS:
        raise DataError(f"data.start: {shorten(text)} is not a date and time "
                        f"({len(text):,} characters)")
    if text.lower() in _RELATIVE_TIMES:
        raise DataError(f"data.start: {shorten(text)} changes from run to run; give a date and "
                        "time such as 2025-01-01T00:00:00")
    for fmt in dict.fromkeys(("ISO8601", cfg.time_format)):
        if not fmt:
            continue
        try:
            ts = pd.to_datetime(text, format=fmt)
        except (ValueError, TypeError, OverflowError, re.error):
            continue
        if isinstance(ts, pd.Timestamp) and not pd.isna(ts):
            return ts
    also = " or in data.time_format" if cfg.time_format else ""
    raise DataError(f"data.start: {shorten(text)} is not an ISO 8601 date and time{also} "
                    "(e.g. 2025-01-01T00:00:00)")


def _parse_times(col: pd.Series, cfg: DataConfig, start_tz: object) -> pd.Series:
    """Parse the time column; unparseable values become NaT (see the module on time zones)."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return col  # Parquet timestamps: already times
    values = col.astype(str)  # numbers would be read as epochs: parse their text instead
    fmt = cfg.time_format or "ISO8601"
    try:
        with warnings.catch_warnings():  # pandas < 3 warns, then returns objects, on mixed zones
            warnings.filterwarnings("error", message=".*mixed time ?zones", category=FutureWarning)
            times = pd.to_datetime(values, format=fmt, errors="coerce")
        if times.dtype == object:
            raise ValueError("mixed time zones")
        return times
    except (ValueError, FutureWarning) as exc:
        if not _MIXED_ZONES.search(str(exc)):
            raise _format_error(cfg, exc) from None
    except re.error as exc:  # e.g. a directive repeated
        raise _format_error(cfg, exc) from None
    return _mixed_zones(values, fmt, cfg, start_tz)


def _format_error(cfg: DataConfig, exc: BaseException) -> DataError:
    if cfg.time_format:
        return DataError(f"data.time_format: {shorten(cfg.time_format)} is not a usable "
                         f"strptime format ({reason(exc)})")
    return DataError(f"data.col_time: cannot read column {shorten(cfg.col_time)} as times "
                     f"({reason(exc)})")


def _mixed_zones(values: pd.Series, fmt: str, cfg: DataConfig, start_tz: object) -> pd.Series:
    """Times whose UTC offsets differ: one fixed offset, or refuse a naive/aware mix."""
    utc = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
    parsed = utc.notna().to_numpy()
    if not parsed.any():
        return utc
    if fmt == "ISO8601":  # offsets are optional in ISO 8601: some rows may have none
        aware = values.str.strip().str.contains(_ISO_OFFSET, na=False).to_numpy(dtype=bool)
        naive = parsed & ~aware
        if naive.any() and (parsed & aware).any():
            eg_aware = values[parsed & aware].iloc[0]
            eg_naive = values[naive].iloc[0]
            raise DataError(f"data.col_time: column {shorten(cfg.col_time)} mixes times with a "
                            f"UTC offset ({int((parsed & aware).sum())}, e.g. "
                            f"{shorten(eg_aware, 40)}) and without ({int(naive.sum())}, e.g. "
                            f"{shorten(eg_naive, 40)}); give all or none an offset")
    tz = start_tz
    if tz is None:  # the offset of the earliest call
        first = values.loc[[utc.idxmin()]]
        tz = pd.to_datetime(first, format=fmt, errors="coerce").dt.tz or "UTC"
    return utc.dt.tz_convert(tz)


def _check_zones(times: pd.Series, ok: np.ndarray, start: pd.Timestamp | None,
                 cfg: DataConfig) -> None:
    """``data.start`` and the times must both have a UTC offset, or neither."""
    if start is None:
        return
    aware = isinstance(times.dtype, pd.DatetimeTZDtype)
    col = shorten(cfg.col_time)
    if start.tzinfo is not None and not aware:
        raise DataError(f"data.start: {shorten(cfg.start)} has a UTC offset but the times in "
                        f"column {col} do not; drop the offset")
    if start.tzinfo is None and aware:
        example = times[ok].iloc[0]
        offset = example.strftime("%z")
        raise DataError(f"data.start: {shorten(cfg.start)} has no UTC offset but the times in "
                        f"column {col} do (e.g. {example}); add one such as "
                        f"{start.isoformat()}{offset[:3]}:{offset[3:5]}")


def _no_times_message(col: pd.Series, cfg: DataConfig) -> str:
    first = shorten(col.iloc[0], 40)
    if cfg.time_format:
        return (f"data.time_format: no usable rows: {shorten(cfg.time_format, 40)} matches none "
                f"of the {len(col)} times in column {shorten(cfg.col_time)} (first: {first})")
    return (f"data.col_time: no usable rows: none of the {len(col)} values in column "
            f"{shorten(cfg.col_time)} is an ISO 8601 time (first: {first}); set "
            "data.time_format")


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

