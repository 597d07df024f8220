"""The strategy registry: names to classes, built-ins plus plug-ins.

Plug-ins are loaded only from what is explicitly named: a ``grassroots.strategies`` entry
point of an installed package, or a class registered in code with :func:`register_strategy`.
Scenario files name strategies; they never name code to import.
"""

from __future__ import annotations

import dataclasses
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from sim.params import echo

if TYPE_CHECKING:
    from sim.scenario import Scenario
    from sim.strategies.base import Strategy

_REGISTRY: dict[str, type[Strategy]] = {}
ENTRY_POINT_GROUP = "grassroots.strategies"


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Register a strategy class under its ``name`` (usable as a decorator).

    Args:
        cls: A subclass of :class:`sim.strategies.base.Strategy` with a unique ``name``.

    Returns:
        The class, unchanged.
    """
    name = getattr(cls, "name", "")
    if not name or not isinstance(name, str):
        raise ValueError("strategy.name: a strategy class needs a non-empty `name`")
    _REGISTRY[name] = cls
    return cls


def _load_builtins() -> None:
    from sim.strategies import builtin, plan  # noqa: F401  (register on import)


def _load_entry_points() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            register_strategy(ep.load())


def available_strategies() -> dict[str, type[Strategy]]:
    """Return every known strategy by name (built-ins, registered, entry points)."""
    _load_builtins()
    _load_entry_points()
    return dict(sorted(_REGISTRY.items()))


def make_strategy(scenario: Scenario) -> Strategy:
    """Instantiate the strategy named by ``scenario.strategy.name``.

    Raises:
        ValueError: If the name is unknown (message names the field and the choices).
    """
    known = available_strategies()
    name = scenario.strategy.name
    if name not in known:
        raise ValueError(f"strategy.name: unknown strategy {echo(name)} "
                         f"(known: {', '.join(known)})")
    return known[name](scenario)


def _known_in_order() -> list[type[Strategy]]:
    """Every known strategy in registration order (built-ins as defined, then plug-ins).

    Installed entry points are scanned once per process here (a scan costs milliseconds and
    every scenario built asks for this list); :func:`available_strategies` scans every time.
    """
    _load_builtins()
    if not _SCANNED:
        _load_entry_points()
        _SCANNED.append(True)
    return list(_REGISTRY.values())


_SCANNED: list[bool] = []


def strategy_config_class() -> type:
    """The ``[strategy]`` section's dataclass: ``name`` plus every known strategy's parameters.

    Composed from the ``Params`` of every registered strategy (plug-ins included), each
    parameter once; a parameter declared by two strategies must have the same default.
    The same set of parameters always gives the same class.
    """
    from sim.strategies.base import StrategyConfig

    fields: dict[str, tuple[str, Any, dataclasses.Field]] = {}
    for cls in _known_in_order():
        for f in dataclasses.fields(cls.Params):
            if f.name in fields:
                if fields[f.name][2].default != f.default:
                    raise ValueError(f"strategy.{f.name}: declared by {fields[f.name][0]} and "
                                     f"{cls.name} with different defaults")
                continue
            if f.name == "name":
                raise ValueError(f"strategy.name: strategy {cls.name} may not declare `name`")
            if "param" not in f.metadata or not isinstance(f.default, bool | int | float | str
                                                           | tuple):
                raise ValueError(f"strategy.{f.name}: strategy {cls.name} must declare it with "
                                 "sim.params.param (a default, unit and justification)")
            fields[f.name] = (cls.name, f.type, f)
    # One class per set of fields: registering a strategy without new parameters keeps it.
    key = tuple((name, str(ftype), repr(f.default)) for name, (_, ftype, f) in fields.items())
    cached = _COMPOSED.get(key)
    if cached is not None:
        return cached
    composed = dataclasses.make_dataclass(
        "StrategyConfig",
        [(name, ftype, dataclasses.field(default=f.default, metadata=f.metadata))
         for name, (_, ftype, f) in fields.items()],
        bases=(StrategyConfig,), frozen=True, module=StrategyConfig.__module__)
    composed.__doc__ = StrategyConfig.__doc__
    composed.__qualname__ = "StrategyConfig"
    _COMPOSED[key] = composed
    return composed


def users_of(param_name: str) -> list[str]:
    """Names of the strategies that declare ``param_name`` (for ``grassroots show``)."""
    return [c.name for c in _known_in_order()
            if param_name in {f.name for f in dataclasses.fields(c.Params)}]


def default_strategy_config() -> Any:
    """The ``[strategy]`` section with every default (the scenario's default factory)."""
    return strategy_config_class()()


def rebuild_strategy_config(values: dict[str, Any]) -> Any:
    """Re-create a ``[strategy]`` section from its values (how it is unpickled)."""
    return strategy_config_class()(**values)


_COMPOSED: dict[tuple, type] = {}
