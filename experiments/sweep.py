"""Sweeps: every design point times every replication, run anywhere, streamed to a store.

Example (a script or a notebook)::

    from experiments.sweep import run_sweep

    result = run_sweep("experiments/strategy_comparison.toml", out="results/sc",
                       quick=True, workers=2)
    result.runs.groupby("strategy.name")["response_time_mean"].mean()

``run_sweep`` also takes a dict laid out like the TOML file, or a design DataFrame (one row
per point, one column per scenario key) with the other settings as keywords::

    design = pd.DataFrame({"police.officers": [80, 120, 160]})
    result = run_sweep(design, replications=5, days=30)

Seeds (common random numbers): replication ``r`` of every design point runs with
``SeedSequence(entropy=spec.seed, spawn_key=(r,))``, so all points see the same incidents in
replication ``r`` and can be compared in pairs. Each run records ``seed`` (the entropy) and
``spawn_key`` (``r``); :func:`replay_command` prints the ``grassroots run`` line that replays it.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import socket
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.execute import make_backend
from experiments.spec import SpecError, SweepSpec, load_spec
from experiments.store import Store, run_id
from sim import api as sim_api
from sim import indicators as registry
from sim.incident_table import IncidentTable
from sim.scenario import Scenario

RT_EDGES = np.geomspace(0.1, 1e5, 61)
RT_GROUPS = ("all", "emergency", "urgent", "routine")
KEY_COLUMNS = ("run_id", "point", "rep")
_SUMMARY_KEYS = registry.names("summary")
DECOMPOSITIONS: dict[str, tuple[str, ...]] = {
    "response_time_mean": ("response_chain_mean", "response_queue_mean",
                           "response_travel_mean"),
    **{f"{view}_mean": (f"{view}_start_mean",
                        *(k for k in _SUMMARY_KEYS if k.startswith(f"{view}_change_")))
       for view in ("satisfaction", "trust")},
}
"""Summary indicators that add up exactly, in every run, to a total: the parts of the mean
response time (command chain, queue, travel) and of the end means of satisfaction and trust
(the start mean plus the change by each channel). A sweep keeps the parts of every total it
keeps (:func:`stored_outputs`), so the report can say why two levels differ."""


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, as sent to a worker.

    Attributes:
        run_id: ``p<point>-r<rep>``.
        point: Design point.
        rep: Replication (the spawn key).
        scenario: The point's scenario.
        days: Simulated days.
        seed: Root entropy of the experiment.
        levels: The point's factor values as ``(key, value)`` pairs.
        outputs: Summary indicators to keep (None: all).
        daily: Keep the daily series (True), none (False) or the named columns.
    """

    run_id: str
    point: int
    rep: int
    scenario: Scenario
    days: int
    seed: int
    levels: tuple[tuple[str, Any], ...]
    outputs: tuple[str, ...] | None = None
    daily: bool | tuple[str, ...] = True

    def __str__(self) -> str:
        return self.run_id

    def keys(self) -> dict[str, Any]:
        """The columns that identify the run in every table."""
        return {"run_id": self.run_id, "point": self.point, "rep": self.rep,
                **dict(self.levels)}


@dataclass
class RunOutcome:
    """What a worker sends back: status and the run's rows of every table."""

    run_id: str
    status: str
    error: str | None
    tables: dict[str, pd.DataFrame]


@dataclass
class SweepResult:
    """The tables of a sweep (tidy: one row per run, per run-day, per run-community...).

    Attributes:
        spec: The sweep.
        runs: One row per run: keys, factor levels, ``status``, ``error``, ``seed``,
            ``spawn_key`` and every summary indicator.
        daily: One row per run and day.
        communities: One row per run and community.
        rt_hist: Response-time histogram per run and priority (log-spaced bins, minutes).
        timing: Wall time and worker of every run (not part of the results proper).
        path: The store folder (None when the sweep ran into a temporary one).
        n_executed: Runs executed by this call (a resumed sweep skips finished runs).
        elapsed_s: Wall time of this call.
    """

    spec: SweepSpec
    runs: pd.DataFrame
    daily: pd.DataFrame
    communities: pd.DataFrame
    rt_hist: pd.DataFrame
    timing: pd.DataFrame = field(default_factory=pd.DataFrame)
    path: Path | None = None
    n_executed: int = 0
    elapsed_s: float = math.nan

    @property
    def failed(self) -> pd.DataFrame:
        """The runs that failed (with their ``error``)."""
        if self.runs.empty:
            return self.runs
        return self.runs[self.runs["status"] != "ok"]

    @property
    def n_failed(self) -> int:
        """Number of failed runs."""
        return len(self.failed)

    @property
    def runs_per_minute(self) -> float:
        """Runs executed by this call per minute of wall time."""
        return 60.0 * self.n_executed / self.elapsed_s if self.elapsed_s > 0 else math.nan


