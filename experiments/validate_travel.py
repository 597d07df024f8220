"""Travel checks: mean L1 distances of a single officer against the grid formulas.

2. **Travel distance**: a single officer at a central HQ post (and, second, a single officer
   patrolling uniformly over the city) against the discrete-grid mean L1 distances
   ``grid_mean_cell_to_uniform`` / ``grid_mean_uniform_pair``.

Two model mechanics prevent a naive comparison:

* The risk surface multiplies population by i.i.d. lognormal(0, 0.5) noise per cell (no
  parameter turns it off), so incidents are never exactly uniform over cells even with a
  flat population and no hot spots. The checks therefore compare (a) with the exact
  risk-weighted expectation, and (b) with the uniform formulas after importance weighting
  each incident by ``1 / risk[cell]`` (self-normalised), which is exactly unbiased for the
  uniform-cell mean.
* A unit that has just cleared stays at the scene (``RETURNING`` with ``return_to_post`` or
  ``IDLE`` without) until the next hourly roster tick, and may be dispatched from there. The
  checks reconstruct, for the single officer, where each dispatch started and keep only
  those from the post (resp. from a fresh patrol cell); that selection depends only on past
  incidents, so the current incident's cell is still an independent draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments import theory
from experiments.validate_setup import on_scene, rate_for, run, scenario, served
from experiments.validate_stats import (
    N_BATCHES,
    Estimate,
    batch_means_estimate,
    mean_estimate,
)
from experiments.validate_table import Check, ConfigValue
from sim.api import RunResult
from sim.city import CityLayout

TRAVEL_SIDE = 21
SPEED_KMH = 25.0
TURNOUT = 1.0


def travel_run(days: int, seed: int, patrol: bool) -> tuple[RunResult, CityLayout]:
    """One officer, low load, at a central HQ (``patrol=False``) or patrolling the city."""
    side = TRAVEL_SIDE
    lam = 1.0 / 60.0  # one call an hour
    sc = scenario({
        "city.width": side, "city.height": side, "city.community_cells": 7,
        "city.precincts_x": 1, "city.precincts_y": 1, "police.officers": 1,
        "police.share_hq": 1.0, "police.share_station": 0.0, "police.share_community": 0.0,
        "police.vehicle_share_hq": 1.0, "police.speed_vehicle_kmh": SPEED_KMH,
        "police.turnout_min": TURNOUT, "police.patrol_share": 1.0 if patrol else 0.0,
        "dispatch.return_to_post": not patrol, "dispatch.travel": True,
        "incidents.rate_per_1000_day": rate_for(lam, 100_000),
        **on_scene(10.0),
    })
    return run(sc, seed, days)




def _cells_of(inc: pd.DataFrame, side: int) -> np.ndarray:
    return inc["x"].to_numpy() * side + inc["y"].to_numpy()


def _dist_cells(inc: pd.DataFrame, cell_size: float) -> np.ndarray:
    min_per_m = 60.0 / (SPEED_KMH * 1000.0)
    return (inc["travel_time"].to_numpy() - TURNOUT) / min_per_m / cell_size


def _weighted_batches(d: np.ndarray, w: np.ndarray) -> Estimate:
    """Batch-means estimate of the self-normalised weighted mean ``sum w d / sum w``."""
    parts = zip(np.array_split(d, N_BATCHES), np.array_split(w, N_BATCHES), strict=True)
    return mean_estimate([float((dd * ww).sum() / ww.sum()) for dd, ww in parts])


def check_travel(days: int, seed: int) -> list[Check]:
    """Mean L1 travel distance from the HQ and between uniform points."""
    side = TRAVEL_SIDE
    out: list[Check] = []
    hq_xy = (int(round(0.5 * (side - 1))),) * 2
    gx, gy = np.divmod(np.arange(side * side), side)
    d_hq = np.abs(gx - hq_xy[0]) + np.abs(gy - hq_xy[1])
    d_pair = np.abs(gx[:, None] - gx[None, :]) + np.abs(gy[:, None] - gy[None, :])

    # (a) HQ post: keep dispatches that started at the post.
    res, layout = travel_run(days, seed, patrol=False)
    risk = layout.risk
    inc = served(res)
    cell = _cells_of(inc, side)
    t_disp, t_clear = inc["t_dispatch"].to_numpy(), inc["t_clear"].to_numpy()
    hq = hq_xy[0] * side + hq_xy[1]
    min_per_m = 60.0 / (SPEED_KMH * 1000.0)
    cs = res.scenario.city.cell_size_m
    at_post = np.full(len(inc), -np.inf)
    prev_cell, prev_clear = cell[:-1], t_clear[:-1]
    back = np.where(prev_cell == hq, 0.0, TURNOUT + d_hq[prev_cell] * cs * min_per_m)
    ready = np.where(prev_cell == hq, prev_clear, np.ceil((prev_clear + back) / 60.0) * 60.0)
    at_post[1:] = ready
    from_hq = t_disp >= at_post
    d = _dist_cells(inc, cs)[from_hq]
    c_hq = cell[from_hq]
    mismatch = int(np.sum(np.abs(d - d_hq[c_hq]) > 1e-6))
    cfg: dict[str, ConfigValue] = {"grid": f"{side}x{side}",
                                         "post": f"HQ({hq_xy[0]},{hq_xy[1]})", "days": days}
    note = (f"{int(from_hq.sum()):,}/{len(inc):,} dispatches from the post; {mismatch:,} with "
            f"distance != |HQ-cell|_1")
    out.append(Check.from_estimate(
        "2", "travel HQ->incident, risk-wtd (cells)", cfg, batch_means_estimate(d),
        float(risk @ d_hq), note=note,
        rule="theory inside the printed CI and every distance = |HQ-cell|_1"))
    out[-1].passed &= mismatch == 0
    out.append(Check.from_estimate(
        "2", "travel HQ->uniform, IS-wtd (cells)", cfg,
        _weighted_batches(d, 1.0 / risk[c_hq]),
        theory.grid_mean_cell_to_uniform(hq_xy[0], hq_xy[1], side, side)))

    # (b) uniform patrol: keep dispatches from a fresh hourly patrol cell.
    res, layout = travel_run(days, seed + 1, patrol=True)
    risk = layout.risk
    inc = served(res)
    cell = _cells_of(inc, side)
    t_disp, t_clear = inc["t_dispatch"].to_numpy(), inc["t_clear"].to_numpy()
    prev_clear = np.concatenate([[-np.inf], t_clear[:-1]])
    fresh = prev_clear <= np.floor(t_disp / 60.0) * 60.0
    d = _dist_cells(inc, cs)[fresh]
    c_f = cell[fresh]
    cfg = {"grid": f"{side}x{side}", "post": "uniform patrol", "days": days}
    out.append(Check.from_estimate("2", "travel uniform->incident, risk-wtd", cfg,
                                   batch_means_estimate(d), float(d_pair.mean(axis=0) @ risk),
                                   note=f"{int(fresh.sum()):,}/{len(inc):,} dispatches from a "
                                        "fresh patrol cell"))
    out.append(Check.from_estimate("2", "travel uniform->uniform, IS-wtd", cfg,
                                   _weighted_batches(d, 1.0 / risk[c_f]),
                                   theory.grid_mean_uniform_pair(side, side)))
    return out
