"""Tables of a live run for download from the page (no UI code).

:func:`live_tables` builds the ``incidents``, ``daily`` and ``communities`` tables of a running
model at its current time, with the same functions that ``grassroots run`` uses at the end of a
run (:mod:`sim.metrics`), without closing the model's books, so the run can go on afterwards.
The model draws a day's incidents ahead; the tables hold only what has happened by the current
time (:func:`so_far`). :func:`table_bytes` writes one of them as CSV or Parquet bytes.
"""

from __future__ import annotations

import io
import math

import pandas as pd

from sim.api import incidents_table
from sim.metrics import community_frame, daily_frame
from viz.run import Sim

TABLES = ("incidents", "daily", "communities")
"""The tables offered for download."""


def live_tables(sim: Sim) -> dict[str, pd.DataFrame]:
    """The run's tables at its current time (incidents so far, one row per day, community).

    Args:
        sim: The run (call under the session's lock: the model must not step meanwhile).

    Returns:
        ``{"incidents": ..., "daily": ..., "communities": ...}``.
    """
    m = sim.model
    incidents = so_far(incidents_table(m), float(m.now))
    days = max(1, int(math.ceil(m.day - 1e-9)))
    return {"incidents": incidents, "daily": daily_frame(incidents, m.recorder, days),
            "communities": community_frame(incidents, m)}


TIMES = ("t_occur", "t_report", "t_ready", "t_dispatch", "t_arrive", "t_clear")
"""Time columns of the incidents table (minutes)."""


def so_far(incidents: pd.DataFrame, now: float) -> pd.DataFrame:
    """The incidents that occurred by ``now`` (minutes), with later times blanked.

    Incidents are drawn ahead of time (their occurrence and report times are known in
    advance); a call not reported yet is shown as not reported, and the durations are
    recomputed from the times kept.
    """
    out = incidents.loc[incidents["t_occur"] <= now].reset_index(drop=True)
    for col in TIMES:
        out[col] = out[col].where(out[col] <= now)
    out["reported"] = out["reported"] & out["t_report"].notna()
    out["dispatch_delay"] = out["t_ready"] - out["t_report"]
    out["queue_wait"] = out["t_dispatch"] - out["t_ready"]
    out["travel_time"] = out["t_arrive"] - out["t_dispatch"]
    out["response_time"] = out["t_arrive"] - out["t_report"]
    out["on_scene"] = out["t_clear"] - out["t_arrive"]
    return out


FORMATS = ("csv", "parquet")
"""File formats of the table downloads."""


def table_csv(sim: Sim, name: str) -> bytes:
    """One table of :func:`live_tables` as UTF-8 CSV (no index column).

    Raises:
        KeyError: If ``name`` is not one of :data:`TABLES`.
    """
    return table_bytes(sim, name, "csv")


def table_bytes(sim: Sim, name: str, fmt: str = "csv") -> bytes:
    """One table of :func:`live_tables` as a file: UTF-8 CSV or Parquet (no index column).

    Parquet keeps the column types (the ``priority`` and ``officer_tier`` categories, the
    booleans), as ``grassroots run --out`` writes them.

    Args:
        sim: The run (call under the session's lock).
        name: One of :data:`TABLES`.
        fmt: One of :data:`FORMATS`.

    Raises:
        KeyError: If ``name`` is not one of :data:`TABLES` or ``fmt`` not one of
            :data:`FORMATS`.
    """
    if name not in TABLES or fmt not in FORMATS:
        raise KeyError(f"{name}.{fmt}")
    frame = live_tables(sim)[name]
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def file_stem(sim: Sim) -> str:
    """``grassroots-<strategy>-t<hours>h``: a file name stem for the run's downloads."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in sim.controls.strategy)
    return f"grassroots-{safe[:40]}-t{sim.hours}h"