# -- the worker ---------------------------------------------------------------------------
def make_tasks(spec: SweepSpec) -> list[RunTask]:
    """Every run of a sweep, in (point, replication) order."""
    tasks = []
    for point in range(spec.n_points):
        scenario = spec.scenario_for(point)
        levels = tuple(spec.overrides(point).items())
        tasks += [RunTask(run_id(point, rep), point, rep, scenario, spec.days, spec.seed,
                          levels, stored_outputs(spec.outputs), spec.daily)
                  for rep in range(spec.replications)]
    return tasks


def stored_outputs(outputs: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The summary indicators a sweep keeps: ``outputs`` and the parts of any total in it.

    Args:
        outputs: The spec's ``outputs`` (None: every summary key, the parts included).

    Returns:
        ``outputs`` followed by the :data:`DECOMPOSITIONS` parts of the totals it names.
    """
    if outputs is None:
        return None
    keep = list(outputs)
    for total, parts in DECOMPOSITIONS.items():
        if total in outputs:
            keep += [p for p in parts if p not in keep]
    return tuple(keep)


def run_one(task: RunTask) -> RunOutcome:
    """Run one task and build its rows; an exception becomes a ``failed`` row.

    Args:
        task: The run.

    Returns:
        The outcome, with the ``runs`` row and the other tables of the run.
    """
    start = time.perf_counter()
    try:
        seed = np.random.SeedSequence(entropy=task.seed, spawn_key=(task.rep,))
        result = sim_api.run(task.scenario, seed=seed, days=task.days)
        tables = run_tables(task, result)
        outcome = RunOutcome(task.run_id, "ok", None, tables)
    except Exception as exc:
        outcome = failed_outcome(task, exc, traceback.format_exc(limit=-6))
    outcome.tables["timing"] = pd.DataFrame([{
        "run_id": task.run_id, "elapsed_s": time.perf_counter() - start,
        "worker": f"{socket.gethostname()}:{os.getpid()}"}])
    return outcome


def failed_outcome(task: RunTask, exc: BaseException, trace: str = "") -> RunOutcome:
    """The outcome of a run that raised (or whose worker died)."""
    from experiments.execute import describe_error

    error = describe_error(exc)
    row = {**_run_head(task, "failed", error), "traceback": trace or error}
    return RunOutcome(task.run_id, "failed", error, {"runs": pd.DataFrame([row])})


def _worker_lost(task: RunTask, exc: BaseException) -> RunOutcome:
    outcome = failed_outcome(task, exc, f"the worker did not return a result: {exc!r}")
    outcome.tables["timing"] = pd.DataFrame([{"run_id": task.run_id, "elapsed_s": math.nan,
                                              "worker": "lost"}])
    return outcome


def _run_head(task: RunTask, status: str, error: str | None) -> dict[str, Any]:
    head = {"run_id": task.run_id, "point": task.point, "rep": task.rep, "status": status,
            "error": error, "seed": task.seed, "spawn_key": task.rep}
    head.update(dict(task.levels))
    return head


def run_tables(task: RunTask, result: sim_api.RunResult) -> dict[str, pd.DataFrame]:
    """The rows one successful run adds to each table of the store."""
    summary = dict(result.summary)
    if summary.get("seed") != task.seed or list(summary.get("spawn_key", [])) != [task.rep]:
        raise RuntimeError(f"seed mismatch: the model recorded {summary.get('seed')}/"
                           f"{summary.get('spawn_key')}, the sweep sent {task.seed}/{task.rep}")
    indicators = {k: _scalar(v) for k, v in summary.items() if k not in ("seed", "spawn_key")}
    if task.outputs is not None:
        indicators = {k: indicators.get(k, math.nan) for k in task.outputs}
    runs = pd.DataFrame([{**_run_head(task, "ok", None), "traceback": None, **indicators}])
    tables = {"runs": runs, "communities": _with_keys(task, result.communities),
              "rt_hist": _with_keys(task, rt_histogram(result.incident_table))}
    if task.daily is not False:
        daily = result.daily
        if task.daily is not True:
            daily = daily[["day", *[c for c in task.daily if c in daily.columns]]]
        tables["daily"] = _with_keys(task, daily)
    return tables


def _scalar(value: Any) -> Any:
    """Summary values as Parquet-friendly scalars (lists and dicts become JSON text)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str)
    return value


