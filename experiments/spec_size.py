"""Size checks of a sweep: its points, runs and rough wall time, before any design is drawn.

:func:`check_size` refuses a spec whose design would be too large to run (more than
:data:`~experiments.spec_model.MAX_RUNS` runs or
:data:`~experiments.spec_model.MAX_RUN_DAYS` run-days), computing the size from the spec
alone so that a huge design is never generated.
"""

from __future__ import annotations

import math

from experiments.spec_model import MAX_RUN_DAYS, MAX_RUNS, SpecError, SweepSpec

# Wall time of one run on one core: start-up plus a cost per simulated incident, measured on
# the benchmark machine (default city: ~7 s for 365 days of ~300 incidents a day).
RUN_START_S = 0.5
INCIDENT_S = 6.5e-5


def predicted_points(spec: SweepSpec) -> int:
    """How many design points a spec will generate (computed, not generated)."""
    cross = math.prod(len(f.levels) for f in spec.cross)
    k = len(spec.factors)
    n = spec.samples or 0
    if spec.design == "factorial":
        return math.prod(len(f.levels) for f in spec.factors)
    if spec.design == "morris":
        return n * (k + 1) * cross
    if spec.design == "saltelli":
        return n * (k + 2) * cross
    return n * cross


def estimate_seconds(spec: SweepSpec, runs: int) -> float:
    """Rough single-core wall time of ``runs`` runs of the spec's base scenario."""
    sc = spec.scenario
    daily = max(sc.incidents.rate_per_1000_day * sc.city.population / 1000, 1.0)
    return runs * (RUN_START_S + spec.days * daily * INCIDENT_S)


def describe_seconds(seconds: float) -> str:
    """A duration in words (``3.2 hours``, ``41 CPU-years``)."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600),
                       ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.0f} s"


def check_size(spec: SweepSpec, custom_points: int | None = None) -> None:
    """Refuse a design too large to run, with its run count and an estimated time.

    Raises:
        SpecError: Naming ``design`` (or ``replications``) and the limit.
    """
    points = custom_points if custom_points is not None else predicted_points(spec)
    runs = points * spec.replications
    if runs <= MAX_RUNS and runs * spec.days <= MAX_RUN_DAYS:
        return
    field_ = "replications" if points <= MAX_RUNS and spec.replications > 1 and \
        points * spec.days <= MAX_RUN_DAYS else "design"
    raise SpecError(f"{field_}: {points:,} points x {spec.replications:,} replications = "
                    f"{runs:,} runs of {spec.days:,} days is more than the limit of "
                    f"{MAX_RUNS:,} runs or {MAX_RUN_DAYS:,} run-days (about "
                    f"{describe_seconds(estimate_seconds(spec, runs))} on one core); use "
                    f"fewer levels, samples, replications or days")
