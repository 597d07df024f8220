"""Running an assumption audit: every setting x point x replication on the sweep's backends.

Each run is a :class:`experiments.sweep.RunTask` executed by the sweep's worker
(:func:`experiments.sweep.run_one`, which checks that the model recorded the seed it was
sent) on a backend of :func:`experiments.execute.make_backend`: this process, a local process
pool, or a Dask cluster. Replication ``r`` runs with ``SeedSequence(entropy=spec.seed,
spawn_key=(r,))`` at every setting and every point (common random numbers).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from experiments.audit import BASE, AuditPlan, Setting
from experiments.execute import make_backend
from experiments.sweep import RunOutcome, RunTask, failed_outcome, run_one


@dataclass
class AuditResult:
    """The runs of an audit.

    Attributes:
        plan: What was run.
        runs: One row per run: ``run_id, setting, parameter, end, value, point, rep, status,
            error, seed, spawn_key`` and the audited indicators.
        elapsed_s: Wall time of the runs.
        backend: What the runs ran on, in words.
    """

    plan: AuditPlan
    runs: pd.DataFrame
    elapsed_s: float = math.nan
    backend: str = ""

    @property
    def n_failed(self) -> int:
        """Runs that failed."""
        return int((self.runs["status"] != "ok").sum()) if len(self.runs) else 0


def run_id_of(setting: int, point: int, rep: int) -> str:
    """``s<setting>-p<point>-r<rep>``: the id of one audit run."""
    return f"s{setting:03d}-p{point:04d}-r{rep:03d}"


def audit_tasks(plan: AuditPlan) -> list[RunTask]:
    """Every run of an audit, in (setting, point, replication) order.

    Replication ``r`` has the same spawn key ``r`` at every setting and point (common random
    numbers), like a sweep's replication ``r``.
    """
    spec = plan.spec
    return [RunTask(run_id_of(s.index, point, rep), point, rep, plan.scenarios[s.index, point],
                    spec.days, spec.seed, (), plan.indicators, False)
            for s in plan.settings for point in plan.points
            for rep in range(spec.replications)]


def _lost(task: RunTask, exc: BaseException) -> RunOutcome:
    """The outcome of a run whose worker died or never answered."""
    return failed_outcome(task, exc, f"the worker did not return a result: {exc!r}")


def run_audit(plan: AuditPlan, workers: int | None = None, dask: Any = None,
              progress: bool | None = None) -> AuditResult:
    """Run every ``(setting, point, replication)`` of a plan.

    Args:
        plan: The audit (see :func:`load_audit`).
        workers: Local worker processes (None: one per core; 1: serial, in this process).
        dask: A Dask scheduler address, ``"local"``, a ``distributed.Client`` or a cluster.
        progress: Progress bar on stderr (None: only when stderr is a terminal).

    Returns:
        The runs, sorted by (setting, point, replication); a run that failed is a row with
        ``status == "failed"`` and NaN indicators.
    """
    from tqdm import tqdm

    tasks = audit_tasks(plan)
    by_id = {run_id_of(s.index, p, r): s for s in plan.settings for p in plan.points
             for r in range(plan.spec.replications)}
    backend = make_backend(workers, dask, _lost, len(tasks))
    rows = []
    start = time.perf_counter()
    with tqdm(total=len(tasks), unit="run", desc=f"audit {plan.spec.name}", file=sys.stderr,
              disable=None if progress is None else not progress, dynamic_ncols=True) as bar:
        for task, outcome in backend.map(run_one, tasks):
            rows.append(_row(plan, by_id[task.run_id], task, outcome))
            bar.update()
    runs = pd.DataFrame(rows).sort_values(["setting", "point", "rep"], ignore_index=True)
    return AuditResult(plan, runs, time.perf_counter() - start, backend.name)


def _row(plan: AuditPlan, s: Setting, task: RunTask, outcome: RunOutcome) -> dict[str, Any]:
    head = outcome.tables["runs"].iloc[0].to_dict()
    value = s.value if s.param is not None else None
    row = {"run_id": task.run_id, "setting": s.index, "parameter": s.param or BASE,
           "end": s.end, "value": value, "point": task.point, "rep": task.rep,
           "status": outcome.status, "error": outcome.error,
           "seed": head.get("seed", task.seed), "spawn_key": head.get("spawn_key", task.rep)}
    for name in plan.indicators:
        raw = head.get(name, math.nan) if outcome.status == "ok" else math.nan
        row[name] = float(raw) if isinstance(raw, int | float) else math.nan
    return row
