"""Validation against queueing and geometric theory: ``grassroots validate [--quick]``.

Each check runs the model in a special case where theory gives an exact answer and compares
the simulated value (with a 95% confidence interval from batch means over time or from
independent replications) with the theoretical one:

1. **M/M/c dispatch queue**: zero chain and reporting delay, no travel, Poisson calls of one
   priority, exponential on-scene times and ``c`` interchangeable officers always on duty and
   available. ``P(wait)`` and the mean wait are compared with Erlang C.
2. **Travel distance**: a single officer at a central HQ post (and, second, a single officer
   patrolling uniformly over the city) against the discrete-grid mean L1 distances
   ``grid_mean_cell_to_uniform`` / ``grid_mean_uniform_pair``.
3. **Spatial queueing**: a two-unit city against Larson's hypercube model (infinite queue).
4. **Incident process**: daily counts (mean and Poisson dispersion), the top-5% cell share and
   the daily cycle.
5. **Little's law** on the dispatch queue: time-average number waiting = rate x mean wait.

A check passes when the theoretical value lies within the 99.5% interval of the simulated
estimate (the table prints the 95% interval); the wider decision interval keeps the
family-wise false-alarm rate of ~20 checks low while any real bias of the size of the CI
still fails. Runs use fixed seeds, so results are reproducible.

Model mechanics that prevent a naive comparison, and how they are handled:

* The risk surface multiplies population by i.i.d. lognormal(0, 0.5) noise per cell (no
  parameter turns it off), so incidents are never exactly uniform over cells even with a
  flat population and no hot spots. The travel checks therefore compare (a) with the exact
  risk-weighted expectation, and (b) with the uniform formulas after importance weighting
  each incident by ``1 / risk[cell]`` (self-normalised), which is exactly unbiased for the
  uniform-cell mean.
* A unit that has just cleared stays at the scene (``RETURNING`` with ``return_to_post`` or
  ``IDLE`` without) until the next hourly roster tick, and may be dispatched from there. The
  travel checks reconstruct, for the single officer, where each dispatch started and keep
  only those from the post (resp. from a fresh patrol cell); that selection depends only on
  past incidents, so the current incident's cell is still an independent draw.
* The hypercube model is checked twice: with ``dispatch.travel = false`` (all travel times
  zero, ties to the lower officer index: an exact fixed preference), and with nearest-unit
  dispatch by travel at a speed that makes travel negligible: a unit whose drive back has
  ended is at its station, so each atom prefers the nearer station's unit.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments import theory
from sim.api import RunResult, build_model, collect
from sim.city import CityLayout
from sim.outputs import write_file
from sim.rng import DEFAULT_SEED
from sim.scenario import PRIORITIES, Scenario
from sim.units import MIN_PER_DAY

LEVEL = 0.95  # printed confidence level
DECISION_LEVEL = 0.995  # pass/fail interval
WARMUP = 0.1  # share of the horizon discarded
N_BATCHES = 20


def run(sc: Scenario, seed: int, days: int) -> tuple[RunResult, CityLayout]:
    """Run a scenario and return its tables together with the city layout."""
    model = build_model(sc, seed, days)
    model.run_days(model.config.run.days)
    return collect(model), model.layout


# ---------------------------------------------------------------------------------------------
# Statistics helpers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error and degrees of freedom (t-based CI)."""

    mean: float
    se: float
    df: float

    def ci(self, level: float = LEVEL) -> tuple[float, float]:
        """Return the two-sided ``level`` confidence interval."""
        if not math.isfinite(self.se) or self.df <= 0:
            return (math.nan, math.nan)
        q = float(stats.t.ppf(0.5 + level / 2, self.df)) if math.isfinite(self.df) else \
            float(stats.norm.ppf(0.5 + level / 2))
        return (self.mean - q * self.se, self.mean + q * self.se)

    def agrees(self, target: float, level: float = DECISION_LEVEL, atol: float = 0.0) -> bool:
        """Whether ``target`` lies within the ``level`` interval widened by ``atol``."""
        lo, hi = self.ci(level)
        if not math.isfinite(lo):
            return abs(self.mean - target) <= atol
        return lo - atol <= target <= hi + atol


