"""Times of recorded calls: ``data.col_time``, ``data.time_format``, ``data.start``, durations.

Every problem is a one-line :class:`~sim.datafile.DataError` starting with the field to fix;
a value that is not a time becomes NaT and :func:`sim.calls.load_calls` drops and counts it.

Recorded durations (:func:`recorded_durations`): handling (call -> dispatch), travel
(dispatch -> arrival), on scene (arrival -> clearance) and response (call -> arrival), in
minutes, from the columns ``data.col_handling``, ``data.col_travel``, ``data.col_on_scene``,
``data.col_response`` or derived from the timestamp columns ``data.col_dispatched``,
``data.col_arrived``, ``data.col_cleared`` (a minutes column wins over a derivation). An
empty cell is *missing*; a value that is not a number (or not a time), negative, not finite
or above ``data.max_recorded_min`` is *bad*: read as missing and counted. The call is kept
either way and the model fills in its own draw for that call.

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


DURATIONS = ("handling", "travel", "on_scene", "response")
"""The recorded durations of a call, in the order of the incidents table's ``rec_*`` columns."""
_MINUTES = {"handling": "col_handling", "travel": "col_travel", "on_scene": "col_on_scene",
            "response": "col_response"}
_STAMPS = ("col_dispatched", "col_arrived", "col_cleared")
_DERIVED = {"handling": ("col_time", "col_dispatched"), "travel": ("col_dispatched", "col_arrived"),
            "on_scene": ("col_arrived", "col_cleared"), "response": ("col_time", "col_arrived")}


def duration_fields(cfg: DataConfig) -> list[str]:
    """The ``[data]`` fields naming duration or timestamp columns that are set."""
    return [f for f in (*_MINUTES.values(), *_STAMPS) if getattr(cfg, f)]


def recorded_kinds(cfg: DataConfig) -> tuple[str, ...]:
    """Durations the configured columns give (see the module docstring), in :data:`DURATIONS`."""
    out: list[str] = []
    for kind in DURATIONS:
        a, b = _DERIVED[kind]
        derived_ok = all(f == "col_time" or getattr(cfg, f) for f in (a, b))
        via_sum = kind == "response" and {"handling", "travel"} <= set(out)
        if getattr(cfg, _MINUTES[kind]) or derived_ok or via_sum:
            out.append(kind)
    return tuple(out)


def recorded_durations(df: pd.DataFrame, cfg: DataConfig, times: pd.Series
                       ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Recorded durations per call (NaN when missing or bad) and which values were bad.

    Args:
        df: The calls table as read.
        cfg: The ``[data]`` section.
        times: The parsed call times (``data.col_time``).

    Returns:
        ``minutes`` and ``bad`` by kind (see :data:`DURATIONS`), for the configured kinds.
    """
    stamps = {f: _stamps(df, f, cfg, times) for f in _STAMPS if getattr(cfg, f)}
    stamps["col_time"] = (times, np.zeros(len(df), bool))
    minutes: dict[str, np.ndarray] = {}
    bad: dict[str, np.ndarray] = {}
    for kind in recorded_kinds(cfg):
        a, b = _DERIVED[kind]
        if getattr(cfg, _MINUTES[kind]):
            value, wrong = _minutes_column(df, _MINUTES[kind], cfg)
        elif a in stamps and b in stamps:
            value, wrong = _difference(stamps[a], stamps[b])
        else:  # response = handling + travel
            value = minutes["handling"] + minutes["travel"]
            wrong = np.zeros(len(df), bool)
        wrong |= value > cfg.max_recorded_min
        value[wrong] = np.nan
        minutes[kind], bad[kind] = value, wrong
    return minutes, bad


def duration_field(cfg: DataConfig, kind: str) -> str:
    """The ``[data]`` field a duration comes from (its minutes column, else a timestamp)."""
    if getattr(cfg, _MINUTES[kind]):
        return _MINUTES[kind]
    stamps = [f for f in _DERIVED[kind] if f != "col_time" and getattr(cfg, f)]
    return stamps[-1] if stamps else "col_dispatched"


def no_durations_message(cfg: DataConfig, kind: str, n: int) -> str:
    """The error when a configured duration has no usable value for any of ``n`` calls."""
    field = duration_field(cfg, kind)
    return (f"data.{field}: column {shorten(getattr(cfg, field))} gives no usable {kind} time "
            f"(minutes from 0 to data.max_recorded_min = {cfg.max_recorded_min:g}) for any of "
            f"the {n} calls; leave data.{field} empty if there are none")


def _is_blank(col: pd.Series) -> np.ndarray:
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        return col.isna().to_numpy() | (col.astype(str).str.strip() == "").to_numpy()
    return col.isna().to_numpy()


def _minutes_column(df: pd.DataFrame, field: str, cfg: DataConfig
                    ) -> tuple[np.ndarray, np.ndarray]:
    """A minutes column: floats, with non-numbers, negatives and non-finite values bad."""
    col = df[getattr(cfg, field)]
    with np.errstate(all="ignore"):
        values = pd.to_numeric(col, errors="coerce")
        value = np.array(values.to_numpy(dtype=float, na_value=np.nan), dtype=float, copy=True)
    blank = _is_blank(col)
    wrong = ~blank & ~(np.isfinite(value) & (np.nan_to_num(value, nan=-1.0) >= 0))
    value[blank | wrong] = np.nan
    return value, wrong


def _stamps(df: pd.DataFrame, field: str, cfg: DataConfig, times: pd.Series
            ) -> tuple[pd.Series, np.ndarray]:
    """A timestamp column parsed like the call times; unparseable non-blank values are bad."""
    import dataclasses

    name = getattr(cfg, field)
    col = df[name]
    blank = _is_blank(col)
    tz = getattr(times.dt, "tz", None)
    if not pd.api.types.is_datetime64_any_dtype(col.dtype):
        col = col.where(~blank, "")
    try:  # parsed as data.col_time is, so its messages name that field: rename it
        parsed = parse_times(col, dataclasses.replace(cfg, col_time=name), tz)
    except DataError as exc:
        raise DataError(str(exc).replace("data.col_time:", f"data.{field}:", 1)) from None
    aware = isinstance(parsed.dtype, pd.DatetimeTZDtype)
    if parsed.notna().any() and aware != (tz is not None):
        this, that = ("have", "do not") if aware else ("do not have", "do")
        raise DataError(f"data.{field}: the times in column {shorten(name)} {this} a UTC "
                        f"offset but those in data.col_time {that}; give both or neither one")
    if aware and tz is not None:
        parsed = parsed.dt.tz_convert(tz)
    elif not aware and tz is not None:  # every value blank: no offset to compare
        parsed = pd.Series(pd.NaT, index=col.index, dtype=times.dtype)
    return parsed, ~blank & parsed.isna().to_numpy()


def _difference(first: tuple[pd.Series, np.ndarray], second: tuple[pd.Series, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from the first times to the second; negative is bad, either bad is bad."""
    (t0, bad0), (t1, bad1) = first, second
    value = np.array((t1 - t0).dt.total_seconds() / 60.0, dtype=float)
    wrong = bad0 | bad1 | (np.nan_to_num(value, nan=0.0) < 0)
    value[wrong] = np.nan
    return value, wrong
