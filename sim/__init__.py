"""Grassroots: an agent-based simulation of police force sinking (警力下沉) on Mesa.

The public API:

- :func:`load_scenario` reads a scenario (a preset name or a TOML file) with overrides;
- :class:`PoliceModel` is the Mesa model;
- :func:`run` runs a scenario and returns a :class:`RunResult` with the summary and tables;
- :func:`write_outputs` writes those tables to a folder atomically.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RunResult": "sim.api", "build_model": "sim.api", "collect": "sim.api", "run": "sim.api",
    "write_outputs": "sim.api", "PoliceModel": "sim.model", "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario", "load_scenario": "sim.scenario",
    "Strategy": "sim.strategies", "available_strategies": "sim.strategies",
    "register_strategy": "sim.strategies",
}


def __getattr__(name: str) -> Any:
    """Import the public API on first use (``import sim.rng`` need not load Mesa)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "PoliceModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Strategy",
    "available_strategies",
    "build_model",
    "collect",
    "load_scenario",
    "register_strategy",
    "run",
    "write_outputs",
]