def mean_estimate(samples: np.ndarray | list[float]) -> Estimate:
    """Student-t estimate of the mean of i.i.d. samples (replications or batch means)."""
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Estimate(math.nan, math.nan, 0)
    if x.size == 1:
        return Estimate(float(x[0]), math.nan, 0)
    return Estimate(float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)), x.size - 1)


def batch_means(values: np.ndarray, n_batches: int = N_BATCHES) -> np.ndarray:
    """Means of ``n_batches`` contiguous, (nearly) equal batches of a time-ordered series.

    Leftover observations (``len % n_batches``) are spread one per leading batch, so every
    observation is used.
    """
    x = np.asarray(values, dtype=float)
    if n_batches < 1:
        raise ValueError("n_batches must be >= 1")
    if x.size < n_batches:
        raise ValueError(f"need at least {n_batches} observations, got {x.size}")
    return np.array([b.mean() for b in np.array_split(x, n_batches)])


def batch_means_estimate(values: np.ndarray, n_batches: int = N_BATCHES) -> Estimate:
    """Batch-means estimate of the steady-state mean of a time-ordered series."""
    return mean_estimate(batch_means(values, n_batches))


def time_batches(t: np.ndarray, t0: float, t1: float, n_batches: int = N_BATCHES) -> np.ndarray:
    """Batch index (0..n-1) of each time in ``[t0, t1)`` for equal-length windows; -1 outside."""
    t = np.asarray(t, dtype=float)
    k = np.floor((t - t0) / (t1 - t0) * n_batches).astype(np.int64)
    return np.where((t >= t0) & (t < t1), k, -1)


def time_average_count(start: np.ndarray, end: np.ndarray, t0: float, t1: float) -> float:
    """Time-average number of intervals ``[start, end)`` covering a point of ``[t0, t1)``."""
    overlap = np.clip(np.minimum(end, t1) - np.maximum(start, t0), 0.0, None)
    return float(overlap.sum() / (t1 - t0))


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass
class Check:
    """One row of the validation table."""

    group: str
    name: str
    config: str
    value: float
    lo: float
    hi: float
    theory: float
    passed: bool
    note: str = ""

    @classmethod
    def from_estimate(cls, group: str, name: str, config: str, est: Estimate, target: float,
                      atol: float = 0.0, note: str = "") -> Check:
        """A row whose verdict is whether ``target`` lies in the decision interval."""
        lo, hi = est.ci(LEVEL)
        return cls(group, name, config, est.mean, lo, hi, float(target),
                   bool(est.agrees(target, DECISION_LEVEL, atol)), note)