def _with_keys(task: RunTask, frame: pd.DataFrame) -> pd.DataFrame:
    keys = pd.DataFrame({k: [v] * len(frame) for k, v in task.keys().items()})
    return pd.concat([keys, frame.reset_index(drop=True)], axis=1)


def rt_histogram(incidents: pd.DataFrame | IncidentTable) -> pd.DataFrame:
    """Counts of response times (minutes) in log-spaced bins, overall and per priority.

    Args:
        incidents: A run's incident table (an :class:`~sim.incident_table.IncidentTable` is
            read part by part, three columns at a time, never assembled).

    Returns:
        Rows ``priority, priority_order, bin, lo, hi, count`` (values outside the bins are
        counted in the first or last bin).
    """
    n_bins = len(RT_EDGES) - 1
    counts = np.zeros((len(RT_GROUPS), n_bins), dtype=np.int64)
    batches = incidents.batches(["t_arrive", "response_time", "priority"]) \
        if isinstance(incidents, IncidentTable) else [incidents]
    for batch in batches:
        arrived = batch[batch["t_arrive"].notna()]
        rt = arrived["response_time"].to_numpy(dtype=float)
        prio = arrived["priority"].astype(str).to_numpy()
        clipped = np.clip(rt, RT_EDGES[0], RT_EDGES[-1])
        for order, group in enumerate(RT_GROUPS):
            values = clipped if group == "all" else clipped[prio == group]
            counts[order] += np.histogram(values, bins=RT_EDGES)[0]
    frames = [pd.DataFrame({
        "priority": group, "priority_order": order, "bin": np.arange(n_bins),
        "lo": RT_EDGES[:-1], "hi": RT_EDGES[1:], "count": counts[order]})
        for order, group in enumerate(RT_GROUPS)]
    return pd.concat(frames, ignore_index=True)


# -- the sweep ----------------------------------------------------------------------------
def run_sweep(spec: str | Path | dict[str, Any] | pd.DataFrame | SweepSpec,
              out: str | Path | None = None, workers: int | None = None, dask: Any = None,
              resume: bool = False, force: bool = False, progress: bool | None = None,
              quick: bool = False, **overrides: Any) -> SweepResult:
    """Run a sweep and return its tables.

    Args:
        spec: A spec file, a dict laid out like one, a design DataFrame, or a loaded spec.
        out: Store folder (None: a temporary folder, removed afterwards).
        workers: Local worker processes (None: one per core; 1: serial, in this process).
        dask: A Dask scheduler address, ``"local"``, a ``distributed.Client`` or a cluster.
        resume: Continue the sweep stored in ``out``, running only what is missing.
        force: Replace whatever sweep ``out`` holds.
        progress: Progress bar on stderr (None: only when stderr is a terminal).
        quick: Apply the spec's ``[quick]`` settings.
        **overrides: Spec entries to replace (``days=5``, ``replications=2``, ``set={...}``).

    Returns:
        The sweep's tables; runs that failed are rows with ``status == "failed"``.

    Raises:
        SpecError: If the spec is invalid (nothing has run).
        StoreError: If ``out`` cannot take this sweep.
    """
    sweep = spec if isinstance(spec, SweepSpec) else load_spec(spec, quick=quick, **overrides)
    check_outputs(sweep)
    temporary = out is None
    path = Path(tempfile.mkdtemp(prefix="grassroots-sweep-")) if temporary else Path(out)
    try:
        store = Store.open(path, sweep, resume=resume, force=force)
        done = store.done_ids()
        tasks = [t for t in make_tasks(sweep) if t.run_id not in done]
        start = time.perf_counter()
        execute(store, tasks, workers, dask, progress, total=sweep.n_runs, initial=len(done),
                desc=sweep.name)
        result = load_results(store, sweep)
        result.n_executed, result.elapsed_s = len(tasks), time.perf_counter() - start
    finally:
        if temporary:
            shutil.rmtree(path, ignore_errors=True)
    result.path = None if temporary else path
    return result


