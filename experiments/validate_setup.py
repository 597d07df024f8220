"""The clean base scenario of the validation checks and the helpers that run it.

:data:`BASE` switches off everything that would stop the model from being a clean queue;
:func:`scenario` applies a check's own overrides on top, :func:`run` runs it and
:func:`served` picks out the dispatched incidents.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.api import RunResult, build_model, collect
from sim.city import CityLayout
from sim.scenario import PRIORITIES, Scenario
from sim.units import MIN_PER_DAY


def run(sc: Scenario, seed: int, days: int) -> tuple[RunResult, CityLayout]:
    """Run a scenario and return its tables together with the city layout."""
    model = build_model(sc, seed, days)
    model.run_days(model.config.run.days)
    return collect(model), model.layout


# Everything that makes the model a clean queue: no residents, no feedback, no chain delay,
# everybody always on duty, sworn and free of desk work, one priority (FCFS), exponential
# on-scene times, every incident reported at once.
BASE: dict[str, Any] = {
    "city.population": 100_000,
    "city.density_peaks": 0,
    "city.hotspot_cell_share": 0.0,
    "police.auxiliary_share": 0.0,
    "police.hq_civilian_share": 0.0,
    "police.admin_share_hq": 0.0,
    "police.admin_share_station": 0.0,
    "police.admin_share_community": 0.0,
    "police.shifts_per_day": 1,
    "police.rest_groups": 0,
    "incidents.daily_amplitude": 0.0,
    "incidents.on_scene_distribution": "exponential",
    "incidents.report_delay_in_progress_min": 0.0,
    "incidents.report_delay_discovered_min": 0.0,
    "incidents.classes.emergency.share": 0.0,
    "incidents.classes.urgent.share": 0.0,
    "incidents.classes.routine.share": 1.0,
    **{f"incidents.classes.{p}.report_prob": 1.0 for p in PRIORITIES},
    "dispatch.call_handling_min": 0.0,
    "dispatch.hop_delay_min": 0.0,
    "residents.agents": 0,
    "hazard.deterrence": False,
    "hazard.near_repeat": False,
    "outcomes.reporting_trust_elasticity": 0.0,
    "strategy.name": "centralized",
}


def rate_for(lam_per_min: float, population: float) -> float:
    """``incidents.rate_per_1000_day`` giving ``lam_per_min`` calls per minute."""
    return lam_per_min * MIN_PER_DAY * 1000.0 / population


def scenario(overrides: dict[str, Any] | None = None) -> Scenario:
    """The clean base scenario with dotted overrides (``{"police.officers": 3}``)."""
    return Scenario().with_overrides({**BASE, **(overrides or {})})


def on_scene(mean_min: float) -> dict[str, float]:
    """Overrides giving every priority the same on-scene mean."""
    return {f"incidents.classes.{p}.on_scene_mean_min": mean_min for p in PRIORITIES}


def served(res: RunResult) -> pd.DataFrame:
    """The incidents that were dispatched, in dispatch order (index reset)."""
    inc = res.incidents
    return inc[np.isfinite(inc["t_dispatch"])].sort_values("t_dispatch").reset_index(drop=True)
