"""The scenario: one typed, frozen description of a simulated world and how it is policed.

A scenario has sections ``run``, ``city``, ``police``, ``incidents`` (with one sub-table per
priority), ``dispatch``, ``residents`` and ``strategy``. Each leaf is declared with
:func:`sim.params.param` (unit, bounds, justification). Scenarios are read from TOML files
(see ``scenarios/``) and changed with dotted overrides such as ``police.officers=150``;
variants are made with :func:`dataclasses.replace` or :meth:`Scenario.with_overrides`, never
by mutation.

Loading never executes code: TOML is parsed as data and every value is checked against its
declaration. Problems raise :class:`ScenarioError` whose message names the field and the problem.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from agents.officers import PoliceConfig
from agents.residents import ResidentsConfig
from sim.city import CityConfig
from sim.datafile import DataConfig
from sim.dispatch import DispatchConfig
from sim.geo import GeoConfig
from sim.hazard import HazardConfig
from sim.incident_classes import DEFAULT_ORDER, IncidentClass, IncidentConfig
from sim.outcomes import OutcomesConfig
from sim.params import (
    ScenarioError,
    echo,
    info_of,
    is_section,
    iter_params,
    section,
    sections_type,
    shorten,
)
from sim.run_config import RunConfig
from sim.scenario_input import (
    MAX_FILE_BYTES,
    MAX_OVERRIDE,
    parse_override,
    parse_toml_file,
    read_toml,
    resolve_source,
)
from sim.scenario_input import check_value as _check_value
from sim.strategies.base import StrategyConfig
from sim.strategies.registry import default_strategy_config
from sim.street_config import StreetsConfig

__all__ = [
    "MAX_FILE_BYTES", "MAX_OVERRIDE", "MOVED", "PRIORITIES", "CityConfig", "DataConfig",
    "DispatchConfig", "HazardConfig", "IncidentClass", "IncidentConfig", "OutcomesConfig",
    "PoliceConfig", "ResidentsConfig", "RunConfig", "Scenario", "ScenarioError",
    "StrategyConfig", "from_dict", "load_scenario", "parse_override", "parse_toml_file",
    "read_toml", "resolve_source",
]

PRIORITIES = DEFAULT_ORDER
"""The default incident classes (a scenario may declare others: ``incidents.names``)."""

MOVED = {
    **{f"residents.{k}": f"hazard.{k}" for k in (
        "deterrence", "deterrence_max", "deterrence_half_hours", "near_repeat",
        "near_repeat_eta", "near_repeat_days", "near_repeat_radius_cells")},
    "residents.reporting_trust_elasticity": "outcomes.reporting_trust_elasticity",
    "residents.cooperation_effect": "outcomes.cooperation_effect",
    "residents.skill_gain_per_case": "police.skill_gain_per_case",
    "residents.officer_familiarity_days": "police.officer_familiarity_days",
    "strategy.household_size": "residents.household_size",
    "incidents.clearance_rt_effect": "outcomes.clearance_rt_effect",
    "incidents.clearance_skill_effect": "outcomes.clearance_skill_effect",
    **{f"incidents.{k}": f"incidents.classes.{k}" for k in DEFAULT_ORDER},
}
"""Keys that moved to another part, old -> new (a scenario using an old key is told where)."""


@dataclass(frozen=True)
class Scenario:
    """A complete, validated, immutable description of one simulation."""

    run: RunConfig = section(RunConfig)
    city: CityConfig = section(CityConfig)
    police: PoliceConfig = section(PoliceConfig)
    incidents: IncidentConfig = section(IncidentConfig)
    dispatch: DispatchConfig = section(DispatchConfig)
    hazard: HazardConfig = section(HazardConfig)
    residents: ResidentsConfig = section(ResidentsConfig)
    outcomes: OutcomesConfig = section(OutcomesConfig)
    strategy: StrategyConfig = section(default_strategy_config)
    data: DataConfig = section(DataConfig)
    geo: GeoConfig = section(GeoConfig)
    streets: StreetsConfig = section(StreetsConfig)

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as nested plain dicts (TOML-ready: lists, not tuples)."""
        return _plain(dataclasses.asdict(self))

    def to_toml(self) -> str:
        """Return the fully resolved scenario as TOML text, loadable as is."""
        return tomli_w.dumps(self.to_dict())

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """Return a copy with dotted-key overrides applied and validated.

        Args:
            overrides: Mapping such as ``{"police.officers": 150}``.

        Returns:
            A new, validated scenario.
        """
        data = self.to_dict()
        for key, value in overrides.items():
            _set_dotted(data, key, value)
        return from_dict(data)

    def params(self) -> list[tuple[str, Any, Any]]:
        """Return ``(dotted_name, value, ParamInfo)`` for every parameter."""
        return iter_params(self)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def moved_to(key: str) -> str | None:
    """Where an old key (or an old section prefix of it) lives now, or None."""
    for old, new in MOVED.items():
        if key == old or key.startswith(old + "."):
            return new + key[len(old):]
    return None


