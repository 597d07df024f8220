"""Street-network replay cost relative to the grid (issue 18: at most 1.5x the grid's run).

Usage::

    .venv/bin/python benchmarks/street_bench.py [--case replay|large|both] [--days 30]
                                                [--hash] [--repeat N] [--json FILE]

Cases:

* ``replay`` — the ``replay_synthetic`` preset on its 1,681-node GraphML network, and the
  same preset on the grid's own streets (``data.streets_graphml = ""``);
* ``large`` — a synthetic 25,000-node network written deterministically into a temporary
  folder: a 158 x 158 lattice of intersections every 125 m, 15 % of the streets closed, the
  ordinary rows and columns one-way (alternating directions), every 10th row and column a
  two-way 50 km/h arterial, in a 160 x 160 city of 400,000 residents and 480 officers.

Each case prints build and run seconds of the grid and the street run and the ratio of the
runs; ``--hash`` adds a hash of each incident table (results must not change with speed-ups).
Timings on a shared machine are noisy: compare figures taken in the same minute.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LATTICE, SPACING_M = 158, 125.0
CLOSED_SHARE, ARTERIAL_EVERY = 0.15, 10
LARGE_CITY = {"city.width": 160, "city.height": 160, "city.cell_size_m": 125.0,
              "city.population": 400_000, "police.officers": 480, "city.community_cells": 16,
              "city.precincts_x": 4, "city.precincts_y": 4}


def lattice_graph(seed: int = 18) -> Any:
    """The large case's street network (a directed networkx graph, coordinates in metres)."""
    import networkx as nx

    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    for i in range(LATTICE):
        for j in range(LATTICE):
            g.add_node(f"n{i}_{j}", x=(i + 1) * SPACING_M, y=(j + 1) * SPACING_M)
    for i in range(LATTICE):
        for j in range(LATTICE):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < LATTICE and j + dj < LATTICE:
                    _add_street(g, rng, (i, j), (i + di, j + dj))
    return g


def _add_street(g: Any, rng: np.random.Generator, a: tuple[int, int],
                b: tuple[int, int]) -> None:
    """One block of street: closed, a two-way arterial or a one-way street."""
    if rng.random() < CLOSED_SHARE:
        return
    along_row = a[1] == b[1]  # x changes: the street runs along row a[1]
    line = a[1] if along_row else a[0]
    u, v = f"n{a[0]}_{a[1]}", f"n{b[0]}_{b[1]}"
    if line % ARTERIAL_EVERY == 0:
        g.add_edge(u, v, length=SPACING_M, speed_kph=50.0)
        g.add_edge(v, u, length=SPACING_M, speed_kph=50.0)
    elif line % 2 == 0:
        g.add_edge(u, v, length=SPACING_M, speed_kph=30.0)
    else:
        g.add_edge(v, u, length=SPACING_M, speed_kph=30.0)


def scenarios(case: str, folder: Path, days: int) -> tuple[Any, Any]:
    """The (grid, street) scenarios of a case."""
    from sim.scenario import load_scenario

    if case == "replay":
        street = load_scenario("replay_synthetic", {"run.days": days})
        grid = load_scenario("replay_synthetic", {"run.days": days, "data.streets_graphml": ""})
        return grid, street
    import networkx as nx

    path = folder / "lattice.graphml"
    if not path.exists():
        nx.write_graphml(lattice_graph(), path)
    base = dict(LARGE_CITY, **{"run.days": days})
    grid = load_scenario(None, base)
    street = load_scenario(None, dict(base, **{"data.streets_graphml": str(path),
                                               "data.coords": "xy"}))
    return grid, street


def timed(scenario: Any, days: int, want_hash: bool) -> dict:
    """Build and run one scenario; seconds, incidents and (optionally) the table's hash."""
    import warnings

    import pandas as pd

    from sim.api import build_model, collect

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(scenario)
    built = time.perf_counter()
    model.run_days(days, None)
    ran = time.perf_counter()
    row: dict[str, Any] = {"build_s": round(built - start, 2), "run_s": round(ran - built, 2)}
    if want_hash:
        table = collect(model).incidents
        row["incidents"] = len(table)
        row["hash"] = f"{int(pd.util.hash_pandas_object(table, index=True).sum()) & 2**64 - 1:016x}"
    return row


def bench(case: str, days: int, want_hash: bool, repeat: int = 1) -> dict:
    """Grid and street run of one case, side by side (alternating; medians of ``repeat``)."""
    with tempfile.TemporaryDirectory(prefix="street-bench-") as tmp:
        start = time.perf_counter()
        grid_s, street_s = scenarios(case, Path(tmp), days)
        prep = time.perf_counter() - start
        runs = [(timed(grid_s, days, want_hash), timed(street_s, days, want_hash))
                for _ in range(repeat)]
        grid, street = (_median([r[k] for r in runs]) for k in (0, 1))
    ratio = street["run_s"] / max(grid["run_s"], 1e-9)
    total = (street["build_s"] + street["run_s"]) / max(grid["build_s"] + grid["run_s"], 1e-9)
    print(f"{case:<7} network written in {prep:5.1f} s")
    for label, row in (("grid", grid), ("streets", street)):
        extra = f"  {row['incidents']:,} incidents  {row['hash']}" if want_hash else ""
        print(f"{case:<7} {label:<8} build {row['build_s']:6.2f} s  run {row['run_s']:6.2f} s"
              f"{extra}")
    print(f"{case:<7} streets / grid: run {ratio:.2f}x, build + run {total:.2f}x", flush=True)
    return {"case": case, "days": days, "grid": grid, "streets": street,
            "run_ratio": round(ratio, 2), "total_ratio": round(total, 2)}


def _median(rows: list[dict]) -> dict:
    """The first row with each timing replaced by its median over ``rows``."""
    out = dict(rows[0])
    for key in ("build_s", "run_s"):
        out[key] = round(statistics.median(r[key] for r in rows), 2)
    return out


def main() -> None:
    """Run the chosen cases."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=("replay", "large", "both"), default="both")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--hash", action="store_true", help="hash each run's incident table")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run grid and streets this many times, alternating; report medians")
    args = ap.parse_args()
    cases = ("replay", "large") if args.case == "both" else (args.case,)
    rows = [bench(c, args.days, args.hash, max(args.repeat, 1)) for c in cases]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
