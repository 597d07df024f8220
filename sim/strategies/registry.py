"""The strategy registry: names to classes, built-ins plus plug-ins.

Plug-ins are loaded only from what is explicitly named: a ``grassroots.strategies`` entry
point of an installed package, or a class registered in code with :func:`register_strategy`.
Scenario files name strategies; they never name code to import.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

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
    from sim.strategies import builtin  # noqa: F401  (registers on import)


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
