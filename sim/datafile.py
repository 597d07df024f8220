"""What every scenario data file shares: the ``[data]`` section, errors and their helpers.

Used by the calls file (:mod:`sim.calls`) and the street network (:mod:`sim.streets`): a
problem with a file is one short line that starts with the scenario field to fix, echoing
any value shortened by :func:`shorten`, and :func:`check_file` refuses a path that is not a
non-empty regular file before anything tries to read it.
"""

from __future__ import annotations

import errno
import stat
from dataclasses import dataclass
from pathlib import Path

from sim.params import param

SHORT = 80
"""Longest echoed value in an error message (characters)."""


class DataWarning(UserWarning):
    """Something in the data was dropped or changed (one line naming the field).

    For example ``data.calls_file: 3,405 of 3,749 calls lie after the 30-day horizon``.

    The command line prints each as ``warning: <message>`` on stderr.
    """


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


@dataclass(frozen=True)
class DataConfig:
    """Real data in: recorded calls for service (replay or fit) and a street network."""

    calls_file: str = param(
        "", "-", "CSV or Parquet of calls for service; empty = synthetic incidents. Relative "
        "paths are read from the scenario file's folder.",
    )
    mode: str = param(
        "replay", "-", "replay: the recorded calls are the incident stream; fit: estimate "
        "risk, daily and weekly cycle and priority mix, then simulate.",
        choices=("replay", "fit"),
    )
    coords: str = param(
        "xy", "-", "Location columns: projected metres (xy) or degrees (lonlat).",
        choices=("xy", "lonlat"),
    )
    origin_x: float = param(0.0, "m", "Projected x of the city's south-west corner.",
        lo=-1e8, hi=1e8)
    origin_y: float = param(0.0, "m", "Projected y of the city's south-west corner.",
        lo=-1e8, hi=1e8)
    origin_lon: float = param(
        0.0, "deg", "Longitude of the south-west corner (equirectangular projection).", lo=-180,
        hi=180,
    )
    origin_lat: float = param(0.0, "deg", "Latitude of the south-west corner.", lo=-90, hi=90)
    col_time: str = param("timestamp", "-", "Column with the call's date and time.")
    col_x: str = param("x", "-", "Column with projected x (coords = xy).")
    col_y: str = param("y", "-", "Column with projected y (coords = xy).")
    col_lon: str = param("lon", "-", "Column with longitude (coords = lonlat).")
    col_lat: str = param("lat", "-", "Column with latitude (coords = lonlat).")
    col_priority: str = param(
        "priority", "-", "Column with the call's class: a class name or one of its codes "
        "(default classes: emergency/urgent/routine or 1/2/3).",
    )
    col_response: str = param(
        "", "-", "Optional column with the observed response time (minutes), for calibration.",
    )
    col_handling: str = param(
        "", "-", "Optional column: recorded minutes from the call to dispatch; replayed calls "
        "with a value are dispatched that long after their call (see docs/DEMAND.md).",
    )
    col_travel: str = param(
        "", "-", "Optional column: recorded minutes from dispatch to arrival (kept for "
        "comparison and calibration only; the model computes its own travel).",
    )
    col_on_scene: str = param(
        "", "-", "Optional column: recorded minutes from arrival to clearance; replayed calls "
        "with a value stay that long on scene.",
    )
    col_dispatched: str = param(
        "", "-", "Optional column: time a unit was dispatched (same format as col_time); "
        "gives the handling minutes when col_handling is empty.",
    )
    col_arrived: str = param(
        "", "-", "Optional column: time the first unit arrived; gives the travel minutes "
        "(with col_dispatched) and the response (from the call) when not given.",
    )
    col_cleared: str = param(
        "", "-", "Optional column: time the call was cleared; gives the on-scene minutes "
        "(with col_arrived) when col_on_scene is empty.",
    )
    max_recorded_min: float = param(
        1440.0, "min", "A recorded handling, travel, on-scene or response time above this is "
        "implausible and read as missing (counted; assumption: one day).", lo=1, hi=525_600,
    )
    unknown_class: str = param(
        "", "-", "Class given to calls whose priority code no class knows; empty = drop and "
        "count them.",
    )
    background: str = param(
        "none", "-", "Model incidents added to a replay for the classes the data lack: none, "
        "synthetic (the scenario's rate, shares and risk) or fit (level, risk and daily and "
        "weekly cycle fitted to the recorded calls).",
        choices=("none", "synthetic", "fit"),
    )
    background_classes: str = param(
        "", "-", "Comma-separated classes of the background demand; empty = every class with "
        "no recorded call.",
    )
    crs: str = param(
        "", "-", "CRS of the calls' coordinates in a real (geo) city, e.g. EPSG:4326; empty = "
        "EPSG:4326 for lonlat, the grid's CRS for xy. Unused in the synthetic city.",
    )
    time_format: str = param(
        "", "-", "strptime format of the time column; empty = ISO 8601 (pandas).",
    )
    start: str = param(
        "", "-", "Date and time of minute 0 (ISO); empty = midnight before the first call.",
    )
    fit_bandwidth_cells: float = param(
        1.0, "cells", "Gaussian smoothing of the fitted risk surface (assumption).", lo=0, hi=100,
    )
    fit_floor: float = param(
        0.02, "-", "Share of fitted risk spread evenly so no cell is impossible (assumption).",
        lo=0, hi=1,
    )
    streets_graphml: str = param(
        "", "-", "Street network: GraphML (nodes x/y or lon/lat, edges length in m; osmnx "
        "files too) or OpenStreetMap XML (.osm); empty = the grid's own streets. See [streets].",
    )
    street_speed_attr: str = param(
        "speed_kph", "-", "Edge attribute with a speed in km/h, used as is; edges without it "
        "take maxspeed or their road class's speed ([streets]).",
    )
