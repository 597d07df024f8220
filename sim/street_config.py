"""The ``[streets]`` section: road-class speeds, police response speed and the hour of day.

Light on purpose (the scenario loader imports it): no numpy, networkx or osmnx here.

Speeds are free-flow speed limits in km/h. An edge of a street network takes, in this order,
the edge attribute ``data.street_speed_attr`` (km/h, as is), its OpenStreetMap ``maxspeed``
(``"30 mph"``, ``"50"``, ``"50 km/h"``; mph converted) or the speed of its road class
(``highway``; ``*_link`` roads take their class's speed) from the table below. Police cars
drive at that speed times ``response_speed_factor`` times the hour's factor of
``hour_speed_factors``; foot officers walk at ``police.speed_foot_kmh`` whatever the street.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sim.params import ScenarioError, echo, param

HOURS = 24

# osmnx's "drive" network filter (osmnx.graph) without ``service``: police use service roads.
NOT_DRIVABLE = (
    "abandoned", "bridleway", "bus_guideway", "construction", "corridor", "cycleway",
    "elevator", "escalator", "footway", "no", "path", "pedestrian", "planned", "platform",
    "proposed", "raceway", "razed", "steps", "track",
)


def _speed(default: float, why: str, plausible: tuple[float, float] | None = None) -> Any:
    return param(default, "km/h", why, lo=1, hi=200, plausible=plausible)


@dataclass(frozen=True)
class StreetsConfig:
    """Speeds on a real street network (``data.streets_graphml``) and by hour of day."""

    speed_motorway_kmh: float = _speed(
        100.0, "Motorway limit when untagged: 100-130 km/h in Europe, 70 mph UK (OSM wiki "
        "'Default speed limits').")
    speed_trunk_kmh: float = _speed(
        80.0, "Trunk road (dual carriageway) when untagged: 80-110 km/h outside towns, 50-70 "
        "inside (OSM wiki 'Default speed limits'; assumption for a city).", (60, 100))
    speed_primary_kmh: float = _speed(
        50.0, "Urban main road: the 50 km/h built-up limit of most of Europe (30 mph UK; OSM "
        "wiki 'Default speed limits').")
    speed_secondary_kmh: float = _speed(50.0, "Urban road: built-up limit 50 km/h (as primary).")
    speed_tertiary_kmh: float = _speed(
        40.0, "Minor distributor road: between the 50 km/h limit and 30 km/h zones "
        "(assumption).", (30, 50))
    speed_unclassified_kmh: float = _speed(
        40.0, "Minor public road (as tertiary; assumption).", (30, 50))
    speed_residential_kmh: float = _speed(
        30.0, "Residential street: 30 km/h / 20 mph zones common in European cities (OSM wiki "
        "'Default speed limits'; assumption).", (20, 50))
    speed_living_street_kmh: float = _speed(
        10.0, "Living street: walking pace, 7-20 km/h by country (OSM wiki "
        "'Key:highway=living_street').")
    speed_service_kmh: float = _speed(
        15.0, "Service road (access, car park, estate road): no posted limit, slow "
        "(assumption).", (10, 25))
    speed_other_kmh: float = _speed(
        30.0, "Any other or unknown road class, and edges of a GraphML file with no speed and "
        "no class: a 30 km/h urban street (the speed the GraphML reader has always assumed).")
    access_speed_kmh: float = _speed(
        20.0, "From a cell's centre straight to its nearest street node (car park, estate, "
        "the last metres), for cars (assumption; foot officers walk it).", (10, 30))
    node_spacing_cells: float = param(
        0.5, "cells", "Streets are cut into pieces of at most this length (in cells) so that "
        "every cell centre snaps to a point of its own street, not to a far intersection; "
        "0 = only the file's nodes.", lo=0, hi=100,
    )
    response_speed_factor: float = param(
        1.0, "-", "Police response speed relative to the limit. Emergency driving exceeds "
        "limits on open roads but junctions and traffic take it back; urban blue-light runs "
        "average close to the limit (assumption: 1; calibrate with recorded travel times).",
        lo=0.1, hi=5, plausible=(0.8, 1.3),
    )
    hour_speed_factors: str = param(
        "", "-", "Empty, or 24 comma-separated speed multipliers for hours 0..23 applied to "
        "car travel when it starts (congestion; e.g. fitted by `grassroots calibrate`). Also "
        "applies on the grid's own streets.",
    )
    not_drivable: tuple[str, ...] = param(
        NOT_DRIVABLE, "-", "Road classes (highway) dropped from a street network: not for "
        "cars (osmnx's drive filter, keeping service roads).",
    )

    @staticmethod
    def compose(kwargs: dict[str, Any], data: dict[str, Any], prefix: str) -> dict[str, Any]:
        """Check ``hour_speed_factors`` when the section is loaded (one-line error)."""
        parse_hour_factors(str(kwargs.get("hour_speed_factors", "")), f"{prefix}hour_speed_factors")
        return kwargs

    def hour_factors(self) -> tuple[float, ...] | None:
        """The 24 hourly speed multipliers, or None when not given (all 1)."""
        return parse_hour_factors(self.hour_speed_factors, "streets.hour_speed_factors")

    def class_speeds(self) -> dict[str, float]:
        """Road class (OSM ``highway``) -> default speed (km/h), plus ``"other"``."""
        out: dict[str, float] = {}
        for f in fields(self):
            if f.name.startswith("speed_") and f.name.endswith("_kmh"):
                out[f.name[len("speed_"):-len("_kmh")]] = float(getattr(self, f.name))
        return out


def parse_hour_factors(text: str, name: str) -> tuple[float, ...] | None:
    """Parse ``hour_speed_factors``: empty -> None, else 24 finite numbers > 0.

    Args:
        text: The parameter's value.
        name: Dotted field name that starts an error message.

    Returns:
        The factors for hours 0..23, or None.

    Raises:
        ScenarioError: One line naming the field.
    """
    if not text.strip():
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != HOURS:
        raise ScenarioError(f"{name}: expected 24 comma-separated numbers (hours 0..23), got "
                            f"{len(parts)}")
    out = []
    for hour, part in enumerate(parts):
        try:
            value = float(part)
        except ValueError:
            raise ScenarioError(f"{name}: hour {hour} is not a number ({echo(part)})") from None
        if not (value > 0 and value < float("inf")):
            raise ScenarioError(f"{name}: hour {hour} must be a finite number > 0, got "
                                f"{echo(part)}")
        out.append(value)
    return tuple(out)
