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
import math
import tomllib
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
    param,
    section,
    sections_type,
    shorten,
)
from sim.rng import DEFAULT_SEED
from sim.strategies.base import StrategyConfig
from sim.strategies.registry import default_strategy_config
from sim.street_config import StreetsConfig

__all__ = [
    "MOVED", "PRIORITIES", "CityConfig", "DataConfig", "DispatchConfig", "HazardConfig",
    "IncidentClass", "IncidentConfig", "OutcomesConfig", "PoliceConfig", "ResidentsConfig",
    "RunConfig", "Scenario", "ScenarioError", "StrategyConfig", "from_dict", "load_scenario",
    "parse_override", "resolve_source",
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
class RunConfig:
    """How long to simulate and with which seed."""

    name: str = param("default", "-", "Label written into every output.")
    description: str = param("", "-", "Free text shown by `grassroots scenarios`.")
    days: int = param(
        365, "d", "A year: long enough for trust and familiarity to settle (drift 1/365 a day).",
        lo=1, hi=36_500,
    )
    seed: int = param(
        DEFAULT_SEED, "-", "Root of the SeedSequence from which all streams are spawned.",
        lo=0, hi=2**63 - 1,
    )
    log_rows: int = param(
        500_000, "incidents", "Incidents kept in memory before old, closed ones stream to "
        "disk (about 150 bytes each); 0 = keep all.", lo=0, hi=100_000_000,
    )


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


def _check_value(name: str, value: Any, default: Any, info: Any) -> Any:
    """Validate one leaf value against its declared type and bounds; return it coerced."""
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ScenarioError(f"{name}: expected a list of text, got {echo(value)}")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ScenarioError(f"{name}: expected true or false, got {echo(value)}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ScenarioError(f"{name}: expected an integer, got {echo(value)}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{name}: expected a number, got {echo(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise ScenarioError(f"{name}: must be a finite number, got {echo(value)}")
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise ScenarioError(f"{name}: expected text, got {echo(value)}")
        if info.choices and value not in info.choices:
            raise ScenarioError(f"{name}: must be one of {', '.join(info.choices)}, "
                                f"got {echo(value)}")
        return value
    if info.lo is not None and value < info.lo:
        raise ScenarioError(f"{name}: must be >= {info.lo:g}, got {echo(value)}")
    if info.hi is not None and value > info.hi:
        raise ScenarioError(f"{name}: must be <= {info.hi:g}, got {echo(value)}")
    return value


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


MAX_OVERRIDE = 10_000
MAX_FILE_BYTES = 10_000_000


def parse_override(text: str) -> tuple[str, Any]:
    """Parse one ``section.key=value`` override; the value is read as a TOML value.

    Text that is not a valid TOML value (``strategy.name=community``) is taken as a string.

    Args:
        text: The override as typed on the command line.

    Returns:
        ``(dotted_key, value)``.
    """
    if "=" not in text:
        raise ScenarioError(f"--set {echo(text)}: an override must look like "
                            f"section.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or "." not in key or not key.isprintable() or " " in key or \
            not all(key.split(".")):
        raise ScenarioError(f"--set {echo(text)}: an override key must look like section.key")
    if len(text) > MAX_OVERRIDE:
        raise ScenarioError(f"--set {shorten(key)}: the value is longer than "
                            f"{MAX_OVERRIDE:,} characters")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise ScenarioError(f"--set {shorten(key)}: unusable value ({shorten(exc)})") from None
    except RecursionError:
        raise ScenarioError(f"--set {shorten(key)}: value nested too deeply") from None
    return key, value


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


def resolve_source(source: str | Path) -> Path:
    """Turn a preset name or a path into an existing file path.

    Args:
        source: A preset name (``community``) or a path to a ``.toml`` file.

    Returns:
        The path of the file.
    """
    from scenarios import preset_path  # the presets folder is data; no import cycle

    text = str(source)
    try:
        path = Path(source)
        if path.is_file():
            return path
        preset = preset_path(text)
        exists = path.exists()
    except (OSError, ValueError) as exc:  # too long, a NUL byte, a loop of links
        why = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else \
            "not a usable file name"
        raise ScenarioError(f"{shorten(text)}: {why}") from None
    if preset is not None:
        return preset
    if exists:
        raise ScenarioError(f"{shorten(text)}: not a file")
    raise ScenarioError(f"{shorten(text)}: no such file or preset (see `grassroots scenarios`)")


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file as data, turning every failure into a one-line ScenarioError."""
    return parse_toml_file(path, ScenarioError)


def parse_toml_file(path: Path, error: type[ValueError]) -> dict[str, Any]:
    """Parse a TOML file as data; every failure becomes one line of ``error``.

    Args:
        path: The file.
        error: The exception type to raise (its message names the file).

    Returns:
        The parsed tables.
    """
    name = shorten(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise error(f"{name}: larger than {MAX_FILE_BYTES // 1_000_000} MB; not a "
                        f"scenario or spec file")
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{name}: not valid TOML ({shorten(exc, 120)})") from None
    except UnicodeDecodeError:
        raise error(f"{name}: not a text file") from None
    except RecursionError:
        raise error(f"{name}: not valid TOML (nested too deeply)") from None
    except OSError as exc:
        raise error(f"{name}: cannot read ({(exc.strerror or 'error').lower()})") from None
    except ValueError as exc:  # an integer beyond Python's digit limit, say
        raise error(f"{name}: not valid TOML ({shorten(exc, 120)})") from None