@dataclass
class Report:
    """All checks of one validation run."""

    quick: bool
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-able data (NaN becomes null)."""

        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {"quick": self.quick, "passed": self.passed, "seconds": round(self.seconds, 2),
                "confidence_level": LEVEL, "decision_level": DECISION_LEVEL,
                "checks": [{k: clean(v) for k, v in asdict(c).items()} for c in self.checks]}


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "-"
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.3e}"
    return f"{v:.4f}" if a < 10 else f"{v:.2f}"


def format_table(report: Report) -> str:
    """Render the checks as an aligned text table."""
    header = ("#", "check", "configuration", "simulated", "95% CI", "theory", "result")
    rows = []
    for c in report.checks:
        ci = "-" if not math.isfinite(c.lo) else f"[{_fmt(c.lo)}, {_fmt(c.hi)}]"
        rows.append((c.group, c.name, c.config, _fmt(c.value), ci, _fmt(c.theory),
                     "PASS" if c.passed else "FAIL"))
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    right = {3, 5}

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(str(s).rjust(w) if i in right else str(s).ljust(w)
                         for i, (s, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    n_fail = sum(not c.passed for c in report.checks)
    out.append("")
    out.append(f"{len(report.checks) - n_fail}/{len(report.checks)} checks passed "
               f"({'quick' if report.quick else 'full'}, {report.seconds:.1f} s); "
               f"pass = theory inside the {DECISION_LEVEL:.1%} interval")
    notes = [f"  [{c.group} {c.name} {c.config}] {c.note}" for c in report.checks if c.note]
    if notes:
        out.append("notes:")
        out += notes
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------

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
    "incidents.emergency.share": 0.0,
    "incidents.urgent.share": 0.0,
    "incidents.routine.share": 1.0,
    **{f"incidents.{p}.report_prob": 1.0 for p in PRIORITIES},
    "dispatch.call_handling_min": 0.0,
    "dispatch.hop_delay_min": 0.0,
    "residents.agents": 0,
    "residents.deterrence": False,
    "residents.near_repeat": False,
    "residents.reporting_trust_elasticity": 0.0,
    "strategy.name": "centralized",
}


def rate_for(lam_per_min: float, population: float) -> float:
    """``incidents.rate_per_1000_day`` giving ``lam_per_min`` calls per minute."""
    return lam_per_min * MIN_PER_DAY * 1000.0 / population


def scenario(**overrides: Any) -> Scenario:
    """The clean base scenario with dotted overrides (``a__b`` stands for ``a.b``)."""
    data = dict(BASE)
    data.update({k.replace("__", "."): v for k, v in overrides.items()})
    return Scenario().with_overrides(data)


def on_scene(mean_min: float) -> dict[str, float]:
    """Overrides giving every priority the same on-scene mean."""
    return {f"incidents__{p}__on_scene_mean_min": mean_min for p in PRIORITIES}


# ---------------------------------------------------------------------------------------------
# 1 + 5. M/M/c and Little's law
# ---------------------------------------------------------------------------------------------

MMC_CALLS_PER_MIN = 0.5
MMC_QUICK = [(1, 0.5), (4, 0.8), (10, 0.9)]
MMC_FULL = [(1, 0.3), (1, 0.8), (2, 0.6), (3, 0.9), (5, 0.5), (5, 0.95), (10, 0.7),
            (12, 0.95), (20, 0.5), (20, 0.9)]


def mmc_run(c: int, rho: float, calls: int, seed: int,
            mean_min: float = 30.0) -> tuple[RunResult, CityLayout]:
    """Run the M/M/c special case with about ``calls`` calls."""
    lam = rho * c / mean_min
    days = max(20, int(math.ceil(calls / (lam * MIN_PER_DAY))))
    sc = scenario(**{
        "city.width": 4, "city.height": 4, "city.community_cells": 2, "city.precincts_x": 1,
        "city.precincts_y": 1, "police.officers": c, "police.share_hq": 1.0,
        "police.share_station": 0.0, "police.share_community": 0.0,
        "incidents.rate_per_1000_day": rate_for(lam, 100_000), "dispatch.travel": False,
        **{k.replace("__", "."): v for k, v in on_scene(mean_min).items()},
    })
    return run(sc, seed, days)


def check_mmc(c: int, rho: float, calls: int, seed: int, mean_min: float = 30.0) -> list[Check]:
    """Erlang C and Little's law for one (c, rho) point."""
    res, _ = mmc_run(c, rho, calls, seed, mean_min)
    mu, lam = 1.0 / mean_min, rho * c / mean_min
    horizon = res.scenario.run.days * MIN_PER_DAY
    t0, t1 = WARMUP * horizon, 0.97 * horizon
    inc = res.incidents[res.incidents["reported"]]
    t_ready = inc["t_ready"].to_numpy()
    t_disp = np.nan_to_num(inc["t_dispatch"].to_numpy(), nan=horizon)
    wait = t_disp - t_ready
    k = time_batches(t_ready, t0, t1)
    keep = k >= 0
    kb, wb = k[keep], wait[keep]
    p_wait = np.array([np.mean(wb[kb == b] > 0) for b in range(N_BATCHES)])
    w_mean = np.array([np.mean(wb[kb == b]) for b in range(N_BATCHES)])
    cfg = f"c={c} rho={rho:g} 1/mu={mean_min:.3g}m"
    n = int(keep.sum())
    out = [
        Check.from_estimate("1", "M/M/c P(wait)", cfg, mean_estimate(p_wait),
                            theory.erlang_c(c, lam / mu), note=""),
        Check.from_estimate("1", "M/M/c mean wait (min)", cfg, mean_estimate(w_mean),
                            theory.mmc_wait_mean(lam, mu, c)),
    ]
    # Little's law: time-average number waiting over each window vs rate x mean wait of the
    # calls arriving in it (the same sample path, so only boundary terms differ).
    edges = np.linspace(t0, t1, N_BATCHES + 1)
    l_q, lam_w = np.empty(N_BATCHES), np.empty(N_BATCHES)
    for b in range(N_BATCHES):
        a, z = edges[b], edges[b + 1]
        l_q[b] = time_average_count(t_ready, t_disp, a, z)
        lam_w[b] = (kb == b).sum() / (z - a) * w_mean[b]
    est = mean_estimate(l_q)
    diff = mean_estimate(l_q - lam_w)
    lam_hat = n / (t1 - t0)
    target = float(np.mean(lam_w))
    out.append(Check("5", "Little Lq = lam*Wq", cfg, est.mean, *est.ci(LEVEL), target,
                     bool(diff.agrees(0.0, DECISION_LEVEL, atol=0.01 * max(target, 1e-9))),
                     note=f"theory = lam_hat*W_hat (lam_hat={lam_hat:.4f}/min, set {lam:.4f}); "
                          f"Erlang Lq={theory.mmc_queue_length_mean(lam, mu, c):.4f}"))
    return out


