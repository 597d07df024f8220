"""Colours and markers shared by the map and the charts."""

from __future__ import annotations

from agents.enums import OfficerState, Priority, Tier

STATE_COLORS: dict[OfficerState, str] = {
    OfficerState.IDLE: "#1f77b4",
    OfficerState.PATROL: "#2ca02c",
    OfficerState.ADMIN: "#8c8c8c",
    OfficerState.TRAVELLING: "#9467bd",
    OfficerState.ON_SCENE: "#e377c2",
    OfficerState.RETURNING: "#17becf",
    OfficerState.OFF_DUTY: "#ffffff",
}
"""Officer marker colour by state (off-duty officers are not drawn)."""

TIER_MARKERS: dict[Tier, str] = {Tier.HQ: "o", Tier.STATION: "D", Tier.COMMUNITY: "^"}
"""Officer marker shape by tier."""

PRIORITY_COLORS: dict[Priority, str] = {
    Priority.EMERGENCY: "#d62728",
    Priority.URGENT: "#ff7f0e",
    Priority.ROUTINE: "#e6c300",
}
"""Incident colour by priority."""

PRIORITY_SERIES = {**{p.label: PRIORITY_COLORS[p] for p in Priority}, "all": "#333333"}
"""Chart series colour by priority label (and ``all``)."""

TIER_SERIES = {"hq": "#1f77b4", "station": "#2ca02c", "community": "#9467bd", "all": "#333333"}
"""Chart series colour by tier label (and ``all``)."""