def _moved_error(key: str) -> ScenarioError | None:
    new = moved_to(key)
    return None if new is None else ScenarioError(f"{shorten(key)}: moved to {shorten(new)}")


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    if not key.isprintable() or " " in key:
        raise ScenarioError(f"{echo(key)}: not a parameter name")
    moved = _moved_error(key)
    if moved is not None:
        raise moved
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            raise ScenarioError(f"{shorten('.'.join(parts[: i + 1]))}: unknown section")
        node = child
    if parts[-1] not in node:
        raise ScenarioError(f"{shorten(key)}: unknown key")
    node[parts[-1]] = value


def _build(cls: type, data: Any, prefix: str, given: Any = None) -> Any:
    """Build section ``cls`` from ``data`` (defaults merged in).

    ``given`` is what the user wrote (before merging), for sections whose composition depends
    on it (the incident classes).
    """
    if not isinstance(data, dict):
        raise ScenarioError(f"{prefix.rstrip('.') or 'scenario'}: expected a table, "
                            f"got {echo(data)}")
    defaults = cls()
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        moved = _moved_error(prefix + str(unknown[0]))
        if moved is not None:
            raise moved
        what = "unknown key" if prefix else "unknown section"
        raise ScenarioError(f"{shorten(prefix + str(unknown[0]))}: {what}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        f = fields[name]
        default = getattr(defaults, name)
        if is_section(f):
            kwargs[name] = _build(type(default), _merge(dataclasses.asdict(default), value,
                                                        f"{prefix}{name}"), f"{prefix}{name}.",
                                  given=value)
        elif (item := sections_type(f)) is not None:
            kwargs[name] = _build_keyed(item, default, value, f"{prefix}{name}")
        else:
            kwargs[name] = _check_value(f"{prefix}{name}", value, default, info_of(f))
    compose = getattr(cls, "compose", None)
    if compose is not None:
        kwargs = compose(kwargs, data if given is None else given, prefix)
    return cls(**kwargs)


def _build_keyed(item: type, defaults: dict[str, Any], data: Any, name: str) -> dict[str, Any]:
    """A table of named sections: each given one merged over its default (or the type's)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}: expected a table, got {echo(data)}")
    out = dict(defaults)
    for key, value in data.items():
        base = defaults.get(key)
        base_dict = dataclasses.asdict(base if base is not None else item())
        out[str(key)] = _build(item, _merge(base_dict, value, f"{name}.{shorten(key)}"),
                               f"{name}.{shorten(key)}.")
    return out


def _merge(base: dict[str, Any], update: Any, name: str) -> dict[str, Any]:
    if not isinstance(update, dict):
        raise ScenarioError(f"{name}: expected a table, got {echo(update)}")
    merged = dict(base)
    merged.update(update)
    return merged


def _check_consistency(s: Scenario) -> None:
    p = s.police
    total = p.share_hq + p.share_station + p.share_community
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(
            f"police.share_hq: tier shares must add up to 1 "
            f"(hq + station + community = {total:g})"
        )
    mix = sum(c.share for c in s.incidents.classes.values())
    if abs(mix - 1.0) > 1e-6:
        first = s.incidents.names[0]
        raise ScenarioError(
            f"incidents.classes.{first}.share: the classes' shares must add up to 1 "
            f"(sum = {mix:g})"
        )
    c = s.city
    if c.community_cells > max(c.width, c.height):
        raise ScenarioError(
            f"city.community_cells: {c.community_cells} is larger than the city "
            f"({c.width} x {c.height})"
        )
    n_cx = -(-c.width // c.community_cells)
    n_cy = -(-c.height // c.community_cells)
    if c.precincts_x > n_cx or c.precincts_y > n_cy:
        raise ScenarioError(f"city.precincts_x: {c.precincts_x} x {c.precincts_y} precincts "
                            f"need at least as many communities across and down "
                            f"({n_cx} x {n_cy})")
    if p.shifts_per_day + p.rest_groups < 1:
        raise ScenarioError("police.shifts_per_day: need at least one shift")
    _check_size(s)


# Limits that keep a run within a workstation's memory and a user's patience; a scenario
# beyond them is almost certainly a typo (a rate per person instead of per 1,000, say).
MAX_CELLS = 1_000_000
MAX_DAILY_INCIDENTS = 500_000
MAX_RESIDENTS = 5_000_000
MAX_OFFICERS = 100_000
MAX_RUN_INCIDENTS = 200_000_000


def _check_size(s: Scenario) -> None:
    c = s.city
    if c.width * c.height > MAX_CELLS:
        raise ScenarioError(f"city.width: {c.width} x {c.height} cells is more than the "
                            f"limit of {MAX_CELLS:,}")
    daily = s.incidents.rate_per_1000_day * c.population / 1000
    if daily > MAX_DAILY_INCIDENTS:
        raise ScenarioError(f"incidents.rate_per_1000_day: {daily:,.0f} incidents a day is more "
                            f"than the limit of {MAX_DAILY_INCIDENTS:,}")
    total = daily * s.run.days
    if total > MAX_RUN_INCIDENTS:
        raise ScenarioError(f"run.days: {s.run.days:,} days of {daily:,.0f} incidents a day is "
                            f"more than the limit of {MAX_RUN_INCIDENTS:,} incidents in one run")
    if s.residents.agents > MAX_RESIDENTS:
        raise ScenarioError(f"residents.agents: more than the limit of {MAX_RESIDENTS:,}")
    if s.police.officers > MAX_OFFICERS:
        raise ScenarioError(f"police.officers: more than the limit of {MAX_OFFICERS:,}")


def from_dict(data: dict[str, Any]) -> Scenario:
    """Build and validate a scenario from nested dicts (missing keys take defaults).

    Args:
        data: Nested mapping, e.g. the result of parsing a TOML file.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: On an unknown key, a wrong type, an out-of-range value or an
            inconsistent combination.
    """
    scenario = _build(Scenario, data, "")
    _check_consistency(scenario)
    return scenario


def load_scenario(
    source: str | Path | None = None, overrides: list[str] | dict[str, Any] | None = None
) -> Scenario:
    """Load a scenario from a TOML file or a preset name, then apply overrides.

    Args:
        source: A path to a TOML file, the name of a preset in ``scenarios/`` (e.g.
            ``"default"``), or None for the defaults.
        overrides: ``["police.officers=150", ...]`` or ``{"police.officers": 150}``.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: With a one-line message naming the file or field and the problem.
    """
    data: dict[str, Any] = {}
    if source is not None:
        path = resolve_source(source)
        data = read_toml(path)
        _resolve_data_paths(data, path.parent)
    scenario = from_dict(data)
    if overrides:
        pairs = (
            dict(parse_override(o) for o in overrides)
            if isinstance(overrides, list)
            else dict(overrides)
        )
        scenario = scenario.with_overrides(pairs)
    return scenario


def _resolve_data_paths(data: dict[str, Any], folder: Path) -> None:
    """Make relative data-file paths of a scenario file relative to its folder."""
    files = {"data": ("calls_file", "streets_graphml"), "police": ("staffing_file",),
             "dispatch": ("preference_file",),
             "geo": ("precincts", "communities", "beats", "posts", "population")}
    for name, keys in files.items():
        section_ = data.get(name)
        if not isinstance(section_, dict):
            continue
        for key in keys:
            value = section_.get(key)
            if isinstance(value, str) and value and not Path(value).is_absolute():
                section_[key] = str((folder / value).resolve())