# ---------------------------------------------------------------------------------------------
# 2. Travel distance
# ---------------------------------------------------------------------------------------------

TRAVEL_SIDE = 21
SPEED_KMH = 25.0
TURNOUT = 1.0


def travel_run(days: int, seed: int, patrol: bool) -> tuple[RunResult, CityLayout]:
    """One officer, low load, at a central HQ (``patrol=False``) or patrolling the city."""
    side = TRAVEL_SIDE
    lam = 1.0 / 60.0  # one call an hour
    sc = scenario(**{
        "city.width": side, "city.height": side, "city.community_cells": 7,
        "city.precincts_x": 1, "city.precincts_y": 1, "police.officers": 1,
        "police.share_hq": 1.0, "police.share_station": 0.0, "police.share_community": 0.0,
        "police.vehicle_share_hq": 1.0, "police.speed_vehicle_kmh": SPEED_KMH,
        "police.turnout_min": TURNOUT, "police.patrol_share": 1.0 if patrol else 0.0,
        "dispatch.return_to_post": not patrol, "dispatch.travel": True,
        "incidents.rate_per_1000_day": rate_for(lam, 100_000),
        **{k.replace("__", "."): v for k, v in on_scene(10.0).items()},
    })
    return run(sc, seed, days)


def _served(res: RunResult) -> pd.DataFrame:
    inc = res.incidents
    return inc[np.isfinite(inc["t_dispatch"])].sort_values("t_dispatch").reset_index(drop=True)


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
    inc = _served(res)
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
    cfg = f"{side}x{side} HQ ({hq_xy[0]},{hq_xy[1]})"
    note = (f"{from_hq.sum()}/{len(inc)} dispatches from the post; {mismatch} with distance "
            f"!= |HQ-cell|_1")
    out.append(Check.from_estimate("2", "travel HQ->incident, risk-wtd (cells)", cfg,
                                   batch_means_estimate(d), float(risk @ d_hq), note=note))
    out[-1].passed &= mismatch == 0
    out.append(Check.from_estimate(
        "2", "travel HQ->uniform, IS-wtd (cells)", cfg,
        _weighted_batches(d, 1.0 / risk[c_hq]),
        theory.grid_mean_cell_to_uniform(hq_xy[0], hq_xy[1], side, side)))

    # (b) uniform patrol: keep dispatches from a fresh hourly patrol cell.
    res, layout = travel_run(days, seed + 1, patrol=True)
    risk = layout.risk
    inc = _served(res)
    cell = _cells_of(inc, side)
    t_disp, t_clear = inc["t_dispatch"].to_numpy(), inc["t_clear"].to_numpy()
    prev_clear = np.concatenate([[-np.inf], t_clear[:-1]])
    fresh = prev_clear <= np.floor(t_disp / 60.0) * 60.0
    d = _dist_cells(inc, cs)[fresh]
    c_f = cell[fresh]
    cfg = f"{side}x{side} uniform patrol"
    out.append(Check.from_estimate("2", "travel uniform->incident, risk-wtd", cfg,
                                   batch_means_estimate(d), float(d_pair.mean(axis=0) @ risk),
                                   note=f"{fresh.sum()}/{len(inc)} dispatches from a fresh "
                                        "patrol cell"))
    out.append(Check.from_estimate("2", "travel uniform->uniform, IS-wtd", cfg,
                                   _weighted_batches(d, 1.0 / risk[c_f]),
                                   theory.grid_mean_uniform_pair(side, side)))
    return out


