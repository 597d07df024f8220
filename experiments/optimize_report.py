"""What ``grassroots optimize`` leaves behind: the front, its plans and the fresh-seed check.

* ``front.parquet``: one row per plan on the Pareto front, objectives named as the indicators.
* ``trials.parquet``: every evaluated plan.
* ``plans/<plan>.toml``: one scenario file per plan on the front (``grassroots run`` it).
* ``check.parquet``: the fresh-seed re-evaluation of (up to ``check.plans``) front plans and
  of the built-in strategies, one row per run, on common random numbers.
* ``paired.csv``: every checked plan against every built-in strategy, paired by replication:
  mean difference and 95% CI for each objective.
* ``report.md`` and ``figures/``: the front, the plans as tables and maps, and the verdict.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments.optimize import (
    CityShape,
    OptimizeStore,
    PlanRun,
    _directions,
    city_shape,
    pareto_front,
    plan_overrides,
    run_all,
)
from experiments.optimize_spec import OptimizeSpec

RESPONSE = "response_time_mean"
GUARDED = ("satisfaction_mean", "response_time_gini")
"""Objectives a winning plan must not be worse on (the issue's satisfaction and equity)."""


def _atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_plans(spec: OptimizeSpec, store: OptimizeStore, front: pd.DataFrame,
                shape: CityShape) -> list[str]:
    """One scenario file per front plan; return their names (relative to the store)."""
    folder = store.path / "plans"
    folder.mkdir(exist_ok=True)
    names = []
    for row in front.itertuples(index=False):
        params = {c: int(getattr(row, c)) for c in front.columns
                  if c.startswith(("station_", "community_", "shift_")) or c == "tech"}
        sc = spec.scenario.with_overrides({**plan_overrides(params, shape),
                                           "run.days": spec.days, "run.seed": spec.seed})
        head = (f"# Plan {row.plan} of optimisation {spec.name!r} (on the Pareto front).\n"
                f"# Replication r of the search: grassroots run plans/{row.plan}.toml "
                f"--spawn-key r  (r = 0..{spec.replications - 1})\n")
        text = head + sc.to_toml()
        _atomic(folder / f"{row.plan}.toml", lambda p, t=text: p.write_text(t))
        names.append(f"plans/{row.plan}.toml")
    return names


def checked_plans(front: pd.DataFrame, spec: OptimizeSpec) -> pd.DataFrame:
    """Up to ``check.plans`` front plans, spread evenly along the first objective."""
    order = front.sort_values([spec.objectives[0], "plan"]).reset_index(drop=True)
    k = spec.check.plans
    if len(order) <= k:
        return order
    idx = np.unique(np.round(np.linspace(0, len(order) - 1, k)).astype(int))
    return order.iloc[idx].reset_index(drop=True)


def fresh_check(spec: OptimizeSpec, plans: pd.DataFrame, shape: CityShape,
                workers: int | None, dask: Any) -> pd.DataFrame:
    """Re-run the chosen plans and the built-in strategies on fresh common random numbers."""
    c = spec.check
    tasks = []
    for row in plans.itertuples(index=False):
        params = {k: int(getattr(row, k)) for k in plans.columns
                  if k.startswith(("station_", "community_", "shift_")) or k == "tech"}
        sc = spec.scenario.with_overrides(plan_overrides(params, shape))
        tasks += [PlanRun(row.plan, r, sc, spec.days, c.seed) for r in range(c.replications)]
    for name in c.strategies:
        sc = spec.scenario.with_overrides({"strategy.name": name})
        tasks += [PlanRun(name, r, sc, spec.days, c.seed) for r in range(c.replications)]
    runs = run_all(tasks, workers, dask)
    failed = runs[runs["error"] != ""]
    if not failed.empty:
        first = failed.iloc[0]
        raise ValueError(f"check: {len(failed)} of {len(runs)} fresh-seed runs failed; "
                         f"{first['key']} replication {first['rep']}: {first['error']}")
    return runs


def paired(check: pd.DataFrame, spec: OptimizeSpec, plans: list[str]) -> pd.DataFrame:
    """Every plan minus every strategy, paired by replication, with 95% t intervals."""
    rows = []
    for plan in plans:
        a = check[check["key"] == plan].set_index("rep")
        for name in spec.check.strategies:
            b = check[check["key"] == name].set_index("rep")
            for o, direction in zip(spec.objectives, _directions(spec), strict=True):
                d = (a[o] - b[o]).dropna()
                rows.append({"plan": plan, "strategy": name, "indicator": o,
                             "better": "lower" if direction == "minimize" else "higher",
                             **_interval(d.to_numpy(float))})
    return pd.DataFrame(rows)


def _interval(d: np.ndarray) -> dict[str, float]:
    n = d.size
    mean = float(d.mean()) if n else float("nan")
    if n < 2:
        return {"diff": mean, "lo": float("nan"), "hi": float("nan"), "n": n}
    half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n))
    return {"diff": mean, "lo": mean - half, "hi": mean + half, "n": n}