def execute(store: Store, tasks: list[RunTask], workers: int | None, dask: Any,
            progress: bool | None, total: int, initial: int = 0, desc: str = "sweep") -> int:
    """Run tasks on the chosen backend, writing each run to the store as it finishes.

    Returns:
        The number of runs that failed.
    """
    from tqdm import tqdm

    backend = make_backend(workers, dask, _worker_lost, len(tasks))
    failed = 0
    with tqdm(total=total, initial=initial, unit="run", desc=desc, file=sys.stderr,
              disable=None if progress is None else not progress, dynamic_ncols=True) as bar:
        for task, outcome in backend.map(run_one, tasks):
            store.write_run(task.run_id, outcome.tables)
            if outcome.status != "ok":
                failed += 1
                bar.set_postfix(failed=failed)
            bar.update()
    return failed


def backend_name(workers: int | None, dask: Any, n_tasks: int) -> str:
    """What :func:`run_sweep` will run on, in words."""
    return make_backend(workers, dask, _worker_lost, n_tasks).name


def load_results(store: Store | str | Path, spec: SweepSpec | None = None) -> SweepResult:
    """Read a store's tables (a finished, partial or running sweep).

    Args:
        store: The store or its folder.
        spec: The sweep (read from the store if not given).

    Returns:
        The tables, sorted by (point, replication).
    """
    store = store if isinstance(store, Store) else Store(store)
    store.manifest()
    spec = spec if spec is not None else store.spec()
    tables = store.read_all(("runs", "daily", "communities", "rt_hist", "timing"))
    return SweepResult(spec, tables["runs"], tables["daily"], tables["communities"],
                       tables["rt_hist"], tables["timing"], path=store.path)


def check_outputs(spec: SweepSpec) -> None:
    """Check the names in ``outputs`` and ``daily`` against the indicator registry.

    The names are those :mod:`sim.indicators` declares for the summary and the daily table
    (no model is run). A declared indicator a run does not produce (e.g. ``calls_read``
    without recorded calls) is recorded as NaN.

    Raises:
        SpecError: Naming the first unknown indicator or daily column.
    """
    summary_keys = registry.names("summary")
    daily_keys = registry.names("daily")
    for name in spec.outputs or ():
        if name not in summary_keys:
            raise SpecError(f"outputs: unknown indicator {name!r} "
                            f"(known: {', '.join(sorted(summary_keys))})")
    for name in spec.daily if not isinstance(spec.daily, bool) else ():
        if name not in daily_keys:
            raise SpecError(f"daily: unknown daily column {name!r} "
                            f"(known: {', '.join(sorted(daily_keys))})")


def replay_command(store_path: str | Path, spec: SweepSpec, point: int, rep: int) -> str:
    """The ``grassroots run`` command that replays one run of a stored sweep alone.

    Args:
        store_path: The store folder (its ``base.toml`` holds the base, days and seed).
        spec: The sweep.
        point: Design point.
        rep: Replication (the spawn key).

    Returns:
        A shell command line.
    """
    args = ["grassroots", "run", str(Path(store_path) / "base.toml"), "--spawn-key", str(rep)]
    for key, value in spec.overrides(point).items():
        args += ["--set", f"{key}={_toml_value(value)}"]
    return shlex.join(args)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)
