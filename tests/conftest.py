"""Shared fixtures: tiny scenarios and a helper to run them for a few days."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from agents.enums import OfficerState, Priority
from sim.api import RunResult, build_model, run
from sim.model import PoliceModel
from sim.scenario import PRIORITIES, Scenario

# A 6 x 5 city of 2 x 3 = 6 communities (community_cells 3, the last row of communities
# is 2 cells high), two precincts side by side, four officers and a handful of residents.
TINY: dict[str, Any] = {
    "run.days": 3,
    "city.width": 6,
    "city.height": 5,
    "city.community_cells": 3,
    "city.precincts_x": 2,
    "city.precincts_y": 1,
    "city.population": 5_000,
    "city.density_peaks": 1,
    "police.officers": 4,
    "residents.agents": 30,
}

# Everything that makes a dispatch run deterministic and easy to reason about: no chain
# noise, no admin, officers wait at their posts, everybody always on duty.
PLAIN_DISPATCH: dict[str, Any] = {
    "dispatch.delay_sigma": 0.0,
    "police.admin_share_hq": 0.0,
    "police.hq_civilian_share": 0.0,
    "police.admin_share_station": 0.0,
    "police.admin_share_community": 0.0,
    "police.patrol_share": 0.0,
    "police.shifts_per_day": 1,
    "police.rest_groups": 0,
}


def tiny_scenario(overrides: dict[str, Any] | None = None, **more: Any) -> Scenario:
    """A small, fast scenario; ``overrides`` (dotted keys) win over the tiny defaults.

    Keyword arguments use ``__`` for dots: ``tiny_scenario(police__officers=2)``.
    """
    values = dict(TINY)
    values.update(overrides or {})
    values.update({k.replace("__", "."): v for k, v in more.items()})
    return Scenario().with_overrides(values)


def run_days(scenario: Scenario, days: int = 3, seed: int = 7) -> RunResult:
    """Run ``scenario`` for ``days`` days with ``seed``."""
    return run(scenario, seed=seed, days=days)


def make_model(scenario: Scenario, seed: int = 7, days: int | None = None) -> PoliceModel:
    """A model at time 0 (the day-0 incidents are drawn, nothing has happened yet)."""
    return build_model(scenario, seed=seed, days=days)


def all_priorities(**values: Any) -> dict[str, Any]:
    """The same per-priority setting for every priority, e.g. ``report_prob=1.0``."""
    return {f"incidents.classes.{p}.{k}": v for p in PRIORITIES for k, v in values.items()}


def free_everybody(model: PoliceModel) -> None:
    """Put every officer on duty, idle, at their post."""
    f = model.force
    f.on_duty[:] = True
    f.set_states(np.arange(f.n), int(OfficerState.IDLE), model.now)
    model.force.place(np.arange(f.n), f.post_cell.copy())


@pytest.fixture
def tiny() -> Callable[..., Scenario]:
    """Factory of tiny scenarios (see :func:`tiny_scenario`)."""
    return tiny_scenario


@pytest.fixture
def run_n_days() -> Callable[..., RunResult]:
    """Helper running a scenario for N days (see :func:`run_days`)."""
    return run_days


# A small city for end-to-end checks (a fraction of a second per simulated month).
SMALL: dict[str, Any] = {
    "city.width": 16,
    "city.height": 16,
    "city.community_cells": 4,
    "city.population": 20_000,
    "police.officers": 40,
    "residents.agents": 2_000,
}


def add_incident(model, cell: int, priority: Priority, t_ready: float | None = None) -> int:
    """Log one reported incident; schedule its call if ``t_ready`` is given."""
    lay = model.layout
    t = model.now if t_ready is None else t_ready
    rows = model.log.append(
        t_occur=np.array([t]), t_report=np.array([t]), t_ready=np.array([t]),
        cell=np.array([cell]), community=lay.community[[cell]], precinct=lay.precinct[[cell]],
        priority=np.array([int(priority)]), in_progress=np.array([False]),
        reported=np.array([True]), u_report=np.array([0.0]), u_clear=np.array([0.5]),
        u_victim=np.array([0.5]), z_scene=np.array([0.0]), z_chain=np.array([0.0]),
        z_report=np.array([0.0]),
    )
    if t_ready is not None:
        model.dispatcher.schedule_calls(rows)
    return int(rows[0])