def winners(pairs: pd.DataFrame, spec: OptimizeSpec) -> list[str]:
    """Plans that beat every built-in on mean response without being worse on the guarded.

    "Beat" is a paired 95% interval of the difference entirely on the better side; "not
    worse" is an interval that does not lie entirely on the worse side.
    """
    if RESPONSE not in spec.objectives:
        return []
    out = []
    for plan, sub in pairs.groupby("plan", sort=True):
        resp = sub[sub["indicator"] == RESPONSE]
        beats = bool((resp["hi"] < 0).all()) and len(resp) == len(spec.check.strategies)
        guarded = sub[sub["indicator"].isin(GUARDED)]
        worse = ((guarded["better"] == "higher") & (guarded["hi"] < 0)) | \
                ((guarded["better"] == "lower") & (guarded["lo"] > 0))
        if beats and not worse.any():
            out.append(str(plan))
    return out


def finish(spec: OptimizeSpec, store: OptimizeStore, trials: pd.DataFrame,
           workers: int | None = None, dask: Any = None) -> dict[str, Any]:
    """Write the front, its plans, the fresh-seed check and the report into the store.

    Returns:
        Key figures: plans evaluated, front size, checked plans, winners.
    """
    from experiments.optimize_figures import front_figure, plan_figure
    from experiments.optimize_markdown import report_markdown

    front = pareto_front(trials, spec)
    slim = trials.drop(columns=["system_attrs"], errors="ignore")
    _atomic(store.path / "trials.parquet", lambda p: slim.to_parquet(p, index=False))
    shape = city_shape(spec.scenario)  # builds the base model once
    files = write_plans(spec, store, front, shape)
    front_out = front.drop(columns=["system_attrs"], errors="ignore").assign(
        plan_file=files)
    _atomic(store.path / "front.parquet", lambda p: front_out.to_parquet(p, index=False))
    chosen = checked_plans(front, spec) if not front.empty else front
    check = fresh_check(spec, chosen, shape, workers, dask) if not chosen.empty else pd.DataFrame()
    pairs = paired(check, spec, list(chosen["plan"])) if not check.empty else pd.DataFrame()
    if not check.empty:
        _atomic(store.path / "check.parquet", lambda p: check.to_parquet(p, index=False))
        _atomic(store.path / "paired.csv", lambda p: pairs.to_csv(p, index=False))
    won = winners(pairs, spec) if not pairs.empty else []
    figures = store.path / "figures"
    figures.mkdir(exist_ok=True)
    front_figure(trials, front, spec, figures / "front.png")
    if not chosen.empty:
        plan_figure(chosen, spec, figures / "plans.png")
    text = report_markdown(spec, trials, front, chosen, check, pairs, won)
    _atomic(store.path / "report.md", lambda p: p.write_text(text))
    return {"evaluated": len(trials), "front": len(front), "checked": len(chosen),
            "winners": won}
