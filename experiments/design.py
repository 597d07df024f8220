"""Design generators of a sweep: factorial, LHS, Sobol, Morris and Saltelli points.

:func:`make_design` turns a validated spec (:class:`~experiments.spec_model.SweepSpec`)
into its design points: the factorial product of the levels, or a sample in the
``[lo, hi]`` ranges (:mod:`scipy.stats.qmc` for ``lhs`` and ``sobol``, SALib for ``morris``
and ``saltelli``) crossed with the ``[cross]`` levels. :func:`custom_frame` and
:func:`check_points` check a user-given design and apply every point to the base scenario.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from experiments.spec_fields import check_keys, check_strategy, scenario_value
from experiments.spec_model import SAMPLE_PREFIX, SpecError, SweepSpec, plain
from sim.params import echo
from sim.scenario import ScenarioError


def make_design(spec: SweepSpec) -> pd.DataFrame:
    """Generate the design points of a spec.

    Args:
        spec: The spec (its ``points`` are ignored).

    Returns:
        One row per point: ``point``, one column per factor (scenario values) and, for
        sampled designs, ``sample:<key>`` columns with the unrounded sample.
    """
    if spec.design == "factorial":
        keys = [f.key for f in spec.factors]
        rows = list(itertools.product(*(f.levels for f in spec.factors)))
        frame = pd.DataFrame(rows, columns=keys) if keys else pd.DataFrame(index=[0])
        return _number(frame)
    raw = _sample(spec)
    sample = pd.DataFrame(raw, columns=[f.key for f in spec.factors])
    for f in spec.factors:
        values = sample[f.key]
        sample[f.key] = values.round().astype("int64") if f.integer else values
    for f in spec.factors:
        sample[SAMPLE_PREFIX + f.key] = raw[:, spec.factors.index(f)]
    combos = list(itertools.product(*(f.levels for f in spec.cross)))
    cross_keys = [f.key for f in spec.cross]
    blocks = [sample.assign(**dict(zip(cross_keys, combo, strict=True))) for combo in combos]
    frame = pd.concat(blocks, ignore_index=True)
    order = cross_keys + [f.key for f in spec.factors]
    rest = [c for c in frame.columns if c not in order]
    return _number(frame[order + rest])


def _number(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame.insert(0, "point", np.arange(len(frame), dtype=np.int64))
    return frame


def design_rng(seed: int) -> np.random.Generator:
    """The generator of a sampled design: derived from the root seed, distinct from runs."""
    return np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))


def _sample(spec: SweepSpec) -> np.ndarray:
    """The raw sample of a sampled design, in the factors' units."""
    k = len(spec.factors)
    lo = np.array([f.lo for f in spec.factors], dtype=float)
    hi = np.array([f.hi for f in spec.factors], dtype=float)
    rng = design_rng(spec.seed)
    n = int(spec.samples or 0)
    if spec.design in ("lhs", "sobol"):
        from scipy.stats import qmc

        if spec.design == "lhs":
            unit = qmc.LatinHypercube(d=k, rng=rng).random(n)
        else:
            unit = qmc.Sobol(d=k, rng=rng).random_base2(int(math.log2(n)))
        return qmc.scale(unit, lo, hi)
    problem = salib_problem(spec)
    seed = int(rng.integers(2**31 - 1))
    if spec.design == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=spec.morris_levels, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(problem, n, calc_second_order=False, seed=seed)


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem definition of a sampled design."""
    return {"num_vars": len(spec.factors), "names": [f.key for f in spec.factors],
            "bounds": [[f.lo, f.hi] for f in spec.factors]}


def custom_frame(df: Any) -> pd.DataFrame:
    """Check a user-given design DataFrame and number its points."""
    if not isinstance(df, pd.DataFrame):
        raise SpecError(f"design: expected a DataFrame, got {type(df).__name__}")
    df = df.drop(columns=["point"], errors="ignore").reset_index(drop=True)
    if df.empty or not len(df.columns):
        raise SpecError("design: the design DataFrame has no rows or no columns")
    cols = {str(c): df[c].to_numpy() for c in df.columns}
    check_keys(cols, "design")
    return _number(pd.DataFrame(cols))


def check_points(points: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """Apply every point to the base scenario; store the coerced values; report the first error."""
    keys = spec.factor_keys
    coerced: dict[str, list[Any]] = {k: [] for k in keys}
    checked: set[str] = set()
    for i in range(len(points)):
        over = {k: plain(points.at[i, k]) for k in keys}
        try:
            sc = spec.scenario.with_overrides(over)
        except ScenarioError as exc:
            where = "design" if spec.design == "custom" else "factors"
            raise SpecError(f"{where}: point {i} ({_describe(over)}): {exc}") from None
        for k in keys:
            coerced[k].append(scenario_value(sc, k))
        if sc.strategy.name not in checked:
            check_strategy(sc.strategy.name, f"design: point {i}: strategy.name")
            checked.add(sc.strategy.name)
    out = points.copy()
    for k in keys:
        out[k] = pd.Series(coerced[k], index=out.index)
    return out


def _describe(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={echo(v)}" for k, v in overrides.items())
