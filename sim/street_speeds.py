"""The speed of each street: its speed attribute, ``maxspeed`` or its road class's default.

``maxspeed`` follows osmnx's ``add_edge_speeds``: a number is km/h, ``"30 mph"`` is converted
(1 mile = 1.60934 km), ``"50|30"`` (per lane) and a list (a simplified edge) take the mean;
implicit values such as ``"DE:urban"`` are looked up in osmnx's table; anything else (``"none"``,
``"signals"``) falls back to the road class.
"""

from __future__ import annotations

import math
import re
from typing import Any

from sim.datafile import DataError, shorten
from sim.osm import road_class

MILES_TO_KM = 1.60934
_NUMBER = re.compile(r"^([0-9][.,0-9]*?)(?:[ ]?(?:km/h|kmh|kph|mph|knots))?$")


def parse_maxspeed(value: Any) -> float | None:
    """A ``maxspeed`` tag in km/h, or None when it gives no number.

    Args:
        value: The tag: text, a number or a list of those.

    Returns:
        km/h, or None.
    """
    if isinstance(value, list | tuple):
        found = [s for s in (parse_maxspeed(v) for v in value) if s is not None]
        return sum(found) / len(found) if found else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) and value > 0 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        return parse_maxspeed([v.strip().strip("'\"") for v in text[1:-1].split(",")])
    lanes = [_one_speed(v.strip(), "mph" in text.lower()) for v in text.split("|")]
    if any(s is None for s in lanes):
        return _implicit(text)
    good = [s for s in lanes if s is not None]
    return sum(good) / len(good)


def _one_speed(text: str, mph: bool) -> float | None:
    match = _NUMBER.match(text)
    if match is None:
        return None
    try:
        value = float(match.group(1).replace(",", "."))
    except ValueError:
        return None
    if not (math.isfinite(value) and value > 0):
        return None
    return value * MILES_TO_KM if mph else value


def _implicit(text: str) -> float | None:
    """The implicit speed limits of osmnx's table (``"GB:nsl_single"``), if it has one."""
    if ":" not in text:
        return None
    from osmnx import routing

    table = getattr(routing, "_IMPLICIT_MAXSPEEDS", {})
    value = table.get(text)
    return float(value) if isinstance(value, int | float) else None


def edge_speed(d: dict, attr: str, classes: dict[str, float], edge: str) -> float:
    """The speed limit of one edge (km/h).

    Args:
        d: The edge's attributes.
        attr: ``data.street_speed_attr``: an attribute in km/h taken as is when present.
        classes: Road class -> default speed (``StreetsConfig.class_speeds``, with "other").
        edge: The edge as text, for errors.

    Returns:
        km/h (>= 0; 0 is kept as an almost impassable street).

    Raises:
        DataError: ``data.street_speed_attr: edge ... has ...`` for a bad attribute value.
    """
    if attr and attr in d:
        return _speed_attr(d[attr], attr, edge)
    if "maxspeed" in d:
        speed = parse_maxspeed(d["maxspeed"])
        if speed is not None:
            return speed
    return class_speed(d.get("highway"), classes)


def class_speed(highway: Any, classes: dict[str, float]) -> float:
    """Default speed of a road class (``*_link`` roads take their class's)."""
    name = road_class(highway)
    if name.endswith("_link"):
        name = name[: -len("_link")]
    return classes.get(name, classes["other"])


def _speed_attr(raw: Any, attr: str, edge: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"data.street_speed_attr: edge {edge} has a non-numeric "
                        f"{shorten(attr, 30)} ({shorten(raw, 30)})") from None
    if not (math.isfinite(value) and value >= 0):
        raise DataError(f"data.street_speed_attr: edge {edge} has {shorten(attr, 30)} = "
                        f"{value} (must be a finite number >= 0)")
    return value