# ---------------------------------------------------------------------------------------------
# 3. Hypercube
# ---------------------------------------------------------------------------------------------


def check_hypercube(reps: int, days: int, seed: int, rho: float = 0.5,
                    mean_min: float = 30.0, nearest: bool = False) -> list[Check]:
    """Two stations, one officer each, infinite FCFS queue, vs Larson's hypercube model.

    With ``nearest=False`` travel is off, so ties make a fixed preference (unit 1, then 2)
    for every atom. With ``nearest=True`` units drive (so fast that travel is negligible
    against service) and dispatch is nearest-by-travel from the post: each atom prefers the
    unit whose station is closer, which the hypercube takes as its preference list.
    """
    lam = 2 * rho / mean_min
    travel = ({"dispatch.travel": True, "police.speed_vehicle_kmh": 1e6,
               "police.vehicle_share_station": 1.0,  # nobody on foot: travel negligible
               "police.turnout_min": 0.0, "dispatch.return_to_post": True}
              if nearest else {"dispatch.travel": False})
    sc = scenario(**{
        "city.width": 4, "city.height": 2, "city.community_cells": 2, "city.precincts_x": 2,
        "city.precincts_y": 1, "police.officers": 2, "police.share_hq": 0.0,
        "police.share_station": 1.0, "police.share_community": 0.0,
        "police.patrol_share": 0.0, **travel,
        "incidents.rate_per_1000_day": rate_for(lam, 100_000),
        **{k.replace("__", "."): v for k, v in on_scene(mean_min).items()},
    })
    sim = {k: [] for k in ("rho0", "rho1", "inter", "pwait")}
    thy = {k: [] for k in sim}
    for r in range(reps):
        res, layout = run(sc, seed + r, days)
        off = res.extra["officers"].sort_values("officer_id").reset_index(drop=True)
        on_duty = off.filter(like="minutes_").sum(axis=1) - off["minutes_off_duty"]
        busy = ((off["minutes_travelling"] + off["minutes_on_scene"]) / on_duty).to_numpy()
        inc = _served(res)
        prec_of = dict(zip(off["officer_id"], off["precinct"], strict=True))
        unit_prec = inc["officer_id"].map(prec_of).to_numpy()
        for key, v in (("rho0", busy[0]), ("rho1", busy[1]),
                       ("inter", np.mean(unit_prec != inc["precinct"].to_numpy())),
                       ("pwait", np.mean(inc["queue_wait"].to_numpy() > 0))):
            sim[key].append(float(v))
        # Theory for this replication's own risk surface (atoms = cells).
        unit_precinct = off["precinct"].to_numpy()  # officer k posted to precinct k
        hc = theory.solve_hypercube(lam * layout.risk, 1.0 / mean_min,
                                    _preferences(layout, unit_precinct, nearest),
                                    queue="infinite")
        mismatch = unit_precinct[:, None] != layout.precinct[None, :]
        for key, v in (("rho0", hc.workload[0]), ("rho1", hc.workload[1]),
                       ("inter", hc.dispatch_fractions[mismatch].sum()),
                       ("pwait", hc.wait_probability)):
            thy[key].append(float(v))
    rule = "nearest" if nearest else "fixed"
    cfg = f"4x2, 2 units, {rule}, rho={rho:g}, {reps} reps"
    names = {"rho0": "hypercube workload unit 1", "rho1": "hypercube workload unit 2",
             "inter": "hypercube inter-district share", "pwait": "hypercube P(wait)"}
    out = []
    for key, name in names.items():
        s_, t_ = np.array(sim[key]), np.array(thy[key])
        diff = mean_estimate(s_ - t_)  # paired: each replication has its own risk surface
        est = Estimate(float(s_.mean()), diff.se, diff.df)
        out.append(Check.from_estimate("3", name, cfg, est, float(t_.mean())))
    out[0].note = ("nearest unit by travel from its station (drive back instant)" if nearest
                   else "fixed preference unit 1 then 2 (travel off: ties go to the lower "
                   "index)") + "; busy = (travelling + on scene) / on-duty minutes, whole run"
    return out


