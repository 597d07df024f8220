"""The real example city: the Chicago preset builds, runs and puts its posts where they are."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import build_model, collect
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "scenarios" / "data" / "chicago"


@pytest.fixture(scope="module")
def chicago():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the corner-joined pieces, dropped rows, horizon
        model = build_model(load_scenario("chicago"), days=1)
    return model


def test_the_shipped_files_agree_with_each_other() -> None:
    done = subprocess.run([sys.executable, str(DATA / "prepare.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_layout_has_the_real_districts_beats_and_mask(chicago) -> None:
    lay = chicago.layout
    assert lay.n_precincts == 22 and lay.n_beats == 274
    assert 0.2 < lay.mask.mean() < 0.8  # Chicago fills about half its bounding box
    assert lay.population[~lay.mask].sum() == 0 and lay.risk[~lay.mask].sum() == 0
    assert np.isclose(lay.population.sum(), chicago.config.city.population)


def test_stations_sit_at_their_published_coordinates(chicago) -> None:
    lay = chicago.layout
    posts = pd.read_csv(DATA / "posts.csv", dtype={"area": str})
    stations = posts[posts["kind"] == "station"]
    half_diagonal = lay.cell_size_m / np.sqrt(2)
    gx, gy = lay.frame.project(stations["lon"].to_numpy(), stations["lat"].to_numpy(),
                               "EPSG:4326")
    names = [str(a) for a in stations["area"]]
    cells = lay.station_cells[[lay.precinct_names.index(n) for n in names]]
    cx, cy = lay.xy(cells)
    centre_x = lay.frame.origin_x + (cx + 0.5) * lay.cell_size_m
    centre_y = lay.frame.origin_y + (cy + 0.5) * lay.cell_size_m
    dist = np.hypot(centre_x - gx, centre_y - gy)
    assert (dist <= half_diagonal + 1e-6).all()  # each in the cell of its coordinates


def test_one_day_replays_the_recorded_crimes(chicago) -> None:
    chicago.run_days(1)
    s = collect(chicago).summary
    assert 500 < s["calls_used"] < 900  # ~670 mapped crimes a day
    assert s["incidents_true"] == s["calls_used"]
    assert 2 < s["response_time_mean"] < 30


def test_posts_from_a_csv_table_land_on_the_same_cells(chicago) -> None:
    sc = load_scenario("chicago").with_overrides(
        {"geo.posts": str(DATA / "posts.csv"), "geo.crs": ""})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = build_model(sc, days=1).layout
    assert np.array_equal(other.station_cells, chicago.layout.station_cells)
    assert other.hq_cell == chicago.layout.hq_cell
