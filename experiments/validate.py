"""Validation against queueing and geometric theory: ``grassroots validate [--quick]``.

Each check runs the model in a special case where theory gives an exact answer and compares
the simulated value (with a 99.5% confidence interval from batch means over time or from
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
5. **Little's law** on the dispatch queue: the realised arrival rate vs the configured one; the
   time-average number waiting vs ``Lq = lam Wq`` with the configured ``lam`` and Erlang C's
   ``Wq``; and, as an internal consistency check only, vs the run's own arrival rate times its
   own mean wait (one sample path, so nearly circular).

The pass rule: a check passes when the theoretical value lies inside the 99.5% confidence
interval of the simulated estimate, the interval the table prints (:data:`LEVEL`). Rows judged
otherwise are marked ``*`` and name their rule (the hourly chi-square p-value passes when
``p >= 0.005``; the HQ travel row also needs every distance to equal the L1 distance). At
99.5% each correct check fails with probability 0.5%, so about 15% of quick runs (32 checks)
and 28% of full runs (67 checks) would show one false FAIL if the checks were independent;
runs use fixed seeds, so a given table is reproducible.

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

Where the pieces live (every name is also importable from here, as before):
:mod:`experiments.validate_queueing` (checks 1, 3 and 5), :mod:`experiments.validate_travel`
(check 2), :mod:`experiments.validate_incidents` (check 4), :mod:`experiments.validate_setup`
(the clean base scenario), :mod:`experiments.validate_stats` (estimates and batch means) and
:mod:`experiments.validate_table` (the rows, the table and the JSON file). This module runs
them all: :func:`run_validation`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from experiments.validate_incidents import check_incidents
from experiments.validate_queueing import (
    MMC_CALLS_PER_MIN,
    MMC_FULL,
    MMC_QUICK,
    check_hypercube,
    check_mmc,
    mmc_run,
)
from experiments.validate_setup import BASE, on_scene, rate_for, run, scenario
from experiments.validate_stats import (
    DECISION_LEVEL,
    LEVEL,
    N_BATCHES,
    WARMUP,
    Estimate,
    batch_means,
    batch_means_estimate,
    mean_estimate,
    time_average_count,
    time_batches,
)
from experiments.validate_table import Check, Report, format_table, write_json
from experiments.validate_travel import SPEED_KMH, TRAVEL_SIDE, TURNOUT, check_travel, travel_run
from sim.rng import DEFAULT_SEED
from sim.units import MIN_PER_DAY

__all__ = [
    "BASE",
    "DECISION_LEVEL",
    "DEFAULT_SEED",
    "LEVEL",
    "MIN_PER_DAY",
    "MMC_CALLS_PER_MIN",
    "MMC_FULL",
    "MMC_QUICK",
    "N_BATCHES",
    "SPEED_KMH",
    "TRAVEL_SIDE",
    "TURNOUT",
    "WARMUP",
    "Check",
    "Estimate",
    "Report",
    "batch_means",
    "batch_means_estimate",
    "check_hypercube",
    "check_incidents",
    "check_mmc",
    "check_travel",
    "format_table",
    "mean_estimate",
    "mmc_run",
    "on_scene",
    "rate_for",
    "run",
    "run_validation",
    "scenario",
    "time_average_count",
    "time_batches",
    "travel_run",
    "write_json",
]


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
