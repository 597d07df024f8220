"""Sweep throughput: runs per minute with 1 and 2 workers (target speed-up >= 1.8x).

Usage::

    .venv/bin/python benchmarks/sweep_bench.py [--runs 16] [--days 120] [--dask] [--json F]

The sweep is ``--runs`` replications of the default city (centralized strategy) for ``--days``
days. One worker runs in this process; two workers are a spawned process pool, whose
start-up (importing the model in each worker) is part of the measured time. ``--dask`` adds a
two-worker Dask LocalCluster (processes). The three backends must give identical tables.

Besides runs/min and the speed-up, each backend's mean time per run is printed: the ratio
``2 x mean run (1 worker) / mean run (2 workers)`` is the speed-up the cores allow (below 2
when the workers contend for memory or the machine is busy), and ``start-up`` is the wall
time a fresh two-worker pool takes to run one empty task in each worker: the import of the
model in each worker, paid once per sweep.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.execute import PoolBackend
from experiments.sweep import SweepResult, run_sweep, stored_outputs

TARGET = 1.8


def spec(runs: int, days: int) -> dict:
    """The benchmark sweep: one design point, ``runs`` replications."""
    return {"name": "bench", "base": "default", "replications": runs, "days": days,
            "factors": {"strategy.name": ["centralized"]}}


def timed(label: str, runs: int, days: int, **backend: object) -> tuple[dict, SweepResult]:
    """Run the sweep once into a fresh folder; return its figures and result."""
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        start = time.perf_counter()
        result = run_sweep(spec(runs, days), out=Path(tmp) / "s", progress=False, **backend)
        wall = time.perf_counter() - start
    per_run = result.timing["elapsed_s"].mean()
    row = {"backend": label, "runs": runs, "days": days, "wall_s": round(wall, 2),
           "runs_per_min": round(60 * runs / wall, 1), "mean_run_s": round(per_run, 2),
           "failed": result.n_failed}
    print(f"{label:<22} {wall:7.1f} s  {row['runs_per_min']:7.1f} runs/min  "
          f"(mean run {per_run:.2f} s, {result.n_failed} failed)", flush=True)
    return row, result


def pool_startup(workers: int = 2) -> float:
    """Wall seconds for a fresh pool to run one empty task per worker (each imports the model)."""
    start = time.perf_counter()
    list(PoolBackend(workers, lambda task, exc: exc).map(stored_outputs, [None] * workers))
    return time.perf_counter() - start


def identical(a: SweepResult, b: SweepResult) -> bool:
    """Whether two sweeps produced the same tables."""
    try:
        for table in ("runs", "daily", "communities", "rt_hist"):
            pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    except AssertionError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--dask", action="store_true", help="Also time a Dask LocalCluster.")
    parser.add_argument("--json", type=Path, help="Write the results here.")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"sweep benchmark: {args.runs} runs x {args.days} days, default city, "
          f"{os.cpu_count()} cores, load average {load:.2f}", flush=True)
    if load > 0.5:
        print("warning: the machine is busy; the speed-up measures the share of the cores "
              "this benchmark got, not the pool", flush=True)
    one, r1 = timed("1 worker (in process)", args.runs, args.days, workers=1)
    two, r2 = timed("2 workers (pool)", args.runs, args.days, workers=2)
    rows = [one, two]
    same = identical(r1, r2)
    if args.dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            three, r3 = timed("2 workers (dask)", args.runs, args.days, dask=client)
        rows.append(three)
        same = same and identical(r1, r3)
    startup = pool_startup()
    print(f"pool start-up (2 fresh workers, one empty task each): {startup:.2f} s")
    for row in rows[1:]:
        row["speedup"] = round(row["runs_per_min"] / one["runs_per_min"], 2)
        row["cores_allow"] = round(2 * one["mean_run_s"] / row["mean_run_s"], 2)
        verdict = "meets" if row["speedup"] >= TARGET else "misses"
        print(f"speed-up 1 -> {row['backend']}: {row['speedup']:.2f}x runs/min "
              f"({verdict} the target >= {TARGET}x; the per-run times allow "
              f"{row['cores_allow']:.2f}x)")
    print(f"tables identical across backends: {'YES' if same else 'NO (a defect)'}")
    speedup = rows[1]["speedup"]
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "speedup_1_to_2": speedup,
                                         "pool_startup_s": round(startup, 2),
                                         "identical": same, "load_average": load},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
