"""Grassroots: an agent-based simulation of police force sinking (警力下沉) on Mesa.

The public API:

- :func:`load_scenario` reads a scenario (a preset name or a TOML file) with overrides;
- :class:`PoliceModel` is the Mesa model;
- :func:`run` runs a scenario and returns a :class:`RunResult` with the summary and tables;
- :func:`write_outputs` writes those tables to a folder atomically.
"""

from sim.api import RunResult, build_model, collect, run, write_outputs
from sim.model import PoliceModel
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.strategies import Strategy, available_strategies, register_strategy

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