def _preferences(layout: CityLayout, unit_precinct: np.ndarray,
                 nearest: bool) -> list[list[int]]:
    """Each atom's (cell's) dispatch order.

    By Manhattan distance from each unit's station (ties to the lower unit) when
    ``nearest``, else unit 1 then unit 2.
    """
    n_units = unit_precinct.size
    if not nearest:
        return [list(range(n_units))] * layout.n_cells
    x, y = layout.xy(np.arange(layout.n_cells))
    sx, sy = layout.xy(layout.station_cells[unit_precinct])
    dist = np.abs(x[:, None] - sx[None, :]) + np.abs(y[:, None] - sy[None, :])
    return [sorted(range(n_units), key=lambda k, j=j: (dist[j, k], k))
            for j in range(layout.n_cells)]


# ---------------------------------------------------------------------------------------------
# 4. Incident process
# ---------------------------------------------------------------------------------------------


def check_incidents(days: int, seed: int) -> list[Check]:
    """Daily counts, Poisson dispersion, top-5% cell share and the daily cycle."""
    amp, peak = 0.5, 20.0
    sc = Scenario().with_overrides({
        "police.officers": 1, "residents.agents": 0, "residents.deterrence": False,
        "residents.near_repeat": False, "residents.reporting_trust_elasticity": 0.0,
        "incidents.daily_amplitude": amp, "incidents.peak_hour": peak,
        **{f"incidents.{p}.report_prob": 0.0 for p in PRIORITIES},
    })
    res, layout = run(sc, seed, days)
    inc = res.incidents
    t = inc["t_occur"].to_numpy()
    expected = sc.incidents.rate_per_1000_day * layout.population.sum() / 1000.0
    counts = np.bincount((t // MIN_PER_DAY).astype(int), minlength=days)[:days].astype(float)
    cfg = f"{sc.city.width}x{sc.city.height}, {days} d"
    out = [Check.from_estimate("4", "incidents per day", cfg, mean_estimate(counts), expected)]
    # Poisson dispersion: (n-1) s^2 / mean ~ chi2(n-1); CI of the index by inverting it.
    n = counts.size
    disp = float(counts.var(ddof=1) / counts.mean())

    def chi_ci(level: float) -> tuple[float, float]:
        a = (1 - level) / 2
        return (disp * (n - 1) / stats.chi2.ppf(1 - a, n - 1),
                disp * (n - 1) / stats.chi2.ppf(a, n - 1))

    lo, hi = chi_ci(LEVEL)
    dlo, dhi = chi_ci(DECISION_LEVEL)
    out.append(Check("4", "dispersion index var/mean", cfg, disp, lo, hi, 1.0,
                     bool(dlo <= 1.0 <= dhi)))
    # Top 5% of cells by risk.
    k = int(round(0.05 * layout.n_cells))
    top = np.argsort(-layout.risk, kind="stable")[:k]
    cells = inc["x"].to_numpy() * layout.height + inc["y"].to_numpy()
    share = np.isin(cells, top).astype(float)
    p_hat = float(share.mean())
    out.append(Check.from_estimate("4", "share in top-5% risk cells", cfg,
                                   Estimate(p_hat, math.sqrt(p_hat * (1 - p_hat) / share.size),
                                            math.inf), float(layout.risk[top].sum())))
    # Daily cycle: amplitude from the first Fourier coefficient, and a chi-square by hour.
    omega = 2 * np.pi / MIN_PER_DAY
    c_ = 2 * np.cos(omega * (np.mod(t, MIN_PER_DAY) - peak * 60.0))
    out.append(Check.from_estimate("4", "daily amplitude A (2 E cos)", cfg,
                                   Estimate(float(c_.mean()), float(c_.std(ddof=1) /
                                                                    math.sqrt(c_.size)),
                                            math.inf), amp))
    hours = np.arange(25) * 60.0
    cum = hours + amp / omega * (np.sin(omega * (hours - peak * 60)) -
                                 np.sin(omega * (0 - peak * 60)))
    p_h = np.diff(cum) / cum[-1]
    obs = np.bincount((np.mod(t, MIN_PER_DAY) // 60).astype(int), minlength=24)[:24]
    chi2, pval = stats.chisquare(obs, p_h * obs.sum())
    out.append(Check("4", "hourly counts chi2 p-value", cfg, float(pval), math.nan, math.nan,
                     1 - DECISION_LEVEL, bool(pval >= 1 - DECISION_LEVEL),
                     note=f"chi2={chi2:.1f} on 23 df vs 1 + A cos(2 pi (h - {peak:g})/24); "
                          f"theory column = rejection threshold"))
    return out


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


def run_validation(quick: bool = False, seed: int = DEFAULT_SEED,
                   echo: Callable[[str], None] | None = None) -> Report:
    """Run every check (``quick``: fewer points, shorter runs) and return the report."""
    start = time.perf_counter()
    report = Report(quick=quick)
    say = echo or (lambda _msg: None)
    points = MMC_QUICK if quick else MMC_FULL
    calls = 40_000 if quick else 150_000
    for i, (c, rho) in enumerate(points):
        say(f"M/M/c c={c} rho={rho:g}")
        # Scale the on-scene mean so every point has ~MMC_CALLS_PER_MIN calls a minute: the
        # hourly roster costs per simulated hour, so few, long days would be slow.
        mean_min = rho * c / MMC_CALLS_PER_MIN
        report.checks += check_mmc(c, rho, calls, seed + 100 * i, mean_min)
    # Put Little's-law rows after the M/M/c rows.
    report.checks.sort(key=lambda ch: ch.group)
    say("travel distance")
    report.checks += check_travel(300 if quick else 2000, seed + 7)
    say("hypercube")
    report.checks += check_hypercube(5 if quick else 20, 150 if quick else 400, seed + 11)
    report.checks += check_hypercube(5 if quick else 20, 150 if quick else 400, seed + 13,
                                     nearest=True)
    say("incident process")
    report.checks += check_incidents(150 if quick else 730, seed + 13)
    report.checks.sort(key=lambda ch: ch.group)
    report.seconds = time.perf_counter() - start
    return report


def write_json(report: Report, path: str | Path) -> Path:
    """Write the report as JSON (never over a file that another program wrote)."""
    data = {"generator": "grassroots", "kind": "validation", **report.to_json()}
    return write_file(path, json.dumps(data, indent=2) + "\n", "validation", "--json")
