"""Generate the small synthetic calls-for-service data set and street network in scenarios/data.

The data are invented but shaped like real ones: an evening-peaked daily cycle, busier Fridays
and Saturdays, calls concentrated in a few hot spots around dense areas, a recorded priority mix
and status-quo response times; the street network is a 125 m grid of intersections cut by a
river with three bridges and crossed by a fast diagonal avenue. Coordinates are longitude /
latitude around a made-up origin. Re-running the script reproduces the files exactly
(fixed seed).

Usage: python scripts/make_synthetic_calls.py [--days 120] [--out scenarios/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

ORIGIN_LON, ORIGIN_LAT = 113.25, 23.10
CELL_M, N_CELLS = 125.0, 40
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(ORIGIN_LAT))


def to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres east/north of the origin to longitude/latitude."""
    return ORIGIN_LON + x / M_PER_DEG_LON, ORIGIN_LAT + y / M_PER_DEG_LAT


def calls(days: int, rng: np.random.Generator) -> pd.DataFrame:
    """Synthetic calls: daily and weekly cycle, hot spots, priorities, response times."""
    side = CELL_M * N_CELLS
    hourly = 1 + 0.6 * np.cos(2 * np.pi * (np.arange(24) - 20) / 24)
    weekly = np.array([0.95, 0.92, 0.95, 0.98, 1.1, 1.15, 0.95])  # Mon..Sun
    centres = rng.uniform(0.15 * side, 0.85 * side, (6, 2))
    start = pd.Timestamp("2025-03-03")  # a Monday
    rows = []
    for d in range(days):
        n = rng.poisson(150 * weekly[(start.weekday() + d) % 7])
        hour = rng.choice(24, size=n, p=hourly / hourly.sum())
        minute = hour * 60 + rng.uniform(0, 60, n)
        hot = rng.random(n) < 0.55
        k = rng.integers(0, len(centres), n)
        xy = np.where(hot[:, None], centres[k] + rng.normal(0, 120, (n, 2)),
                      rng.uniform(0, side, (n, 2)))
        rows.append(pd.DataFrame({"minute": d * 1440 + minute, "x": xy[:, 0], "y": xy[:, 1]}))
    df = pd.concat(rows, ignore_index=True).sort_values("minute", kind="stable")
    lon, lat = to_lonlat(df["x"].to_numpy(), df["y"].to_numpy())
    prio = rng.choice(["emergency", "urgent", "routine"], size=len(df), p=[0.15, 0.35, 0.5])
    response = np.round(rng.lognormal(np.log(11), 0.45, len(df)), 2)
    when = start + pd.to_timedelta(df["minute"].to_numpy(), unit="min")
    return pd.DataFrame({"timestamp": when.strftime("%Y-%m-%dT%H:%M:%S"),
                         "lon": np.round(lon, 6), "lat": np.round(lat, 6),
                         "priority": prio, "response_min": response})


def streets() -> nx.Graph:
    """Intersections every 125 m, a river at y = 2.5 km with three bridges, a fast avenue."""
    g = nx.Graph()
    n = N_CELLS + 1
    for i in range(n):
        for j in range(n):
            lon, lat = to_lonlat(np.array([i * CELL_M]), np.array([j * CELL_M]))
            g.add_node(f"n{i}_{j}", lon=float(lon[0]), lat=float(lat[0]))
    bridges = {5, 20, 34}
    for i in range(n):
        for j in range(n):
            if i + 1 < n:
                g.add_edge(f"n{i}_{j}", f"n{i + 1}_{j}", length=CELL_M, speed_kph=30.0)
            if j + 1 < n and not (j == 20 and i not in bridges):
                g.add_edge(f"n{i}_{j}", f"n{i}_{j + 1}", length=CELL_M, speed_kph=30.0)
    for k in range(n - 1):  # diagonal avenue, fast, crossing on its own bridge
        g.add_edge(f"n{k}_{k}", f"n{k + 1}_{k + 1}", length=CELL_M * np.sqrt(2),
                   speed_kph=50.0)
    return g


def main() -> None:
    """Write the two files."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] /
                    "scenarios" / "data")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20250303)
    calls(args.days, rng).to_csv(args.out / "synthetic_calls.csv", index=False)
    nx.write_graphml(streets(), args.out / "synthetic_streets.graphml")
    print(f"wrote {args.out}/synthetic_calls.csv and synthetic_streets.graphml")


if __name__ == "__main__":
    main()
