"""Queueing checks: the M/M/c dispatch queue (Erlang C), Little's law and the hypercube.

1. **M/M/c dispatch queue**: zero chain and reporting delay, no travel, Poisson calls of one
   priority, exponential on-scene times and ``c`` interchangeable officers always on duty and
   available. ``P(wait)`` and the mean wait are compared with Erlang C.
3. **Spatial queueing**: a two-unit city against Larson's hypercube model (infinite queue).
   It is checked twice: with ``dispatch.travel = false`` (all travel times zero, ties to the
   lower officer index: an exact fixed preference), and with nearest-unit dispatch by travel
   at a speed that makes travel negligible: a unit whose drive back has ended is at its
   station, so each atom prefers the nearer station's unit.
5. **Little's law** on the dispatch queue: the realised arrival rate vs the configured one;
   the time-average number waiting vs ``Lq = lam Wq`` with the configured ``lam`` and Erlang
   C's ``Wq``; and, as an internal consistency check, vs the run's own rate x mean wait.
"""

from __future__ import annotations

import math

import numpy as np

from experiments import theory
from experiments.validate_setup import on_scene, rate_for, run, scenario, served
from experiments.validate_stats import (
    N_BATCHES,
    WARMUP,
    Estimate,
    mean_estimate,
    time_average_count,
    time_batches,
)
from experiments.validate_table import Check, ConfigValue
from sim.api import RunResult
from sim.city import CityLayout
from sim.units import MIN_PER_DAY

# ---------------------------------------------------------------------------------------------
# 1 + 5. M/M/c and Little's law
# ---------------------------------------------------------------------------------------------

MMC_CALLS_PER_MIN = 0.5
ROUNDING = 1e-12  # calls: a per-batch Little's-law difference below this is rounding
MMC_QUICK = [(1, 0.5), (4, 0.8), (10, 0.9)]
MMC_FULL = [(1, 0.3), (1, 0.8), (2, 0.6), (3, 0.9), (5, 0.5), (5, 0.95), (10, 0.7),
            (12, 0.95), (20, 0.5), (20, 0.9)]


def mmc_run(c: int, rho: float, calls: int, seed: int,
            mean_min: float = 30.0) -> tuple[RunResult, CityLayout]:
    """Run the M/M/c special case with about ``calls`` calls."""
    lam = rho * c / mean_min
    days = max(20, int(math.ceil(calls / (lam * MIN_PER_DAY))))
    sc = scenario({
        "city.width": 4, "city.height": 4, "city.community_cells": 2, "city.precincts_x": 1,
        "city.precincts_y": 1, "police.officers": c, "police.share_hq": 1.0,
        "police.share_station": 0.0, "police.share_community": 0.0,
        "incidents.rate_per_1000_day": rate_for(lam, 100_000), "dispatch.travel": False,
        **on_scene(mean_min),
    })
    return run(sc, seed, days)


def mmc_config(c: int, rho: float, mean_min: float, calls: int | None = None
               ) -> dict[str, ConfigValue]:
    """The configuration of an M/M/c point as set (``lam`` in calls per minute)."""
    cfg: dict[str, ConfigValue] = {"c": c, "rho": rho, "1/mu_min": mean_min,
                                   "lam_per_min": rho * c / mean_min}
    if calls is not None:
        cfg["calls"] = calls
    return cfg


def check_mmc(c: int, rho: float, calls: int, seed: int, mean_min: float = 30.0) -> list[Check]:
    """Erlang C and Little's law for one (c, rho) point.

    Group 1 compares ``P(wait)`` and the mean wait with Erlang C. Group 5 checks Little's law
    three ways, all with batch means over the same 20 windows: the realised arrival rate
    against the configured ``lam``; the time-average number waiting against
    ``Lq = lam Wq`` with the *configured* ``lam`` and Erlang C's ``Wq`` (the independent
    check); and, as an internal consistency check only, the same time average against the
    run's own arrival rate times its own mean wait (nearly circular: one sample path).
    """
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
    n = int(keep.sum())
    cfg = mmc_config(c, rho, mean_min)
    out = [
        Check.from_estimate("1", "M/M/c P(wait)", cfg, mean_estimate(p_wait),
                            theory.erlang_c(c, lam / mu)),
        Check.from_estimate("1", "M/M/c mean wait (min)", cfg, mean_estimate(w_mean),
                            theory.mmc_wait_mean(lam, mu, c),
                            note=f"{n:,} calls in 20 batches after a {WARMUP:.0%} warm-up"),
    ]
    # Little's law: time-average number waiting over each window (l_q), the arrival rate in
    # it (lam_b) and the mean wait of the calls arriving in it (w_mean).
    edges = np.linspace(t0, t1, N_BATCHES + 1)
    l_q, lam_b = np.empty(N_BATCHES), np.empty(N_BATCHES)
    for b in range(N_BATCHES):
        a, z = edges[b], edges[b + 1]
        l_q[b] = time_average_count(t_ready, t_disp, a, z)
        lam_b[b] = (kb == b).sum() / (z - a)
    lq_theory = lam * theory.mmc_wait_mean(lam, mu, c)
    # The internal difference is often pure floating-point rounding (~1e-18 when the queue
    # is nearly always empty): below ROUNDING it is zero, so rounding cannot decide a verdict.
    internal = l_q - lam_b * w_mean
    internal[np.abs(internal) < ROUNDING] = 0.0
    out += [
        Check.from_estimate("5", "arrival rate lam_hat (/min)", cfg, mean_estimate(lam_b), lam,
                            note="theory = the configured lam"),
        Check.from_estimate("5", "Little: Lq vs lam*Wq (Erlang C)", cfg, mean_estimate(l_q),
                            lq_theory,
                            note="simulated = time-average number waiting; theory = configured "
                                 "lam x Erlang C Wq"),
        Check.from_estimate("5", "Little internal: Lq - lam_hat*W_hat", cfg,
                            mean_estimate(internal), 0.0,
                            note="internal consistency only: lam_hat and W_hat come from the "
                                 "same run (per batch), so only boundary terms differ"),
    ]
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
    sc = scenario({
        "city.width": 4, "city.height": 2, "city.community_cells": 2, "city.precincts_x": 2,
        "city.precincts_y": 1, "police.officers": 2, "police.share_hq": 0.0,
        "police.share_station": 1.0, "police.share_community": 0.0,
        "police.patrol_share": 0.0, **travel,
        "incidents.rate_per_1000_day": rate_for(lam, 100_000),
        **on_scene(mean_min),
    })
    sim: dict[str, list[float]] = {k: [] for k in ("rho0", "rho1", "inter", "pwait")}
    thy: dict[str, list[float]] = {k: [] for k in sim}
    for r in range(reps):
        res, layout = run(sc, seed + r, days)
        off = res.extra["officers"].sort_values("officer_id").reset_index(drop=True)
        on_duty = off.filter(like="minutes_").sum(axis=1) - off["minutes_off_duty"]
        busy = ((off["minutes_travelling"] + off["minutes_on_scene"]) / on_duty).to_numpy()
        inc = served(res)
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
    cfg: dict[str, ConfigValue] = {"grid": "4x2", "units": 2, "dispatch": rule,
                                         "rho": rho, "reps": reps}
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
    # A stable sort by distance keeps ties in unit order (the lower unit first).
    return [[int(k) for k in np.argsort(dist[j], kind="stable")] for j in range(layout.n_cells)]
