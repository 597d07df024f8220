"""What the user sets in the page and how it is checked (no UI code).

:class:`Controls` is what the user sets (preset, strategy and its parameters, officers,
incident rate, seed). :meth:`Controls.scenario` turns it into a validated
:class:`sim.scenario.Scenario`; the same controls always give the same model.

Controls arrive from the browser and may hold anything (a client can send any value for any
widget): :meth:`Controls.validate` refuses what the page does not offer (unknown presets,
paths, non-numbers, values beyond :data:`OFFICERS_RANGE` and :data:`RATE_RANGE`) with a
:class:`sim.scenario.ScenarioError` naming the control, which the page shows.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

from sim.scenario import Scenario, ScenarioError, load_scenario
from viz.formatting import shown_value
from viz.panel import apply
from viz.results import results_root

STEP_CHOICES: dict[str, int] = {"1 h": 1, "6 h": 6, "1 day": 24}
"""Step sizes offered by the page, in model steps (hours)."""

LAYERS: dict[str, str] = {
    "risk": "Crime risk",
    "satisfaction": "Satisfaction",
    "trust": "Trust",
    "response": "Mean response time",
    "population": "Population",
}
"""Background layers of the map: key -> label."""

SINK_PARAMS = ("sink_fraction", "tech")
"""Strategy parameters the page offers when the scenario schema declares them."""

OFFICERS_RANGE = (0, 5000)
"""Officers the page accepts (the slider offers 10-400; more would tie up the server)."""

RATE_RANGE = (0.0, 50.0)
"""Incident rates the page accepts (per 1,000 persons per day; the slider offers 0.5-10)."""

SEED_RANGE = (0, 2**63 - 1)
"""Seeds the page accepts."""

INPUT_ERRORS: tuple[type[BaseException], ...] = (ScenarioError, ValueError, TypeError,
                                                 OverflowError)
"""What invalid controls raise: shown in the page, logged without a traceback."""


@dataclass(frozen=True)
class ParamSpec:
    """How to offer one optional strategy parameter in the page.

    Attributes:
        name: Field name in ``[strategy]``.
        kind: ``"bool"``, ``"int"`` or ``"float"``.
        default: Default value of the schema.
        lo: Lower bound (None if unbounded).
        hi: Upper bound (None if unbounded).
        unit: Unit declared by the schema.
        why: Justification declared by the schema (shown as a hint).
    """

    name: str
    kind: str
    default: Any
    lo: float | None
    hi: float | None
    unit: str
    why: str


def strategy_params() -> dict[str, ParamSpec]:
    """Return the sinking parameters (``sink_fraction``, ``tech``) the schema declares.

    The strategies that use them are added independently of this page; a parameter missing
    from the composed ``[strategy]`` section is simply not offered.
    """
    from sim.strategies.registry import strategy_config_class

    out: dict[str, ParamSpec] = {}
    composed = strategy_config_class()
    defaults = composed()
    for f in dataclasses.fields(composed):
        if f.name not in SINK_PARAMS:
            continue
        info = f.metadata.get("param")
        value = getattr(defaults, f.name)
        kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else "float"
        out[f.name] = ParamSpec(f.name, kind, value, getattr(info, "lo", None),
                                getattr(info, "hi", None), getattr(info, "unit", "-"),
                                getattr(info, "why", ""))
    return out


def strategy_names() -> list[str]:
    """Names of every registered strategy, sorted."""
    from sim.strategies import available_strategies

    return list(available_strategies())


def preset_names() -> list[str]:
    """Names of the scenario presets."""
    from scenarios import list_presets

    return [name for name, _ in list_presets()]


@dataclass(frozen=True)
class Controls:
    """What the user sets in the page; everything else comes from the preset.

    Attributes:
        preset: Scenario preset name (see ``scenarios/``).
        strategy: Strategy name.
        officers: Number of officers (``police.officers``).
        incident_rate: True incidents per 1,000 persons per day
            (``incidents.rate_per_1000_day``).
        seed: Root seed (``run.seed``).
        sink_fraction: ``strategy.sink_fraction`` if the schema has it, else None.
        tech: ``strategy.tech`` if the schema has it, else None.
        params: The parameter panel's entries, ``(dotted_name, raw)`` as the browser sent
            them (see :mod:`viz.panel`); applied before the controls above.
        source: The resolved TOML of an uploaded scenario, which replaces the preset (None:
            the preset).
        source_name: The uploaded file's name (for display).
    """

    preset: str = "default"
    strategy: str = "centralized"
    officers: int = 120
    incident_rate: float = 3.0
    seed: int = 20261128
    sink_fraction: float | None = None
    tech: bool | int | float | None = None
    params: tuple[tuple[str, Any], ...] = ()
    source: str | None = None
    source_name: str = ""

    def overrides(self) -> dict[str, Any]:
        """Dotted overrides applied on top of the preset."""
        out: dict[str, Any] = {
            "strategy.name": self.strategy,
            "police.officers": int(self.officers),
            "incidents.rate_per_1000_day": float(self.incident_rate),
            "run.seed": int(self.seed),
        }
        specs = strategy_params()
        for name in SINK_PARAMS:
            value = getattr(self, name)
            if name in specs and value is not None:
                out[f"strategy.{name}"] = _coerce(value, specs[name].kind)
        return out

    def validate(self) -> None:
        """Check every control as the browser may send it (any type, any value).

        Only preset *names* are accepted (a path would make the server read that file), only
        registered strategies, and finite numbers within :data:`OFFICERS_RANGE`,
        :data:`RATE_RANGE` and :data:`SEED_RANGE`; the scenario schema checks the rest.

        Raises:
            sim.scenario.ScenarioError: Naming the control and the problem.
        """
        if self.source is None:
            check_preset(self.preset)
        elif not isinstance(self.source, str):
            raise ScenarioError("Scenario file: not a scenario")
        if not isinstance(self.params, tuple) or not all(
                isinstance(p, tuple) and len(p) == 2 for p in self.params):
            raise ScenarioError(f"Parameters: not a list of entries ({shown_value(self.params)})")
        if not isinstance(self.strategy, str) or self.strategy not in strategy_names():
            raise ScenarioError(f"Strategy: unknown strategy {shown_value(self.strategy)} (known: "
                                f"{', '.join(strategy_names())})")
        check_number("Officers", self.officers, *OFFICERS_RANGE, integer=True)
        check_number("Incident rate", self.incident_rate, *RATE_RANGE)
        check_number("Seed", self.seed, *SEED_RANGE, integer=True)
        specs = strategy_params()
        for name in SINK_PARAMS:
            value = getattr(self, name)
            if value is None or name not in specs:
                continue
            spec = specs[name]
            label = name.replace("_", " ").capitalize()
            if spec.kind == "bool":
                if value not in (True, False, 0, 1):
                    raise ScenarioError(f"{label}: must be on or off, got {shown_value(value)}")
            else:
                check_number(label, value, spec.lo, spec.hi, integer=spec.kind == "int")

    def scenario(self) -> Scenario:
        """The validated scenario these controls describe.

        Raises:
            sim.scenario.ScenarioError: If a value is invalid, out of bounds or unknown.
        """
        self.validate()
        return apply(self.base(), self.params, results_root(), self.overrides())

    def base(self) -> Scenario:
        """The scenario the controls start from: the uploaded file's, else the preset's."""
        if self.source is not None:
            from viz.upload import scenario_from_source

            return scenario_from_source(self.source, results_root())
        return load_scenario(check_preset(self.preset))

    def with_strategy(self, strategy: str) -> Controls:
        """The same controls with another strategy."""
        return dataclasses.replace(self, strategy=strategy)


def check_preset(name: Any) -> str:
    """Accept only the name of a preset (never a path: the server would read that file).

    Args:
        name: What the page sent.

    Returns:
        The name.

    Raises:
        sim.scenario.ScenarioError: If ``name`` is not one of :func:`preset_names`.
    """
    if not isinstance(name, str) or name not in preset_names():
        raise ScenarioError(f"Scenario preset: unknown preset {shown_value(name)} (known: "
                            f"{', '.join(preset_names())})")
    return name


def check_number(label: str, value: Any, lo: float | None, hi: float | None,
                 integer: bool = False) -> None:
    """Check that a control holds a finite number in ``[lo, hi]``.

    Args:
        label: Name of the control in the message.
        value: What the page sent.
        lo: Smallest value accepted (None: no bound).
        hi: Largest value accepted (None: no bound).
        integer: Whether only whole numbers are accepted.

    Raises:
        sim.scenario.ScenarioError: Naming the control and the problem.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScenarioError(f"{label}: must be a number, got {shown_value(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise ScenarioError(f"{label}: must be a finite number, got {shown_value(value)}")
    if integer and not x.is_integer():
        raise ScenarioError(f"{label}: must be a whole number, got {shown_value(value)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        low = "-inf" if lo is None else f"{lo:,}" if isinstance(lo, int) else f"{lo:g}"
        high = "inf" if hi is None else f"{hi:,}" if isinstance(hi, int) else f"{hi:g}"
        raise ScenarioError(f"{label}: must be between {low} and {high}, got {shown_value(value)}")


def _coerce(value: Any, kind: str) -> Any:
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return round(float(value))
    return float(value)


def controls_from_preset(preset: str = "default", seed: int | None = None) -> Controls:
    """Read the controls' starting values from a preset.

    Args:
        preset: Preset name.
        seed: Seed to keep (the preset's ``run.seed`` if None).

    Returns:
        Controls matching the preset exactly.

    Raises:
        sim.scenario.ScenarioError: If ``preset`` is not a preset name or ``seed`` is
            invalid.
    """
    check_preset(preset)
    if seed is not None:
        check_number("Seed", seed, *SEED_RANGE, integer=True)
    return controls_from_scenario(load_scenario(preset), preset, seed=seed)


def controls_from_scenario(sc: Scenario, preset: str = "default", seed: int | None = None,
                           source: str | None = None, source_name: str = "") -> Controls:
    """The controls matching scenario ``sc`` exactly (no panel entries).

    Args:
        sc: The scenario (a preset's, or an uploaded file's).
        preset: The preset name kept in the controls.
        seed: Seed to keep (the scenario's ``run.seed`` if None).
        source: The uploaded scenario's resolved TOML (None for a preset).
        source_name: The uploaded file's name.
    """
    specs = strategy_params()
    extra = {name: getattr(sc.strategy, name) for name in SINK_PARAMS if name in specs}
    return Controls(preset=preset, strategy=sc.strategy.name, officers=sc.police.officers,
                    incident_rate=sc.incidents.rate_per_1000_day,
                    seed=sc.run.seed if seed is None else int(seed), source=source,
                    source_name=source_name, **extra)
