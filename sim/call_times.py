"""Times of recorded calls: the ``data.col_time`` column, ``data.time_format`` and ``data.start``.

Every problem is a one-line :class:`~sim.datafile.DataError` starting with the field to fix;
a value that is not a time becomes NaT and :func:`sim.calls.load_calls` drops and counts it.

Time zones: times are used as written when none has a UTC offset, or all have the same one.
When all have an offset but the offsets differ (a daylight-saving change, mixed sources),
they are converted to one fixed offset: that of ``data.start`` if it has one, else that of
the earliest call; minutes since the start are exact elapsed times either way. A column that
mixes times with and without an offset is refused (the naive ones are ambiguous), and so is
a ``data.start`` with an offset for naive times, or without one for times with offsets.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from sim.datafile import DataError, reason, shorten
from sim.scenario import DataConfig

MAX_START_CHARS = 64
"""A ``data.start`` longer than this is refused before any parsing."""

_ISO_OFFSET = re.compile(r"[T ]\d[\d:.,]*\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_MIXED_ZONES = re.compile(r"mixed time ?zones", re.IGNORECASE)
_RELATIVE_TIMES = ("now", "today", "yesterday", "tomorrow")


def parse_start(cfg: DataConfig) -> pd.Timestamp | None:
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


def parse_times(col: pd.Series, cfg: DataConfig, start_tz: object) -> pd.Series:
    """Parse the time column; unparseable values become NaT (see the module docstring)."""
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


def check_zones(times: pd.Series, ok: np.ndarray, start: pd.Timestamp | None,
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


def no_times_message(col: pd.Series, cfg: DataConfig) -> str:
    """The error message when no value of the time column could be read as a time."""
    first = shorten(col.iloc[0], 40)
    if cfg.time_format:
        return (f"data.time_format: no usable rows: {shorten(cfg.time_format, 40)} matches none "
                f"of the {len(col)} times in column {shorten(cfg.col_time)} (first: {first})")
    return (f"data.col_time: no usable rows: none of the {len(col)} values in column "
            f"{shorten(cfg.col_time)} is an ISO 8601 time (first: {first}); set "
            "data.time_format")
